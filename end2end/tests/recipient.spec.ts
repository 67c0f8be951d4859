import { test, expect } from '@playwright/test';
import * as fs from 'node:fs';
import { expectAccessible } from '../support/axe';
import {
  CUSTOMER_KEY_DOMAIN, MAIL_SERVER, MAIL_URL, address, admin, askForPasscode, createTenant, expireNow, mailsTo, noticeLink, passcode,
  send, signIn,
} from '../support/mail-server';
import { collectProblems } from '../support/problems';
import { sampleBytes } from '../support/samples';

// The recipient's journeys against `sealpost serve` sending through maildev. Each test makes its
// own tenant and recipients, so none reads another's mail.
test.use({ baseURL: MAIL_URL });


test('read a message with an attachment: the decrypted bytes match what was sent', async ({ page }) => {
  const problems = collectProblems(page);
  const t = createTenant('Fabrikam');
  const bob = address('bob');
  const bytes = sampleBytes(300_000);
  const id = await send(t, {
    to: [bob],
    cc: [address('carol')],
    subject: 'Q4 figures',
    text: 'Plain text version',
    html: '<p>Hello <b>Bob</b>, the figures are attached.</p><img src="https://tracker.example/p.gif" alt="">' +
      '<script>document.title="pwned"</script><a href="javascript:alert(1)">x</a>' +
      '<a href="https://fabrikam.example/terms" target="_self" rel="opener">terms</a>',
    attachments: [
      { name: 'figures.bin', content_type: 'application/octet-stream', content_base64: bytes.toString('base64') },
      { name: 'notes.txt', content_type: 'text/plain', content_base64: Buffer.from('line one\nline two\n').toString('base64') },
    ],
    rights_template: 'Encrypt',
  });
  const link = await noticeLink(bob, id);
  await page.goto(link);
  await expect(page.getByTestId('sender')).toHaveText(`alex@${t.domain}`);
  await expectAccessible(page, 'sign-in');
  const reference = await askForPasscode(page, link);
  await expectAccessible(page, 'passcode');
  await page.getByTestId('passcode').fill(await passcode(bob, reference));
  await page.getByTestId('sign-in').click();

  await expect(page.getByTestId('subject')).toHaveText('Q4 figures');
  await expect(page.getByTestId('from')).toHaveText(`alex@${t.domain}`);
  await expect(page.getByTestId('to')).toHaveText(bob);
  const body = page.frameLocator('[data-testid=body-frame]').locator('body');
  await expect(body).toContainText('the figures are attached');
  // Sanitised: no script, no remote image, no script link; and the page says what it blocked.
  expect(await body.locator('script, img[src]').count()).toBe(0);
  expect(await body.locator('a', { hasText: 'x' }).getAttribute('href')).toBeNull();
  // Links open outside the message, whatever the sender asked for.
  const terms = body.locator('a', { hasText: 'terms' });
  await expect(terms).toHaveAttribute('target', '_blank');
  await expect(terms).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(page.getByTestId('remote-blocked')).toBeVisible();
  await expect(page).not.toHaveTitle('pwned');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('attachment').filter({ hasText: 'figures.bin' }).getByTestId('attachment-download').click(),
  ]);
  expect(download.suggestedFilename()).toBe('figures.bin');
  const saved = fs.readFileSync(await download.path());
  expect(saved.equals(bytes)).toBe(true);

  const notes = page.getByTestId('attachment').filter({ hasText: 'notes.txt' });
  await notes.getByTestId('attachment-view').click();
  await expect(notes.getByTestId('attachment-preview')).toHaveText('line one\nline two\n');
  await expectAccessible(page, 'message');
  expect(problems).toEqual([]);
});

test('a wrong passcode says how many tries are left, then the right one signs in', async ({ page }) => {
  const t = createTenant('Fabrikam');
  const bob = address('bob');
  const id = await send(t, { to: [bob], subject: 'Passcode test', text: 'Hi' });
  const link = await noticeLink(bob, id);
  const reference = await askForPasscode(page, link);
  const code = await passcode(bob, reference);
  const wrong = code === '00000000' ? '11111111' : '00000000';

  await page.getByTestId('passcode').fill('123');
  await page.getByTestId('sign-in').click();
  await expect(page.getByTestId('passcode-error')).toHaveText('Enter the 8 digits from the email.');

  await page.getByTestId('passcode').fill(wrong);
  await page.getByTestId('sign-in').click();
  await expect(page.getByTestId('passcode-error')).toHaveText('That passcode is not right. You have 4 tries left.');
  await expect(page.getByTestId('passcode')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('resend')).toBeDisabled();

  // Keyboard only: type the code and press Enter.
  await page.getByTestId('passcode').focus();
  await page.keyboard.type(code);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('subject')).toHaveText('Passcode test');
});

