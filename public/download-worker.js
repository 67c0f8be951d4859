// Saves a decrypted attachment straight to disk, window by window, in browsers without the File
// System Access API (Firefox, Safari): the portal page decrypts, this worker answers a same-origin
// download URL (/dl/<id>, the only scope it is registered for) with a stream that pulls each
// window from the page as the browser writes the one before. Nothing is kept here but the
// window in flight, and nothing of it is ever stored. The page registers it; it holds no state
// beyond the downloads under way.

const pending = new Map();

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// The page announces a download: its id, file name, size, and the port its windows come through.
// While one runs, the page also says `keepalive` every 10 seconds: a browser stops an idle worker
// (after 30 seconds, or a few minutes), and a stream's messages do not count as activity.
self.addEventListener('message', (event) => {
  const { type, id, name, size } = event.data ?? {};
  if (type === 'keepalive') {
    event.waitUntil(new Promise((resolve) => setTimeout(resolve, 15_000)));
    return;
  }
  const port = event.ports[0];
  if (type !== 'download' || typeof id !== 'string' || !port) return;
  pending.set(id, { name: String(name), size: Number(size), port });
  // Forget it if the browser never asks for it.
  setTimeout(() => pending.delete(id), 60_000);
  port.postMessage({ ready: true });
});

function disposition(name) {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith('/dl/')) return;
  const id = url.pathname.slice(4);
  const download = pending.get(id);
  if (!download) return; // not ours (or already taken): the server answers
  pending.delete(id);
  const { port } = download;
  const stream = new ReadableStream({
    pull(controller) {
      return new Promise((resolve) => {
        port.onmessage = (e) => {
          const m = e.data ?? {};
          if (m.chunks) for (const c of m.chunks) controller.enqueue(new Uint8Array(c));
          else if (m.done) controller.close();
          else controller.error(new Error(m.error ?? 'stopped'));
          resolve();
        };
        port.postMessage({ pull: true });
      });
    },
    cancel() {
      // The person cancelled the download in the browser: the page stops decrypting.
      port.postMessage({ cancel: true });
    },
  });
  event.respondWith(new Response(stream, {
    headers: {
      'content-type': 'application/octet-stream',
      'content-disposition': disposition(download.name),
      'content-length': String(download.size),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
  }));
});
