import { test, expect, type Browser, type Page } from '@playwright/test';
import { expectAccessible } from '../support/axe';
import { MAIL_URL, address, createTenant, mailsTo, noticeLink, send, signIn } from '../support/mail-server';

// The sender's journey against `sealpost serve` sending through maildev: a reply reaches the sender
// as a protected message read in the portal; the sender signs in to /sent with a passcode to their
// own address, sees who opened what and when, and removes external access for one recipient (whose
// open page loses the message) and then for everyone.
test.use({ baseURL: MAIL_URL });

async function reader(browser: Browser, link: string, to: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, link, to);
  return page;
}

test('a sender reads a reply, sees who opened the message, and removes external access', async ({ page, browser }) => {
  test.setTimeout(120_000);
  const t = createTenant('Northwind');
  const alex = `alex@${t.domain}`;
  const bob = address('bob');
  const carol = address('carol');
  const id = await send(t, { to: [bob], cc: [carol], subject: 'Board minutes', text: 'Draft minutes attached.' });

  // Both recipients open it; Carol replies.
  const bobPage = await reader(browser, await noticeLink(bob, id), bob);
  const carolPage = await reader(browser, await noticeLink(carol, id), carol);
  await carolPage.getByTestId('reply').click();
  await carolPage.getByTestId('composer-text').fill('Looks right to me.');
  await carolPage.getByTestId('composer-send').click();
  await expect(carolPage.getByTestId('sent')).toContainText(alex);

  // The reply reaches Alex as a protected message, read in the same portal.
  const [replyNotice] = await mailsTo(alex, 1, (m) => /\/m\/[0-9a-f]{32}#t=/.test(m.text));
  const replyId = replyNotice.text.match(/\/m\/([0-9a-f]{32})#t=/)?.[1] as string;
  const replyPage = await reader(browser, await noticeLink(alex, replyId), alex);
  await expect(replyPage.getByTestId('body')).toContainText('Looks right to me.');

  // Alex signs in to the sender's page with a passcode sent to their own address.
  await page.goto('/');
  await page.getByTestId('sent-link').click();
  await expect(page).toHaveURL(/\/sent$/);
  await page.getByTestId('sender-address').fill(alex);
  await page.getByTestId('sender-send-passcode').click();
  const reference = (await page.getByTestId('reference').textContent())?.trim() as string;
  // Alex also has a recipient's passcode mail (for the reply); take the sender's one.
  const [codeMail] = await mailsTo(alex, 1, (m) =>
    m.text.includes('see the protected messages you sent') && m.text.includes(`Reference: ${reference}`));
  await page.getByTestId('passcode').fill(codeMail.text.match(/\b\d{8}\b/)?.[0] as string);
  await page.getByTestId('sign-in').click();
  await expect(page.getByTestId('sender-signed-in')).toHaveText(alex);

  const message = page.locator(`[data-testid=sent-message][data-message-id="${id}"]`);
  await expect(message.getByRole('heading', { name: 'Board minutes' })).toBeVisible();
  const row = (who: string) => message.locator(`[data-testid=sent-recipient][data-address="${who}"]`);
  await expect(row(bob).getByTestId('opened')).not.toHaveText('Not opened');
  await expect(row(carol).getByTestId('opened')).not.toHaveText('Not opened');
  await expect(row(bob).getByTestId('access')).toContainText('Can read');
  await expectAccessible(page, 'sent messages');

  // Remove Bob's access: the page shows it at once, and Bob's open page loses the message.
  page.once('dialog', (d) => {
    expect(d.message()).toContain(bob);
    void d.accept();
  });
  await row(bob).getByTestId('remove-access-one').click();
  await expect(page.getByTestId('sender-status')).toHaveText('External access removed.');
  await expect(row(bob).getByTestId('access')).toContainText(`Removed by ${alex}`);
  await expect(row(bob).getByTestId('remove-access-one')).toHaveCount(0);
  await expect(row(carol).getByTestId('access')).toContainText('Can read');
  await expect(bobPage.getByTestId('stopped')).toBeVisible({ timeout: 30_000 });
  await expect(bobPage.getByTestId('error-code')).toHaveText('access_revoked');
  await expect(bobPage.getByText('Draft minutes attached.')).toHaveCount(0);

  // Declining the question changes nothing; accepting it removes access for everyone.
  page.once('dialog', (d) => void d.dismiss());
  await message.getByTestId('remove-access-all').click();
  await expect(message.getByTestId('sent-state')).toHaveText('Recipients can read it');
  page.once('dialog', (d) => void d.accept());
  await message.getByTestId('remove-access-all').click();
  await expect(message.getByTestId('sent-state')).toContainText(`External access removed (removed by ${alex}`);
  await expect(message.getByTestId('remove-access-all')).toHaveCount(0);
  await expect(carolPage.getByTestId('stopped')).toBeVisible({ timeout: 30_000 });
  await expect(carolPage.getByTestId('error-code')).toHaveText('message_revoked');

  // Signing out ends the session: a reload asks for the address again.
  await page.getByTestId('sender-sign-out').click();
  await expect(page.getByTestId('sender-address')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('sender-address')).toBeVisible();
});