test('revoking while the page is open removes the message within 30 seconds', async ({ page }) => {
  test.setTimeout(90_000);
  const t = createTenant('Fabrikam');
  const bob = address('bob');
  const id = await send(t, { to: [bob], subject: 'Soon revoked', text: 'Secret figures' });
  await signIn(page, await noticeLink(bob, id), bob);
  await expect(page.getByTestId('body')).toHaveText('Secret figures');

  const revoked = await admin(t, 'POST', `/messages/${id}/revoke`);
  expect(revoked.status).toBe(200);
  await expect(page.getByTestId('stopped')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('error-code')).toHaveText('message_revoked');
  await expect(page.getByTestId('stopped-text')).toHaveText(
    'This message has been revoked by the sender. It can no longer be read.',
  );
  await expect(page.getByText('Secret figures')).toHaveCount(0);
  await expect(page.getByTestId('letter')).toHaveCount(0);
  await expectAccessible(page, 'revoked');
});

test('a page that cannot confirm access closes the message within 30 seconds', async ({ page }) => {
  test.setTimeout(90_000);
  const t = createTenant('Fabrikam');
  const bob = address('bob');
  const id = await send(t, { to: [bob], subject: 'Cut off', text: 'Figures for the board' });
  await signIn(page, await noticeLink(bob, id), bob);
  await expect(page.getByTestId('body')).toHaveText('Figures for the board');

  // From now on the page's access checks cannot reach the server (a network cut, a failing
  // proxy): it cannot see a revocation, so it must not keep showing the message.
  await page.route('**/api/m/*/access', (route) => route.abort('internetdisconnected'));
  await expect(page.getByTestId('stopped')).toBeVisible({ timeout: 45_000 });
  await expect(page.getByTestId('error-code')).toHaveText('access_unconfirmed');
  await expect(page.getByTestId('stopped-text')).toHaveText(
    'The message was closed because this page could not check with the secure message service that you may still read it. Check your connection, then open the link again.',
  );
  await expect(page.getByText('Figures for the board')).toHaveCount(0);
  await expect(page.getByTestId('letter')).toHaveCount(0);
});

test('a message whose data encryption policy was purged says so and cannot be opened', async ({ page }) => {
  // The tenant the operator assigned the root keys to; another tenant cannot name them.
  const t = createTenant('Fabrikam', MAIL_SERVER, CUSTOMER_KEY_DOMAIN);
  const other = await admin(createTenant('Contoso'), 'POST', '/data-encryption-policies', { name: 'Stolen', root_keys: ['vault-a', 'vault-b'] });
  expect(other.body.code).toBe('unknown_root_key');
  // Two policies over the same root keys: purging one keeps the keys for the other.
  for (const name of ['Fabrikam_Global', 'Fabrikam_Keep']) {
    const made = await admin(t, 'POST', '/data-encryption-policies', { name, root_keys: ['vault-a', 'vault-b'] });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
  }
  expect((await admin(t, 'PUT', '/data-encryption-policy-assignment', { data_encryption_policy: 'Fabrikam_Global' })).status).toBe(200);
  const bob = address('bob');
  const id = await send(t, { to: [bob], subject: 'Under Customer Key', text: 'Held by our keys' });
  await signIn(page, await noticeLink(bob, id), bob);
  await expect(page.getByTestId('body')).toHaveText('Held by our keys');

  const requested = await admin(t, 'PATCH', '/data-encryption-policies/Fabrikam_Global', {
    permanent_data_purge_requested: true,
    permanent_data_purge_reason: 'Leaving the service',
    permanent_data_purge_contact: 'dpo@fabrikam.example',
  });
  expect(requested.body.status).toBe('PurgeRequested');
  const purged = await admin(t, 'POST', '/data-encryption-policies/Fabrikam_Global/purge', { confirm: 'Fabrikam_Global' });
  expect(purged.status, JSON.stringify(purged.body)).toBe(200);
  expect(purged.body.root_keys_destroyed).toEqual([]);

  // Opening it again (the page asks for the key afresh) ends on the purge page.
  await page.reload();
  await expect(page.getByTestId('error-code')).toHaveText('message_purged', { timeout: 15_000 });
  await expect(page.getByTestId('stopped-text')).toHaveText(
    "The sender's organisation has permanently deleted this message and its keys. Nobody can open it any more.",
  );
  await expect(page.getByText('Held by our keys')).toHaveCount(0);
  await expectAccessible(page, 'purged');
});

