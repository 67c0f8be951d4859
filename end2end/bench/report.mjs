// Gathers scripts/bench's measurements into one table (printed) and one JSON file:
//   node end2end/bench/report.mjs OUT_DIR CRITERION_DIR DIST_DIR
// OUT_DIR holds the Playwright benchmarks' rows (browser.json, load.json); criterion's estimates
// and the built portal are read here. Every row with a budget from DESIGN.md says whether it meets it.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

const [out, criterion, dist] = process.argv.slice(2);
if (!out || !criterion || !dist) {
  console.error('usage: report.mjs OUT_DIR CRITERION_DIR DIST_DIR');
  process.exit(2);
}
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const rows = [];

// 1. The envelope, natively (criterion's median per iteration).
const median = (...id) => {
  const file = path.join(criterion, ...id, 'new', 'estimates.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).median.point_estimate; // nanoseconds
};
const sizes = { '16KiB': 16 << 10, '1MiB': 1 << 20, '64MiB': 64 << 20 };
for (const op of ['seal', 'open']) {
  for (const [name, bytes] of Object.entries(sizes)) {
    rows.push({ group: 'envelope, native', name: `${op} ${name.replace('KiB', ' KiB').replace('MiB', ' MiB')} part`, value: round(bytes / 1e6 / (median('part', op, name) / 1e9)), unit: 'MB/s' });
  }
}
const keyOps = { wrap: 'wrap a message key', unwrap: 'unwrap a message key', release_seal: 'HPKE release, seal (server)', release_open: 'HPKE release, open (browser)' };
for (const [id, name] of Object.entries(keyOps)) {
  rows.push({ group: 'envelope, native', name, value: Math.round(1e9 / median('key', id)), unit: '/s', detail: `${round(median('key', id) / 1000, 2)} µs each, one core` });
}

// 2–3, 5. Browser and load (the Playwright benchmarks).
for (const file of ['browser.json', 'load.json', 'smtp.json', 'upload.json', 'save.json']) {
  const p = path.join(out, file);
  if (fs.existsSync(p)) rows.push(...JSON.parse(fs.readFileSync(p, 'utf8')));
}

// Key release as a ratio the machine's disk and speed do not move: releases per second under load
// ÷ HPKE seals per second on one core (criterion, above), both measured in this run.
const seals = 1e9 / median('key', 'release_seal');
for (const r of rows.filter((r) => r.group.startsWith('key release') && r.name === 'released keys per second')) {
  const at = rows.indexOf(r) + 1;
  rows.splice(at, 0, {
    group: r.group, name: 'released keys ÷ HPKE seals on one core', value: round(r.value / seals, 2), unit: '×',
    budget: 'aim ≥ 1.0', detail: `${r.value.toLocaleString('en-US')}/s ÷ ${Math.round(seals).toLocaleString('en-US')}/s, in this run`,
  });
}

// 4. The portal's bundle as served: WebAssembly, JavaScript and CSS, raw and gzip -9.
let total = 0;
for (const f of fs.readdirSync(dist).filter((f) => /\.(wasm|js|css)$/.test(f)).sort()) {
  const raw = fs.readFileSync(path.join(dist, f));
  const gz = zlib.gzipSync(raw, { level: 9 }).length;
  total += gz;
  rows.push({ group: 'bundle', name: f.replace(/-[0-9a-f]{16}/, ''), value: gz, unit: 'B gzip', detail: `${raw.length} B raw` });
}
rows.push({ group: 'bundle', name: 'portal total', value: round(total / 1000), unit: 'KB gzip', budget: '≤ 350 (aim ≤ 200)', meets: total <= 350_000 });

const version = (cmd, args) => { try { return execFileSync(cmd, args, { encoding: 'utf8' }).trim(); } catch { return 'unknown'; } };
const machine = {
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
  memory: `${round(os.totalmem() / 2 ** 30)} GiB`,
  os: `${os.type()} ${os.release()}`,
  chromium: version(process.env.CHROMIUM_BIN ?? '/usr/lib/chromium/chromium', ['--version']),
  rustc: version('rustc', ['--version']),
  date: new Date().toISOString(),
};
fs.writeFileSync(path.join(out, 'bench.json'), JSON.stringify({ machine, rows }, null, 2));

const verdict = (r) => (r.meets === undefined ? '' : r.meets ? 'meets' : 'MISSES');
const table = [['group', 'measure', 'value', 'budget', '', 'detail']].concat(
  rows.map((r) => [r.group, r.name, `${r.value.toLocaleString('en-US')} ${r.unit}`, r.budget ?? '', verdict(r), r.detail ?? '']),
);
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
console.log(`\nMachine: ${machine.cpus}, ${machine.memory}, ${machine.os}; ${machine.chromium}; ${machine.rustc}`);
console.log(`Written: ${path.join(out, 'bench.json')}`);
const missed = rows.filter((r) => r.meets === false);
if (missed.length) console.log(`Budgets missed: ${missed.map((r) => `${r.group}: ${r.name}`).join('; ')}`);
