import { test, expect, type Browser, type Page } from '@playwright/test';
import * as os from 'node:os';
import * as path from 'node:path';
import { peakMemory, record, round, stats, staticServer, type Row } from '../support/bench';

// Decryption in the browser: the benchmark page (app/bench.html, the portal's own opening code
// built with the portal's profile) opens sealed parts window by window into a Blob, with WebCrypto
// doing each chunk's AES-GCM and with the pure-Rust fallback; in the same page, raw WebCrypto
// AES-256-GCM decrypts the same plaintext in one call and in 16 KiB chunks. Sealing happens in
// another page, so the measured page's WebAssembly memory starts small, as the portal's does.

const MiB = 1 << 20;
const RUNS = Number(process.env.SEALPOST_BENCH_RUNS ?? 5);
const SIZES = [1, 16, 64].map((m) => m * MiB);
const MEMORY_SIZES = [64 * MiB, 100 * MiB];
const dist = process.env.SEALPOST_BENCH_DIST ?? path.join(os.homedir(), '.cache/sealpost/bench-dist');

declare global {
  interface Window {
    sealpostBench: {
      seal(bytes: number): { key: string; sealed: Uint8Array };
      open(key: string, sealed: Uint8Array, bytes: number, how: string): Promise<{ ms: number; blob?: Blob }>;
    };
    sealed: Uint8Array;
    kept: Blob[];
  }
}

const label = (bytes: number) => (bytes < MiB ? `${Math.round(bytes / 1024)} KiB` : `${bytes / MiB} MiB`);

async function benchPage(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => { throw e; });
  await page.goto(url);
  await page.waitForFunction(() => window.sealpostBench !== undefined);
  return page;
}

let uploads = 0;

/** Seal `bytes` in a page of its own and leave the sealed part on the server; returns its name and key. */
async function sealOnServer(browser: Browser, url: string, bytes: number): Promise<{ name: string; key: string }> {
  const page = await benchPage(browser, url);
  const name = `${bytes}-${++uploads}`;
  const key = await page.evaluate(async ({ n, name }) => {
    const { key, sealed } = window.sealpostBench.seal(n);
    for (let at = 0; at < sealed.length; at += 8 << 20) {
      const put = await fetch(`/blob/${name}`, { method: 'PUT', body: sealed.subarray(at, at + (8 << 20)) });
      if (!put.ok) throw new Error(`upload ${put.status}`);
    }
    return key;
  }, { n: bytes, name });
  await page.context().close();
  return { name, key };
}

/** A fresh page holding the sealed part in JavaScript memory, as the network would deliver it. */
async function pageWithSealed(browser: Browser, url: string, name: string): Promise<Page> {
  const page = await benchPage(browser, url);
  await page.evaluate(async (name) => {
    window.sealed = new Uint8Array(await (await fetch(`/blob/${name}`)).arrayBuffer());
    window.kept = [];
  }, name);
  return page;
}

/** Open the part `runs` times with `engine`; returns each run's milliseconds. */
async function openRuns(page: Page, key: string, bytes: number, engine: string, runs: number): Promise<number[]> {
  return page.evaluate(async ({ key, bytes, engine, runs }) => {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const { ms, blob } = await window.sealpostBench.open(key, window.sealed, bytes, engine);
      if (blob && blob.size !== bytes) throw new Error(`opened ${blob.size} of ${bytes} bytes`);
      times.push(ms);
    }
    return times;
  }, { key, bytes, engine, runs });
}

/** Raw WebCrypto over the plaintext the portal path opened: one call, and 16 KiB chunks 64 at a time. */
async function webCryptoRuns(page: Page, key: string, bytes: number, runs: number): Promise<{ oneShot: number[]; chunked: number[] }> {
  return page.evaluate(async ({ key, bytes, runs }) => {
    const { blob } = await window.sealpostBench.open(key, window.sealed, bytes, 'webcrypto');
    const plain = new Uint8Array(await blob!.arrayBuffer());
    const aes = await crypto.subtle.importKey('raw', crypto.getRandomValues(new Uint8Array(32)), 'AES-GCM', false, ['encrypt', 'decrypt']);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const whole = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, aes, plain);
    const C = 16384;
    const chunks: { iv: Uint8Array; ct: ArrayBuffer }[] = [];
    for (let k = 0; k * C < plain.length || k === 0; k++) {
      const civ = crypto.getRandomValues(new Uint8Array(12));
      chunks.push({ iv: civ, ct: await crypto.subtle.encrypt({ name: 'AES-GCM', iv: civ }, aes, plain.subarray(k * C, (k + 1) * C)) });
    }
    const oneShot: number[] = [];
    const chunked: number[] = [];
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, aes, whole);
      oneShot.push(performance.now() - t);
      t = performance.now();
      for (let k = 0; k < chunks.length; k += 64) {
        await Promise.all(chunks.slice(k, k + 64).map((c) => crypto.subtle.decrypt({ name: 'AES-GCM', iv: c.iv }, aes, c.ct)));
      }
      chunked.push(performance.now() - t);
    }
    return { oneShot, chunked };
  }, { key, bytes, runs });
}