/** A message to Bob whose expiry the test has just moved to now: its link and that expiry. */
async function expiredMessage(): Promise<{ link: string; expiredAt: Date }> {
  const t = createTenant('Fabrikam');
  await admin(t, 'POST', '/branding-templates', { identity: 'Short', external_mail_expiry_in_days: 1 });
  const bob = address('bob');
  const id = await send(t, { to: [bob], subject: 'Short-lived', text: 'x', branding_template: 'Short' });
  const link = await noticeLink(bob, id);
  return { link, expiredAt: expireNow(id) };
}

test('an expired message has its own page with the date', async ({ page }) => {
  const { link, expiredAt } = await expiredMessage();
  await page.goto(link);
  await expect(page.getByTestId('error-code')).toHaveText('message_expired');
  await expect(page.getByRole('heading', { name: 'Message expired' })).toBeVisible();
  await expect(page.getByTestId('stopped-text')).toContainText('This message expired on');
  // The date the page shows is the expiry the test set, whatever today is.
  await expect(page.getByTestId('stopped-text')).toContainText(String(expiredAt.getFullYear()));
  await expectAccessible(page, 'expired');
});

test("dates are written the reader's way: British English day first, and Swedish once switched", async ({ browser }) => {
  const { link, expiredAt } = await expiredMessage();
  const timeZone = 'Europe/London';
  const context = await browser.newContext({ locale: 'en-GB', timezoneId: timeZone });
  const page = await context.newPage();
  await page.goto(link);
  await expect(page.getByTestId('error-code')).toHaveText('message_expired');
  // Expected from the expiry the test set, written by this process's own ICU. American English
  // (what the page wrote before: month first, AM/PM) is never this.
  const british = expiredAt.toLocaleString('en-GB', { timeZone });
  const american = expiredAt.toLocaleString('en-US', { timeZone });
  expect(british).not.toBe(american);
  await expect(page.getByTestId('stopped-text')).toContainText(`This message expired on ${british}`);
  await page.getByTestId('language').selectOption('sv');
  await expect(page.getByTestId('stopped-text')).toContainText(expiredAt.toLocaleString('sv', { timeZone }));
  await context.close();
});

test('Do Not Forward: no forward, download or print, printing shows nothing, and a forced forward is refused', async ({ page }) => {
  const t = createTenant('Fabrikam');
  const bob = address('bob');
  const id = await send(t, {
    to: [bob],
    subject: 'Board minutes',
    text: 'Confidential minutes',
    attachments: [{ name: 'minutes.txt', content_type: 'text/plain', content_base64: Buffer.from('minutes').toString('base64') }],
    rights_template: 'Do Not Forward',
  });
  await signIn(page, await noticeLink(bob, id), bob);
  await expect(page.getByTestId('restricted')).toBeVisible();
  await expect(page.getByTestId('reply')).toBeVisible();
  for (const hidden of ['forward', 'print', 'attachment-download']) {
    await expect(page.getByTestId(hidden)).toHaveCount(0);
  }
  // A text attachment can still be read in the page.
  await page.getByTestId('attachment-view').click();
  await expect(page.getByTestId('attachment-preview')).toHaveText('minutes');

  await page.emulateMedia({ media: 'print' });
  await expect(page.getByText('Confidential minutes')).toBeHidden();
  await expect(page.getByText('This protected message cannot be printed.')).toBeVisible();
  await page.emulateMedia({ media: 'screen' });

  const forced = await page.evaluate(async (messageId) => {
    const res = await fetch(`/api/m/${messageId}/forward`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sealpost-request': '1' },
      body: JSON.stringify({ to: ['mallory@example.org'], text: '' }),
    });
    return { status: res.status, body: await res.json() };
  }, id);
  expect(forced.status).toBe(403);
  expect(forced.body.code).toBe('not_allowed');
  await expectAccessible(page, 'do-not-forward');
});

