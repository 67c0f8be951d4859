// The Sealpost server that sends through maildev (see playwright.config.ts): tenants made with the
// CLI, the admin API, mail read back from maildev, and the recipient's sign-in in the browser.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { expect, type Page } from '@playwright/test';

export const MAIL_URL = process.env.SEALPOST_E2E_MAIL_URL as string;
const MAILDEV = process.env.SEALPOST_E2E_MAILDEV as string;
const DATA_DIR = process.env.SEALPOST_E2E_MAIL_DIR as string;
const BIN = process.env.SEALPOST_BIN as string;

export interface Tenant {
  domain: string;
  token: string;
  /** The server the tenant lives on. */
  url: string;
}

/** A `sealpost serve` under test: where it answers, and its data directory and database (for
 * the CLI). */
export interface Server {
  url: string;
  dataDir: string;
  /** A PostgreSQL URL (scripts/bench's second load run), else SQLite in the data directory. */
  databaseUrl?: string;
}

/** The server most tests use. */
export const MAIL_SERVER: Server = { url: MAIL_URL, dataDir: DATA_DIR, databaseUrl: process.env.SEALPOST_BENCH_DATABASE_URL };

let counter = 0;
/** A fresh tenant with a unique domain (or `fixedDomain`), made with `sealpost tenant create`. */
export function createTenant(name: string, server: Server = MAIL_SERVER, fixedDomain?: string): Tenant {
  counter += 1;
  const domain = fixedDomain ?? `t${Date.now().toString(36)}${counter}.example`;
  const out = execFileSync(BIN, ['tenant', 'create', '--name', name, '--domain', domain], {
    env: { ...process.env, SEALPOST_DATA_DIR: server.dataDir, ...(server.databaseUrl ? { SEALPOST_DATABASE_URL: server.databaseUrl } : {}) },
    encoding: 'utf8',
  });
  const token = out.match(/Admin token \(shown once; store it now\): (\S+)/)?.[1];
  if (!token) throw new Error(`no token in: ${out}`);
  return { domain, token, url: server.url };
}

/** A unique recipient address, so tests never read each other's mail. */
export function address(who: string): string {
  counter += 1;
  return `${who}.${Date.now().toString(36)}${counter}@example.net`;
}

/** An admin API call; returns the status and parsed body. */
export async function admin(
  t: Tenant,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${t.url}/api/admin${route}`, {
    method,
    headers: {
      authorization: `Bearer ${t.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Send a protected message; returns its id. */
export async function send(t: Tenant, message: Record<string, unknown>): Promise<string> {
  const res = await admin(t, 'POST', '/messages', { from: `alex@${t.domain}`, ...message });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.MessageId as string;
}

interface Mail {
  id: string;
  subject: string;
  text: string;
  to: { address: string }[];
  headers: Record<string, string>;
}

/** Mails to `to` that pass `filter`, waiting until there are `count`. Newest last. */
export async function mailsTo(to: string, count = 1, filter: (m: Mail) => boolean = () => true): Promise<Mail[]> {
  let mine: Mail[] = [];
  await expect.poll(async () => {
    const all = (await (await fetch(`${MAILDEV}/email`)).json()) as Mail[];
    mine = all.filter((m) => m.to.some((a) => a.address.toLowerCase() === to.toLowerCase()) && filter(m));
    return mine.length;
  }, { message: `mails to ${to}`, timeout: 30_000 }).toBeGreaterThanOrEqual(count);
  return mine;
}

/** The "Read the message" link in the notice for `messageId` to `to`. */
export async function noticeLink(to: string, messageId: string): Promise<string> {
  const [notice] = await mailsTo(to, 1, (m) => m.text.includes(`/m/${messageId}#t=`));
  const link = notice.text.match(/http:\/\/\S+\/m\/[0-9a-f]{32}#t=[\w-]+/)?.[0];
  if (!link) throw new Error(`no link in: ${notice.text}`);
  return link;
}

/** The passcode in the newest passcode mail to `to` showing `reference`. */
export async function passcode(to: string, reference: string): Promise<string> {
  const mails = await mailsTo(to, 1, (m) => m.text.includes(`Reference: ${reference}`));
  const code = mails[mails.length - 1].text.match(/\b\d{8}\b/)?.[0];
  if (!code) throw new Error('no passcode in the mail');
  return code;
}

/** Open `link`, ask for a passcode, and ask for it to be emailed; returns the reference word. */
export async function askForPasscode(page: Page, link: string): Promise<string> {
  await page.goto(link);
  await page.getByTestId('send-passcode').click();
  const reference = (await page.getByTestId('reference').textContent())?.trim();
  if (!reference) throw new Error('no reference word shown');
  return reference;
}

/** The whole sign-in: link, passcode mail, code typed; waits for the message to be on screen. */
export async function signIn(page: Page, link: string, to: string): Promise<void> {
  const reference = await askForPasscode(page, link);
  await page.getByTestId('passcode').fill(await passcode(to, reference));
  await page.getByTestId('sign-in').click();
  await expect(page.getByTestId('letter')).toBeVisible();
}

/**
 * Move a message's expiry into the past, as if time had passed (the server reads it per request):
 * to a minute before now on this machine's clock, which the server shares. Returns the expiry set,
 * so a test expects the date the page shows from it rather than from the calendar.
 */
export function expireNow(messageId: string): Date {
  if (!/^[0-9a-f]{32}$/.test(messageId)) throw new Error('bad id');
  const at = Math.floor(Date.now() / 1000) - 60;
  execFileSync('sqlite3', [
    path.join(DATA_DIR, 'sealpost.db'),
    `update messages set expires_at = ${at} where id = '${messageId}'`,
  ]);
  return new Date(at * 1000);
}

/** The server with an identity provider (see playwright.config.ts), as the browser reaches it. */
export const SIGN_IN_SERVER: Server = {
  url: process.env.SEALPOST_E2E_SIGN_IN_URL as string,
  dataDir: process.env.SEALPOST_E2E_SIGN_IN_DIR as string,
};

/** The OpenID provider's address. */
export const OIDC_URL = process.env.SEALPOST_E2E_OIDC_URL as string;

/** A tenant on the sign-in server whose default branding template offers the identity provider,
 * with passcodes on or off. */
export async function socialTenant(name: string, otpEnabled: boolean): Promise<Tenant> {
  const t = createTenant(name, SIGN_IN_SERVER);
  const r = await admin(t, 'PATCH', '/branding-templates/default', {
    social_id_sign_in: true,
    otp_enabled: otpEnabled,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return t;
}

/** The domain of the tenant the mail server's root keys belong to (playwright.config.ts). */
export const CUSTOMER_KEY_DOMAIN = process.env.SEALPOST_E2E_CUSTOMER_KEY_DOMAIN as string;