test('decrypt in Chromium: the portal path against WebCrypto in the same page', async ({ browser }) => {
  test.setTimeout(20 * 60_000);
  const server = await staticServer(dist);
  const rows: Row[] = [];
  try {
    for (const bytes of SIZES) {
      const { name: stored, key } = await sealOnServer(browser, server.url, bytes);
      const page = await pageWithSealed(browser, server.url, stored);
      // One untimed run of each warms the code up.
      for (const how of ['webcrypto-discard', 'webcrypto', 'rust-discard']) await openRuns(page, key, bytes, how, 1);
      const ours = stats(await openRuns(page, key, bytes, 'webcrypto-discard', RUNS));
      const blob = stats(await openRuns(page, key, bytes, 'webcrypto', RUNS));
      const rust = stats(await openRuns(page, key, bytes, 'rust-discard', RUNS));
      const raw = await webCryptoRuns(page, key, bytes, RUNS);
      const oneShot = stats(raw.oneShot);
      const chunked = stats(raw.chunked);
      await page.context().close();
      const mbps = (ms: number) => bytes / 1e6 / (ms / 1000);
      const spread = (s: typeof ours) => `median of ${s.n}; min–max ${round(mbps(s.max))}–${round(mbps(s.min))} MB/s`;
      // The budget compares with the faster of the two raw WebCrypto figures.
      const best = Math.min(oneShot.median, chunked.median);
      const ratio = best / ours.median;
      const name = label(bytes);
      const group = 'browser decrypt';
      rows.push(
        { group, name: `${name}: portal path, WebCrypto AES-GCM`, value: round(mbps(ours.median)), unit: 'MB/s', detail: spread(ours) },
        { group, name: `${name}: portal path into a ready Blob`, value: round(mbps(blob.median)), unit: 'MB/s', detail: `${spread(blob)}; ${round(best / blob.median, 2)} of raw WebCrypto` },
        { group, name: `${name}: pure-Rust fallback`, value: round(mbps(rust.median)), unit: 'MB/s', detail: `${spread(rust)}; ${round(best / rust.median, 2)} of raw WebCrypto` },
        { group, name: `${name}: raw WebCrypto, one call`, value: round(mbps(oneShot.median)), unit: 'MB/s', detail: spread(oneShot) },
        { group, name: `${name}: raw WebCrypto, 16 KiB chunks`, value: round(mbps(chunked.median)), unit: 'MB/s', detail: spread(chunked) },
        {
          group, name: `${name}: portal path / raw WebCrypto`, value: round(ratio, 2), unit: '×',
          detail: 'against the faster raw WebCrypto figure',
          ...(bytes === 64 * MiB ? { budget: '≥ 0.40 (aim ≥ 0.80)', meets: ratio >= 0.4 } : {}),
        },
      );
    }
    for (const bytes of MEMORY_SIZES) {
      const { name: stored, key } = await sealOnServer(browser, server.url, bytes);
      const page = await pageWithSealed(browser, server.url, stored);
      const peak = await peakMemory(browser, () => page.evaluate(async ({ key, bytes }) => {
        // Kept alive, as the portal keeps an opened attachment's Blob.
        const { blob } = await window.sealpostBench.open(key, window.sealed, bytes, 'webcrypto');
        window.kept.push(blob!);
        return blob!.size;
      }, { key, bytes }));
      expect(peak.result).toBe(bytes);
      await page.context().close();
      const ratio = peak.all / bytes;
      rows.push({
        group: 'browser memory', name: `${label(bytes)}: peak added while opening`, value: round(ratio, 2), unit: '× size',
        detail: `all Chromium processes ${round(peak.all / MiB)} MiB (PSS, sampled every 20 ms), of which the renderer ${round(peak.renderer / MiB)} MiB`,
        ...(bytes === 100 * MiB ? { budget: '≤ 2.5 (aim ≤ 1.2)', meets: ratio <= 2.5 } : {}),
      });
    }
  } finally {
    await server.close();
  }
  record('browser', rows);
});