test('Encrypt: a forward reaches a new recipient, who reads it', async ({ page, browser }) => {
  const t = createTenant('Fabrikam');
  const bob = address('bob');
  const dave = address('dave');
  const id = await send(t, { to: [bob], subject: 'Share this', text: 'Original text', rights_template: 'Encrypt' });
  await signIn(page, await noticeLink(bob, id), bob);
  await page.getByTestId('forward').click();
  await expectAccessible(page, 'composer');
  await page.getByTestId('forward-to').fill(dave);
  await page.getByTestId('composer-text').fill('Dave, see below.');
  await page.getByTestId('composer-send').click();
  await expect(page.getByTestId('sent')).toContainText(dave);

  const [notice] = await mailsTo(dave, 1, (m) => /\/m\/[0-9a-f]{32}#t=/.test(m.text));
  const link = notice.text.match(/http:\/\/\S+\/m\/[0-9a-f]{32}#t=[\w-]+/)?.[0] as string;
  const other = await browser.newContext();
  const davePage = await other.newPage();
  await signIn(davePage, link, dave);
  await expect(davePage.getByTestId('body')).toContainText('Dave, see below.');
  await expect(davePage.getByTestId('body')).toContainText('Original text');
  await other.close();
});

test('a reply reaches the sender as a protected message', async ({ page }) => {
  const t = createTenant('Fabrikam');
  const bob = address('bob');
  const sender = `alex@${t.domain}`;
  const id = await send(t, { to: [bob], subject: 'Question', text: 'Can you confirm?' });
  await signIn(page, await noticeLink(bob, id), bob);
  await page.getByTestId('reply').click();
  await page.getByTestId('composer-text').fill('Confirmed.');
  await page.getByTestId('composer-files').setInputFiles({
    name: 'signed.txt', mimeType: 'text/plain', buffer: Buffer.from('signed'),
  });
  await page.getByTestId('composer-send').click();
  await expect(page.getByTestId('sent')).toContainText(sender);
  const [mail] = await mailsTo(sender, 1, (m) => /\/m\/[0-9a-f]{32}#t=/.test(m.text));
  // The notice never carries the reply itself.
  expect(mail.text).not.toContain('Confirmed.');
});

test('branding and Swedish: the tenant texts in Swedish, the logo, and switching language', async ({ browser }) => {
  const t = createTenant('Fabrikam');
  const logo = fs.readFileSync(`${__dirname}/../../public/demo-logo.png`).toString('base64');
  const set = await admin(t, 'PATCH', '/branding-templates/default', {
    portal_text: { text: 'Fabrikam protects mail', translations: { sv: 'Fabrikam skyddar e-post' } },
    introduction_text: { text: 'Fabrikam sent you a message.', translations: { sv: 'Fabrikam har skickat ett meddelande.' } },
    disclaimer_text: 'Fabrikam disclaimer.',
    background_color: '#5c2d91',
    image_base64: logo,
  });
  expect(set.status).toBe(200);
  const bob = address('bob');
  const id = await send(t, { to: [bob], subject: 'Hej', text: 'Hej Bob' });
  const context = await browser.newContext({ locale: 'sv-SE' });
  const page = await context.newPage();
  await page.goto(await noticeLink(bob, id));
  await expect(page.getByTestId('send-passcode')).toHaveText('Skicka en kod till mig');
  await expect(page.getByTestId('portal-text')).toHaveText('Fabrikam skyddar e-post');
  await expect(page.getByTestId('introduction')).toHaveText('Fabrikam har skickat ett meddelande.');
  await expect(page.locator('html')).toHaveAttribute('lang', 'sv');
  await expect(page.getByTestId('tenant-name')).toHaveText('Fabrikam');
  await expect(page.locator('.brand-logo')).toBeVisible();
  await expect(page.locator('.portal-header')).toHaveCSS('background-color', 'rgb(92, 45, 145)');
  await expect(page.getByText('Fabrikam disclaimer.')).toBeVisible();
  await expectAccessible(page, 'branded sign-in (sv)');

  await page.getByTestId('language').selectOption('en');
  await expect(page.getByTestId('send-passcode')).toHaveText('Email me a passcode');
  await expect(page.getByTestId('portal-text')).toHaveText('Fabrikam protects mail');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await context.close();
});

test('on a phone (360 px) the whole journey works without sideways scrolling', async ({ browser }) => {
  const t = createTenant('Fabrikam');
  const bob = address('bob');
  const id = await send(t, {
    to: [bob],
    subject: 'A rather long subject line that has to wrap on a small screen without overflowing',
    text: 'Read on the phone',
    attachments: [{ name: 'a-very-long-attachment-name-that-must-wrap-on-a-phone-screen.txt', content_type: 'text/plain', content_base64: 'eA==' }],
  });
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, await noticeLink(bob, id), bob);
  await expect(page.getByTestId('body')).toHaveText('Read on the phone');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await expectAccessible(page, 'message on a phone');
  await page.getByTestId('sign-out').click();
  await expect(page.getByTestId('error-code')).toHaveText('signed_out');
  await expect(page.getByTestId('letter')).toHaveCount(0);
  await expectAccessible(page, 'signed out');
  await context.close();
});
