import { test } from '@playwright/test';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { cpuSeconds, record, round, serverPid, type Row } from '../support/bench';
import { admin, createTenant } from '../support/mail-server';

// Sealing a large attachment on the server: the real `sealpost serve` (release build, SQLite, the
// blob directory) takes a draft's attachment window by window over loopback, as `sealpost send
// --attach` sends it, and seals each window as it arrives. Measured in one run, side by side: the
// server's peak resident memory above what it held before, for 128 MiB and for 1 GiB (flat
// memory: the two peaks about equal, their ratio about 1), and the throughput for 1 GiB.

const MIB = 1024 * 1024;
const SIZES = [128 * MIB, Number(process.env.SEALPOST_BENCH_UPLOAD_MIB ?? 1024) * MIB];

function rss(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return line ? Number(line.split(/\s+/)[1]) * 1024 : 0;
}

/** Upload `size` bytes (a fixed pseudo-random window, its first bytes varied per window) to a new
 * draft; returns the peak extra RSS, the seconds taken and the server's CPU seconds. The draft is
 * deleted afterwards, with what was stored for it. */
async function upload(t: ReturnType<typeof createTenant>, pid: number, size: number) {
  const draft = await admin(t, 'POST', '/drafts', { from: `anna@${t.domain}` });
  if (draft.status !== 201) throw new Error(`draft ${draft.status}: ${JSON.stringify(draft.body)}`);
  const id: string = draft.body.id;
  const window: number = draft.body.window_size;
  const declared = await admin(t, 'POST', `/drafts/${id}/attachments`, { name: 'large.bin', size });
  if (declared.status !== 201) throw new Error(`declare ${declared.status}: ${JSON.stringify(declared.body)}`);
  const base = crypto.randomBytes(window);
  const before = rss(pid);
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, rss(pid)); }, 20);
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  for (let start = 0; start < size; start += window) {
    const len = Math.min(window, size - start);
    const body = base.subarray(0, len);
    body.writeUInt32BE(start / window, 0);
    const res = await fetch(`${t.url}/api/admin/drafts/${id}/attachments/0`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${t.token}`,
        'content-type': 'application/octet-stream',
        'content-range': `bytes ${start}-${start + len - 1}/${size}`,
      },
      body,
    });
    if (res.status !== 200) throw new Error(`window at ${start}: ${res.status} ${await res.text()}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  clearInterval(sampler);
  peak = Math.max(peak, rss(pid));
  const removed = await admin(t, 'DELETE', `/drafts/${id}`);
  if (removed.status !== 204) throw new Error(`delete ${removed.status}`);
  return { extra: peak - before, seconds, cpu, window };
}

/** The same attachment inside one JSON send (base64), as before drafts: the peak extra RSS. */
async function inline(t: ReturnType<typeof createTenant>, pid: number, size: number) {
  const body = JSON.stringify({
    from: `anna@${t.domain}`, to: ['bench@example.net'], subject: 'Inline', text: 'Attached.',
    attachments: [{ name: 'inline.bin', content_base64: crypto.randomBytes(size).toString('base64') }],
  });
  const before = rss(pid);
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, rss(pid)); }, 20);
  const res = await fetch(`${t.url}/api/admin/messages`, {
    method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' }, body,
  });
  clearInterval(sampler);
  peak = Math.max(peak, rss(pid));
  if (res.status !== 201) throw new Error(`inline send ${res.status}: ${await res.text()}`);
  return peak - before;
}

test('a large attachment sealed as it arrives, with flat server memory', async () => {
  const t = createTenant('Upload');
  const pid = serverPid();
  // A first, small upload warms the allocator and the database, so neither measured run pays that.
  await upload(t, pid, 16 * MIB);
  const [small, large] = [await upload(t, pid, SIZES[0]), await upload(t, pid, SIZES[1])];
  const inlined = await inline(t, pid, 20 * MIB);
  const mib = (b: number) => round(b / MIB, 1);
  const group = `upload, ${SIZES[1] / MIB} MiB attachment`;
  const rows: Row[] = [
    { group, name: 'sealed and stored per second', value: round(SIZES[1] / MIB / large.seconds, 0), unit: 'MiB/s', detail: `${round(large.seconds, 1)} s over loopback in ${large.window / MIB} MiB windows, one at a time; the server used ${round(large.cpu, 1)} CPU seconds` },
    { group, name: 'server peak memory above idle', value: mib(large.extra), unit: 'MiB', detail: `VmRSS sampled every 20 ms; ${mib(small.extra)} MiB for ${SIZES[0] / MIB} MiB in the same run`, budget: 'flat (aim: about one window per upload)', meets: large.extra <= 4 * large.window + 64 * MIB },
    { group, name: 'for comparison: 20 MiB inside one JSON send, peak above idle', value: mib(inlined), unit: 'MiB', detail: 'base64 in the body, decoded, sealed, all in memory at once (the only way before drafts; capped by max_message_size)' },
    { group, name: `ratio of peaks, ${SIZES[1] / MIB} MiB to ${SIZES[0] / MIB} MiB`, value: round(large.extra / Math.max(small.extra, 1), 2), unit: '×', detail: 'about 1 when memory does not grow with the size' },
  ];
  record('upload', rows);
});
