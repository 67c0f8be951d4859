import { test, expect } from '@playwright/test';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, type Engine } from '../support/webdriver';
import { admin, address, createTenant, noticeLink, passcode, send } from '../support/mail-server';
import { sampleBytes } from '../support/samples';

// The recipient's core journeys in Firefox ESR (geckodriver) and in WebKit, Safari's engine
// (WebKitGTK's MiniBrowser through WebKitWebDriver), over WebDriver; the Playwright project names
// the engine. Against the same `sealpost serve` and maildev as the Chromium journeys: passcode
// sign-in, reading with attachments (decrypted by the engine's WebCrypto from WebAssembly, a
// multi-window one checked byte for byte), Do Not Forward, a revocation reaching an open page, and
// a large attachment streamed to disk by the download worker (neither engine has the File System
// Access API, so that fallback is what they run). Each test starts its own browser and stops it.

let ff: Browser;
// This test's own browser, once started (a failed start leaves nothing to close).
let started: Browser | undefined;
test.beforeEach(async ({}, info) => {
  started = undefined;
  ff = started = await Browser.start(info.project.name as Engine);
});
test.afterEach(async () => { await started?.close(); started = undefined; });

async function signIn(link: string, to: string): Promise<void> {
  await ff.goto(link);
  await ff.click('send-passcode');
  const reference = (await ff.text('reference')).trim();
  await ff.type('passcode', await passcode(to, reference));
  await ff.click('sign-in');
  await ff.byTestId('letter');
}

// A 1×1 PNG.
const DOT_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';


test('sign in with a passcode and read a message with attachments, byte for byte', async () => {
  const t = createTenant('Fabrikam');
  const bob = address('bob');
  // Three 4 MiB windows of the portal's ranged reading (below the 16 MiB it keeps in memory), so
  // the WebCrypto pipeline runs in this engine too.
  const bytes = sampleBytes(9_000_000);
  const id = await send(t, {
    to: [bob],
    subject: 'Q4 figures',
    text: 'The figures are attached.',
    attachments: [
      { name: 'figures.bin', content_type: 'application/octet-stream', content_base64: bytes.toString('base64') },
      { name: 'notes.txt', content_type: 'text/plain', content_base64: Buffer.from('line one\nline two\n').toString('base64') },
      { name: 'dot.png', content_type: 'image/png', content_base64: DOT_PNG },
    ],
    rights_template: 'Encrypt',
  });
  await signIn(await noticeLink(bob, id), bob);
  expect(await ff.text('subject')).toBe('Q4 figures');
  expect(await ff.text('from')).toBe(`alex@${t.domain}`);
  expect(await ff.text('body')).toBe('The figures are attached.');

  // The text attachment shown in the page.
  const notes = '[data-testid=attachment]:nth-of-type(2)';
  expect(await ff.run<string>(`return document.querySelector('${notes} [data-testid=attachment-name]').textContent;`)).toBe('notes.txt');
  await ff.click('attachment-view', notes);
  await ff.byTestId('attachment-preview', notes);
  expect(await ff.run<string>(`return document.querySelector('${notes} [data-testid=attachment-preview]').textContent;`))
    .toBe('line one\nline two\n');

  // The image shown in the page from a blob: URL (the CSP's img-src allows blob:).
  const dot = '[data-testid=attachment]:nth-of-type(3)';
  await ff.click('attachment-view', dot);
  await ff.waitFor(`document.querySelector('${dot} img[data-testid=attachment-preview]')?.naturalWidth === 1`, 'the image preview');

  // The download: the page makes a blob: URL of the decrypted Blob and saves it through an anchor.
  // Keep the Blob and the name (the page's CSP forbids fetching blob: URLs) and hash its bytes.
  await ff.run(`
    window.saved = new Promise((resolve) => {
      let blob;
      const create = URL.createObjectURL;
      URL.createObjectURL = function (b) { blob = b; URL.createObjectURL = create; return create.call(URL, b); };
      const click = HTMLAnchorElement.prototype.click;
      HTMLAnchorElement.prototype.click = function () {
        HTMLAnchorElement.prototype.click = click;
        resolve({ blob, name: this.download });
      };
    });`);
  await ff.click('attachment-download', '[data-testid=attachment]:nth-of-type(1)');
  const saved = await ff.run<{ name: string; size: number; sha256: string }>(`
    const { blob, name } = await window.saved;
    const data = await blob.arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
    return { name, size: data.byteLength, sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') };`);
  expect(saved.name).toBe('figures.bin');
  expect(saved.size).toBe(bytes.length);
  expect(saved.sha256).toBe(crypto.createHash('sha256').update(bytes).digest('hex'));
});

