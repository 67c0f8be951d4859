import { test } from '@playwright/test';
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { cpuSeconds, record, round, serverPid, type Row } from '../support/bench';
import { MAIL_URL, address, createTenant, noticeLink, passcode, send } from '../support/mail-server';

// Key release and passcode verification under load: the real `sealpost serve` (release build,
// started by the Playwright config; SQLite, or PostgreSQL when scripts/bench sets
// SEALPOST_BENCH_DATABASE_URL) on 127.0.0.1, and wrk from apt with a fixed number of connections
// for a fixed time, so the load is bounded and stops by itself.

const SECONDS = Number(process.env.SEALPOST_BENCH_LOAD_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.SEALPOST_BENCH_CONNECTIONS ?? 16);
const ENGINE = process.env.SEALPOST_BENCH_DATABASE_URL ? 'PostgreSQL' : 'SQLite';
const CSRF = { 'x-sealpost-request': '1', 'content-type': 'application/json' };

interface Wrk { requests: number; seconds: number; rps: number; p50: number; p99: number; non2xx: number; errors: number; serverCores: number }

/** POST `body` to `url` with `headers` for SECONDS over CONNECTIONS connections. Asynchronous, so
 * this process goes on handling its own sockets meanwhile (a kept-alive connection the server
 * closes while wrk runs is seen closed, not reused). */
async function wrk(url: string, headers: Record<string, string>, body: string): Promise<Wrk> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-wrk-'));
  const out = path.join(dir, 'result.json');
  const lua = `
wrk.method = "POST"
wrk.body = ${JSON.stringify(body)}
${Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join('\n')}
done = function(summary, latency, requests)
  local f = io.open(${JSON.stringify(out)}, "w")
  local e = summary.errors
  f:write(string.format('{"requests":%d,"micros":%d,"p50":%d,"p99":%d,"errors":%d}',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout))
  f:close()
end
`;
  fs.writeFileSync(path.join(dir, 'load.lua'), lua);
  const server = serverPid();
  const cpuBefore = cpuSeconds(server);
  try {
    const { stdout: text } = await promisify(execFile)('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--timeout', '5s', '-s', path.join(dir, 'load.lua'), url], {
      encoding: 'utf8', timeout: (SECONDS + 30) * 1000,
    });
    const r = JSON.parse(fs.readFileSync(out, 'utf8'));
    // wrk's Lua summary has no status counts; its report on stdout does.
    r.non2xx = Number(text.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
    return {
      requests: r.requests, seconds: r.micros / 1e6, rps: r.requests / (r.micros / 1e6),
      p50: r.p50 / 1000, p99: r.p99 / 1000, non2xx: r.non2xx, errors: r.errors,
      serverCores: (cpuSeconds(server) - cpuBefore) / (r.micros / 1e6),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The server's count of key releases and of the durable commits that recorded them (several
 * releases share one commit under load: the group commit). */
async function commits(): Promise<{ released: number; commits: number }> {
  const text = await (await fetch(`${MAIL_URL}/metrics`)).text();
  const value = (name: string) => Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.slice(name.length + 1) ?? NaN);
  return { released: value('sealpost_key_decisions_total{outcome="released"}'), commits: value('sealpost_key_decision_commits_total') };
}

async function post(url: string, body: unknown, cookie?: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { ...CSRF, ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });
}

/** A message to a fresh recipient: its id and link token. */
async function message(t: ReturnType<typeof createTenant>): Promise<{ id: string; token: string; to: string }> {
  const to = address('load');
  const id = await send(t, { to: [to], subject: 'Load', text: 'Hello', rights_template: 'Encrypt' });
  const token = (await noticeLink(to, id)).split('#t=')[1];
  return { id, token, to };
}

test('key release and passcode verification under load', async () => {
  const t = createTenant('Load');
  const rows: Row[] = [];

  // Key release: one signed-in recipient, the same request as the page's.
  const m = await message(t);
  const asked = await post(`${MAIL_URL}/api/m/${m.id}/passcode`, { token: m.token });
  const { reference } = await asked.json() as { reference: string };
  const signedIn = await post(`${MAIL_URL}/api/m/${m.id}/session`, {
    token: m.token, passcode: await passcode(m.to, reference), keep_signed_in: false,
  });
  if (signedIn.status !== 200) throw new Error(`sign-in ${signedIn.status}`);
  const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0];
  const jwk = crypto.generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' });
  const keyBody = JSON.stringify({ public_key: jwk.x });
  const one = await fetch(`${MAIL_URL}/api/m/${m.id}/key`, { method: 'POST', headers: { ...CSRF, cookie }, body: keyBody });
  if (one.status !== 200) throw new Error(`key ${one.status}: ${await one.text()}`);
  const before = await commits();
  const key = await wrk(`${MAIL_URL}/api/m/${m.id}/key`, { ...CSRF, cookie }, keyBody);
  const after = await commits();
  const perCommit = (after.released - before.released) / (after.commits - before.commits);
  if (key.non2xx || key.errors) throw new Error(`key release: ${key.non2xx} refusals, ${key.errors} errors`);

  // Passcode verification under a flood of guesses from one client, with the limits at their
  // defaults: wrong codes for a live code; after five the code is burned, after fifteen tries on
  // the link every later guess is refused with 429 from a read of the counts (nothing written).
  const p = await message(t);
  await post(`${MAIL_URL}/api/m/${p.id}/passcode`, { token: p.token });
  const guess = JSON.stringify({ token: p.token, passcode: '00000000', keep_signed_in: false });
  const refused = await fetch(`${MAIL_URL}/api/m/${p.id}/session`, { method: 'POST', headers: CSRF, body: guess });
  const why = await refused.json() as { code: string };
  if (refused.status !== 401 || why.code !== 'passcode_invalid') throw new Error(`guess: ${refused.status} ${why.code}`);
  const verify = await wrk(`${MAIL_URL}/api/m/${p.id}/session`, CSRF, guess);
  if (verify.errors || verify.non2xx !== verify.requests) throw new Error(`guesses: ${JSON.stringify(verify)}`);

  const detail = (w: Wrk) => `${w.requests} requests in ${round(w.seconds)} s over ${CONNECTIONS} connections; the server used ${round(w.serverCores, 2)} of ${os.cpus().length} cores, wrk most of the rest`;
  const [release, verification] = [`key release, ${ENGINE}`, `passcode verification, ${ENGINE}`];
  rows.push(
    { group: release, name: 'released keys per second', value: Math.round(key.rps), unit: '/s', detail: detail(key), budget: '≥ 2,000 (aim ≥ 10,000)', meets: key.rps >= 2000 },
    { group: release, name: 'latency p50', value: round(key.p50, 2), unit: 'ms' },
    { group: release, name: 'latency p99', value: round(key.p99, 2), unit: 'ms', budget: '≤ 25 (aim ≤ 10)', meets: key.p99 <= 25 },
    { group: release, name: 'releases per durable commit', value: round(perCommit, 1), unit: '', detail: `${after.released - before.released} releases in ${after.commits - before.commits} commits (the group commit; /metrics)` },
    { group: verification, name: 'wrong passcodes answered per second', value: Math.round(verify.rps), unit: '/s', detail: `${detail(verify)}; limits at their defaults, so after fifteen 401s every guess is a 429 answered from the counts` },
    { group: verification, name: 'latency p50', value: round(verify.p50, 2), unit: 'ms' },
    { group: verification, name: 'latency p99', value: round(verify.p99, 2), unit: 'ms' },
  );
  record('load', rows);
});
