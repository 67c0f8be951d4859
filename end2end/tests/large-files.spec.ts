import { test, expect, type Page } from '@playwright/test';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { MAIL_URL, address, admin, createTenant, noticeLink, signIn, type Tenant } from '../support/mail-server';
import { sampleBytes } from '../support/samples';

// Large attachments, end to end in Chromium: sent through a draft window by window (as
// `sealpost send --attach` does), then saved by the recipient straight to disk, window by window,
// in each of the portal's two streaming ways, each checked by SHA-256; a save cut by a network
// error goes on; a revocation mid-save stops it and removes what was written. The attachment is
// larger than what the portal decrypts into memory (16 MiB), so it always streams.
test.use({ baseURL: MAIL_URL });

const SIZE = 20 * 1024 * 1024 + 12_345;

/** Send `bytes` as `name` to `to` through a draft; returns the message id. */
async function sendLarge(t: Tenant, to: string, name: string, bytes: Buffer): Promise<string> {
  const draft = await admin(t, 'POST', '/drafts', { from: `alex@${t.domain}` });
  expect(draft.status, JSON.stringify(draft.body)).toBe(201);
  const { id, window_size: window } = draft.body as { id: string; window_size: number };
  const declared = await admin(t, 'POST', `/drafts/${id}/attachments`, { name, size: bytes.length });
  expect(declared.status, JSON.stringify(declared.body)).toBe(201);
  for (let start = 0; start < bytes.length; start += window) {
    const chunk = bytes.subarray(start, Math.min(start + window, bytes.length));
    const res = await fetch(`${t.url}/api/admin/drafts/${id}/attachments/0`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${t.token}`,
        'content-range': `bytes ${start}-${start + chunk.length - 1}/${bytes.length}`,
        'content-digest': `sha-256=:${crypto.createHash('sha256').update(chunk).digest('base64')}:`,
      },
      body: chunk,
    });
    expect(res.status, await res.clone().text()).toBe(200);
  }
  const sent = await admin(t, 'POST', `/drafts/${id}/send`, {
    from: `alex@${t.domain}`, to: [to], subject: 'The survey', text: 'The whole survey is attached.',
  });
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  return id;
}

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** The File System Access API's picker, answered with a file in the origin's private file system
 * (Playwright cannot click a native save dialog); the writing is the browser's own. */
async function pickerToPrivateFiles(page: Page): Promise<void> {
  await page.addInitScript(() => {
    Object.defineProperty(window, 'showSaveFilePicker', {
      value: async (options: { suggestedName: string }) => {
        (window as unknown as { picked: string }).picked = options.suggestedName;
        const root = await navigator.storage.getDirectory();
        return root.getFileHandle(options.suggestedName, { create: true });
      },
    });
  });
}

/** SHA-256 (hex) and size of a file in the private file system, or null if there is none. */
async function privateFile(page: Page, name: string): Promise<{ size: number; sha256: string } | null> {
  return page.evaluate(async (name) => {
    const root = await navigator.storage.getDirectory();
    let handle;
    try { handle = await root.getFileHandle(name); } catch { return null; }
    const data = await (await handle.getFile()).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
    return { size: data.byteLength, sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') };
  }, name);
}

async function openLarge(page: Page, name: string, bytes: Buffer): Promise<{ t: Tenant; id: string }> {
  const t = createTenant('Contoso');
  const bob = address('bob');
  const id = await sendLarge(t, bob, name, bytes);
  await signIn(page, await noticeLink(bob, id), bob);
  await expect(page.getByTestId('attachment-name')).toHaveText(name);
  return { t, id };
}

test('a large attachment is written straight into the file the recipient chose, window by window', async ({ page }) => {
  const bytes = sampleBytes(SIZE);
  await pickerToPrivateFiles(page);
  await openLarge(page, 'survey.bin', bytes);
  await page.getByTestId('attachment-download').click();
  // Progress with the rate and the time left while it runs.
  await expect(page.getByTestId('attachment-rate')).toContainText(' of ');
  await expect(page.getByTestId('attachment-progress')).toHaveCount(0, { timeout: 60_000 });
  expect(await page.evaluate(() => (window as unknown as { picked: string }).picked)).toBe('survey.bin');
  expect(await privateFile(page, 'survey.bin')).toEqual({ size: bytes.length, sha256: sha256(bytes) });
});

test('without the File System Access API the download worker streams it, and a cut window is fetched again', async ({ page }) => {
  const bytes = sampleBytes(SIZE);
  await page.addInitScript(() => {
    Object.defineProperty(window, 'showSaveFilePicker', { value: undefined });
  });
  // The third window's connection drops once; the page fetches the same range again.
  let windows = 0;
  await page.route('**/parts/attachment-0', async (route) => {
    windows += 1;
    if (windows === 3) await route.abort('connectionreset');
    else await route.continue();
  });
  await openLarge(page, 'archive.bin', bytes);
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 60_000 }),
    page.getByTestId('attachment-download').click(),
  ]);
  expect(download.suggestedFilename()).toBe('archive.bin');
  const saved = fs.readFileSync(await download.path());
  expect(saved.length).toBe(bytes.length);
  expect(sha256(saved)).toBe(sha256(bytes));
  expect(windows).toBeGreaterThan(5);
  // It went through the download worker (registered for /dl/ only), not through memory.
  expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations())
    .map((r) => new URL(r.scope).pathname))).toEqual(['/dl/']);
  await expect(page.getByTestId('attachment-note')).toHaveCount(0);
});

test('revoking the message while it is being saved stops the save and removes what was written', async ({ page }) => {
  const bytes = sampleBytes(SIZE);
  await pickerToPrivateFiles(page);
  // Slow windows, so the revocation lands mid-save.
  await page.route('**/parts/attachment-0', async (route) => {
    await new Promise((r) => setTimeout(r, 300));
    await route.continue();
  });
  const { t, id } = await openLarge(page, 'ledger.bin', bytes);
  await page.getByTestId('attachment-download').click();
  await expect.poll(async () => Number(await page.getByTestId('attachment-progress').getAttribute('value') ?? 0))
    .toBeGreaterThan(0);
  const revoked = await admin(t, 'POST', `/messages/${id}/revoke`);
  expect(revoked.status).toBe(200);
  await expect(page.getByTestId('stopped')).toBeVisible({ timeout: 30_000 });
  await expect.poll(() => privateFile(page, 'ledger.bin')).toBeNull();
});

test('a reply carries a large file sent window by window, a cut window sent again, and the sender saves it whole', async ({ browser }) => {
  const bytes = sampleBytes(SIZE);
  const t = createTenant('Contoso');
  const bob = address('bob');
  const alex = `alex@${t.domain}`;
  const bobPage = await browser.newPage();
  const id = await sendLarge(t, bob, 'survey.bin', sampleBytes(1024 * 1024));
  await signIn(bobPage, await noticeLink(bob, id), bob);
  // The second window's connection drops once: the page asks where the upload stands and
  // goes on.
  let windows = 0;
  await bobPage.route('**/drafts/*/attachments/0', async (route) => {
    windows += 1;
    if (windows === 2) await route.abort('connectionreset');
    else await route.continue();
  });
  await bobPage.getByTestId('reply').click();
  await bobPage.getByTestId('composer-text').fill('The answers are attached.');
  await bobPage.getByTestId('composer-files').setInputFiles([
    { name: 'answers.bin', mimeType: 'application/octet-stream', buffer: bytes },
    { name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('small') },
  ]);
  const [begun] = await Promise.all([
    bobPage.waitForResponse((r) => r.url().endsWith('/drafts') && r.request().method() === 'POST'),
    bobPage.getByTestId('composer-send').click(),
  ]);
  // The draft's id is the reply's.
  const replyId = (await begun.json() as { id: string }).id;
  await expect(bobPage.getByTestId('upload-progress')).toBeVisible();
  await expect(bobPage.getByTestId('sent')).toContainText(alex, { timeout: 60_000 });
  expect(windows).toBeGreaterThan(3);
  await bobPage.close();

  // The sender opens the reply and saves the file, checked by SHA-256.
  const alexPage = await browser.newPage();
  await pickerToPrivateFiles(alexPage);
  await signIn(alexPage, await noticeLink(alex, replyId), alex);
  await expect(alexPage.getByTestId('attachment-name')).toHaveText(['answers.bin', 'note.txt']);
  await alexPage.getByTestId('attachment-download').first().click();
  await expect(alexPage.getByTestId('attachment-progress')).toHaveCount(0, { timeout: 60_000 });
  expect(await privateFile(alexPage, 'answers.bin')).toEqual({ size: bytes.length, sha256: sha256(bytes) });
  await alexPage.close();
});

test('a reply that fails after its files were uploaded is sent again without uploading them again', async ({ page }) => {
  const bytes = sampleBytes(SIZE);
  const t = createTenant('Contoso');
  const bob = address('bob');
  const id = await sendLarge(t, bob, 'survey.bin', sampleBytes(1024 * 1024));
  await signIn(page, await noticeLink(bob, id), bob);
  let windows = 0;
  await page.route('**/drafts/*/attachments/0', async (route) => { windows += 1; await route.continue(); });
  // The first reply is refused by a node restarting; the second goes through.
  let replies = 0;
  await page.route('**/reply', async (route) => {
    replies += 1;
    if (replies === 1) {
      await route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ code: 'unavailable', message: 'The service is restarting; try again.' }) });
    } else {
      await route.continue();
    }
  });
  await page.getByTestId('reply').click();
  await page.getByTestId('composer-text').fill('The answers.');
  await page.getByTestId('composer-files').setInputFiles({ name: 'answers.bin', mimeType: 'application/octet-stream', buffer: bytes });
  await page.getByTestId('composer-send').click();
  await expect(page.getByTestId('composer-error')).toContainText('restarting', { timeout: 60_000 });
  const uploaded = windows;
  expect(uploaded).toBe(Math.ceil(bytes.length / (8 * 1024 * 1024)));
  await page.getByTestId('composer-send').click();
  await expect(page.getByTestId('sent')).toContainText(`alex@${t.domain}`, { timeout: 60_000 });
  expect(windows, 'no window sent again').toBe(uploaded);
  expect(replies).toBe(2);
});