test('Do Not Forward shows no forward, print or download', async () => {
  const t = createTenant('Fabrikam');
  const bob = address('bob');
  const id = await send(t, {
    to: [bob],
    subject: 'Board minutes',
    text: 'Confidential minutes',
    attachments: [{ name: 'minutes.txt', content_type: 'text/plain', content_base64: Buffer.from('minutes').toString('base64') }],
    rights_template: 'Do Not Forward',
  });
  await signIn(await noticeLink(bob, id), bob);
  await ff.byTestId('restricted');
  await ff.byTestId('reply');
  for (const hidden of ['forward', 'print', 'attachment-download']) {
    expect(await ff.count(hidden), hidden).toBe(0);
  }
  await ff.click('attachment-view');
  expect(await ff.text('attachment-preview')).toBe('minutes');
});

test('revoking while the page is open removes the message within 30 seconds', async () => {
  test.setTimeout(90_000);
  const t = createTenant('Fabrikam');
  const bob = address('bob');
  const id = await send(t, { to: [bob], subject: 'Soon revoked', text: 'Secret figures' });
  await signIn(await noticeLink(bob, id), bob);
  expect(await ff.text('body')).toBe('Secret figures');
  expect((await admin(t, 'POST', `/messages/${id}/revoke`)).status).toBe(200);
  await ff.waitFor(`document.querySelector('[data-testid=stopped]')`, 'the revoked page', 30_000);
  expect(await ff.text('error-code')).toBe('message_revoked');
  expect(await ff.run<boolean>(`return document.body.textContent.includes('Secret figures');`)).toBe(false);
  expect(await ff.count('letter')).toBe(0);
});

test('a large attachment streams to disk through the download worker, byte for byte', async () => {
  const t = createTenant('Contoso');
  const bob = address('bob');
  const bytes = sampleBytes(20 * 1024 * 1024 + 777);
  // Sent through a draft, window by window, as `sealpost send --attach` sends a large file.
  const draft = await admin(t, 'POST', '/drafts', { from: `alex@${t.domain}` });
  expect(draft.status).toBe(201);
  const { id, window_size: window } = draft.body as { id: string; window_size: number };
  expect((await admin(t, 'POST', `/drafts/${id}/attachments`, { name: 'survey.bin', size: bytes.length })).status).toBe(201);
  for (let start = 0; start < bytes.length; start += window) {
    const chunk = bytes.subarray(start, Math.min(start + window, bytes.length));
    const res = await fetch(`${t.url}/api/admin/drafts/${id}/attachments/0`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${t.token}`, 'content-range': `bytes ${start}-${start + chunk.length - 1}/${bytes.length}` },
      body: chunk,
    });
    expect(res.status).toBe(200);
  }
  const sent = await admin(t, 'POST', `/drafts/${id}/send`, { from: `alex@${t.domain}`, to: [bob], subject: 'Survey', text: 'Attached.' });
  expect(sent.status).toBe(201);
  await signIn(await noticeLink(bob, id), bob);
  // Neither Firefox nor WebKit has the File System Access API: the portal's worker answers a
  // download URL with a stream of the decrypted windows, and the browser writes it to its
  // download directory.
  expect(await ff.run<boolean>('return typeof window.showSaveFilePicker === "undefined";')).toBe(true);
  await ff.click('attachment-download');
  const file = path.join(ff.downloads, 'survey.bin');
  // Firefox writes `.part` until it is done; WebKit writes the file itself in order.
  await expect.poll(() => fs.existsSync(file) && !fs.existsSync(`${file}.part`) && fs.statSync(file).size, {
    message: 'the download is finished', timeout: 60_000,
  }).toBe(bytes.length);
  expect(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'))
    .toBe(crypto.createHash('sha256').update(bytes).digest('hex'));
  // Through the download worker (registered for /dl/ only), not through memory.
  expect(await ff.run<string[]>(`return (await navigator.serviceWorker.getRegistrations())
    .map((r) => new URL(r.scope).pathname);`)).toEqual(['/dl/']);
});
