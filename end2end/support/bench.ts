// Helpers for the benchmarks (end2end/bench/, run by scripts/bench): a static server for the
// benchmark page, Chromium's process memory from /proc, statistics, and the result rows that
// scripts/bench gathers into one table and one JSON file. Never part of the test suite.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser } from '@playwright/test';

/** One measured figure. `budget` and `meets` only where DESIGN.md sets a budget for it. */
export interface Row {
  group: string;
  name: string;
  value: number;
  unit: string;
  detail?: string;
  budget?: string;
  meets?: boolean;
}

/** Append rows to `<SEALPOST_BENCH_OUT>/<file>.json`. */
export function record(file: string, rows: Row[]): void {
  const dir = process.env.SEALPOST_BENCH_OUT;
  if (!dir) throw new Error('SEALPOST_BENCH_OUT is not set: run the benchmarks with scripts/bench');
  fs.mkdirSync(dir, { recursive: true });
  const target = path.join(dir, `${file}.json`);
  const old: Row[] = fs.existsSync(target) ? JSON.parse(fs.readFileSync(target, 'utf8')) : [];
  fs.writeFileSync(target, JSON.stringify([...old, ...rows], null, 2));
}

export interface Stats { median: number; min: number; max: number; n: number }

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Serves `dir` on 127.0.0.1 with the portal's Content-Security-Policy, plus an in-memory store:
 * PUT /blob/NAME appends a body to NAME (pages upload in pieces: Chromium's DevTools protocol, which
 * Playwright listens on, carries each request's body as one string), GET /blob/NAME gives it all
 * back. Close it when done.
 */
export async function staticServer(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const blobs = new Map<string, Buffer>();
  const types: Record<string, string> = {
    '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm',
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname.startsWith('/blob/')) {
      const name = url.pathname.slice(6);
      if (req.method === 'PUT') {
        const parts: Buffer[] = [];
        req.on('data', (c: Buffer) => parts.push(c));
        req.on('end', () => {
          blobs.set(name, Buffer.concat([blobs.get(name) ?? Buffer.alloc(0), ...parts]));
          res.writeHead(204).end();
        });
        return;
      }
      const body = blobs.get(name);
      if (!body) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
      return;
    }
    const file = path.join(dir, url.pathname === '/' ? 'index.html' : path.normalize(url.pathname));
    if (!file.startsWith(dir) || !fs.existsSync(file)) { res.writeHead(404).end(); return; }
    res.writeHead(200, {
      'content-type': types[path.extname(file)] ?? 'application/octet-stream',
      'content-security-policy':
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'",
    }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A process's proportional set size in bytes (shared pages split among the processes sharing them). */
function pss(pid: number): number {
  try {
    const line = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n').find((l) => l.startsWith('Pss:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : 0;
  } catch {
    return 0; // the process has gone
  }
}

/**
 * Peak memory of Chromium's processes while `work` runs, sampled every 20 ms as each process's
 * proportional set size (PSS: memory shared between processes, as a Blob on its way from the page
 * to the browser process is, counts once in all). Returns the renderers' and all processes' peak
 * above what they held before, in bytes. Linux only.
 */
export async function peakMemory<T>(browser: Browser, work: () => Promise<T>): Promise<{ renderer: number; all: number; result: T }> {
  const cdp = await browser.newBrowserCDPSession();
  const { processInfo } = await cdp.send('SystemInfo.getProcessInfo') as { processInfo: { type: string; id: number }[] };
  await cdp.detach();
  const sample = () => {
    let renderer = 0;
    let all = 0;
    for (const p of processInfo) {
      const bytes = pss(p.id);
      all += bytes;
      if (p.type === 'renderer') renderer += bytes;
    }
    return { renderer, all };
  };
  const before = sample();
  const peak = { ...before };
  const timer = setInterval(() => {
    const now = sample();
    peak.renderer = Math.max(peak.renderer, now.renderer);
    peak.all = Math.max(peak.all, now.all);
  }, 20);
  try {
    const result = await work();
    const end = sample();
    return {
      renderer: Math.max(peak.renderer, end.renderer) - before.renderer,
      all: Math.max(peak.all, end.all) - before.all,
      result,
    };
  } finally {
    clearInterval(timer);
  }
}

/** The mail server's `sealpost serve` process, which the Playwright config started (by its command line and its listening address). */
export function serverPid(): number {
  const bin = process.env.SEALPOST_BIN as string;
  // The mail server (the one the benchmarks load), not the sign-in server beside it.
  const listen = `SEALPOST_LISTEN=${new URL(process.env.SEALPOST_E2E_MAIL_URL as string).host}`;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (argv[0] === bin && argv[1] === 'serve' && env.includes(listen)) return Number(pid);
    } catch { /* gone */ }
  }
  throw new Error('no sealpost serve process for the mail server');
}

/** CPU seconds a process has used (user + system). */
export function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}
