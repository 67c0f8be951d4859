import { test } from '@playwright/test';
import * as net from 'node:net';
import * as os from 'node:os';
import { cpuSeconds, record, round, serverPid, type Row } from '../support/bench';
import { address, admin, createTenant, mailsTo } from '../support/mail-server';

// Relay throughput of the SMTP smart host: the real `sealpost serve` (release build, SQLite) with
// its listener on 127.0.0.1, a tenant whose one rule seals everything, and a small SMTP client
// here sending 100 KB messages over a few connections. Two figures: messages accepted (queued
// in the database, 250 sent) per second, and messages sealed per second (from the first MAIL
// until the queue is empty: sealed, stored, notice handed to maildev).

const MESSAGES = Number(process.env.SEALPOST_BENCH_SMTP_MESSAGES ?? 200);
const CONNECTIONS = Number(process.env.SEALPOST_BENCH_SMTP_CONNECTIONS ?? 4);
const PORT = Number(process.env.SEALPOST_E2E_SMART_HOST);

/** One SMTP connection that answers each command with the server's reply. */
class Smtp {
  private buffered = '';
  private waiting: ((reply: string) => void)[] = [];
  private constructor(private socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      for (;;) {
        // A reply ends with a line whose fourth character is a space.
        const m = this.buffered.match(/^(?:\d{3}-[^\r\n]*\r\n)*\d{3} [^\r\n]*\r\n/);
        if (!m) break;
        this.buffered = this.buffered.slice(m[0].length);
        this.waiting.shift()?.(m[0]);
      }
    });
  }

  static async connect(port: number): Promise<Smtp> {
    const socket = net.connect(port, '127.0.0.1');
    const s = new Smtp(socket);
    const banner = await s.reply();
    if (!banner.startsWith('220')) throw new Error(`banner: ${banner}`);
    return s;
  }

  reply(): Promise<string> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async cmd(line: string, expect: string): Promise<void> {
    const reply = this.reply();
    this.socket.write(`${line}\r\n`);
    const got = await reply;
    if (!got.startsWith(expect)) throw new Error(`${line.slice(0, 40)}: ${got}`);
  }

  close(): void {
    this.socket.end('QUIT\r\n');
  }
}

/** A 100 KB plain-text message, CRLF lines of 76 characters, none starting with a dot. */
function message(from: string, to: string, n: number): string {
  const line = 'The quarterly figures are attached below; please keep them to yourself. 0123'.slice(0, 76);
  const lines = [
    `From: Alex <${from}>`, `To: ${to}`, `Subject: Figures ${n}`, `Message-ID: <bench-${n}-${Date.now()}@bench.example>`,
    'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '',
  ];
  while (lines.join('\r\n').length < 100_000) lines.push(line);
  return `${lines.join('\r\n')}\r\n`;
}

test('messages relayed through the SMTP listener and sealed', async () => {
  const t = createTenant('Relay');
  const connector = await admin(t, 'PUT', '/mail-flow/connector', { remote_addresses: ['127.0.0.1'] });
  if (connector.status !== 200) throw new Error(`connector: ${JSON.stringify(connector.body)}`);
  const rule = await admin(t, 'POST', '/mail-flow/rules', { name: 'Seal all', action: { kind: 'seal' } });
  if (rule.status !== 201) throw new Error(`rule: ${JSON.stringify(rule.body)}`);
  const from = `alex@${t.domain}`;
  const to = address('relay');
  const bodies = Array.from({ length: MESSAGES }, (_, n) => message(from, to, n));

  const server = serverPid();
  const cpuBefore = cpuSeconds(server);
  const start = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    const c = await Smtp.connect(PORT);
    await c.cmd('EHLO bench.example', '250');
    for (let n = next++; n < MESSAGES; n = next++) {
      await c.cmd(`MAIL FROM:<${from}>`, '250');
      await c.cmd(`RCPT TO:<${to}>`, '250');
      await c.cmd('DATA', '354');
      await c.cmd(`${bodies[n]}.`, '250');
    }
    c.close();
  }));
  const accepted = (performance.now() - start) / 1000;
  for (;;) {
    const q = await admin(t, 'GET', '/mail-flow/queue');
    if (q.body.messages.length === 0) break;
    if ((performance.now() - start) / 1000 > 600) throw new Error(`the queue did not empty: ${q.body.messages.length} left`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const sealed = (performance.now() - start) / 1000;
  const cores = (cpuSeconds(server) - cpuBefore) / sealed;
  // Every message was sealed, not bounced: each one's notice reached maildev.
  await mailsTo(to, MESSAGES);

  const detail = `${MESSAGES} messages of 100 KB over ${CONNECTIONS} connections; the server used ${round(cores, 2)} of ${os.cpus().length} cores, the client and maildev the rest`;
  const rows: Row[] = [
    { group: 'SMTP relay', name: '100 KB messages accepted per second', value: round(MESSAGES / accepted), unit: '/s', detail },
    { group: 'SMTP relay', name: '100 KB messages sealed per second', value: round(MESSAGES / sealed), unit: '/s', detail: `from the first MAIL until the queue is empty; ${detail}` },
  ];
  record('smtp', rows);
});
