import { test, expect } from '@playwright/test';
import { collectProblems } from '../support/problems';

// Journey: a newcomer runs the demo and does the whole recipient journey on one machine: the
// branded notice in the development mailbox, its link, a passcode emailed to the same mailbox,
// and the demo message with its attachment decrypted in the browser.
test('the demo message can be read end to end through the development mailbox', async ({ page, context }) => {
  const problems = collectProblems(page);

  const response = await page.goto('/dev/mailbox');
  expect(response?.status()).toBe(200);
  expect(response?.headers()['cache-control']).toBe('no-store');
  await expect(page.getByRole('heading', { name: 'Development mailbox' })).toBeVisible();
  const row = page.getByTestId('mail').filter({ hasText: 'your first protected message' }).first();
  await expect(row).toContainText('you@example.net');
  await row.getByRole('link').click();

  await expect(page.getByText('Contoso has sent you a protected message.')).toBeVisible();
  const link = page.getByTestId('read-link');
  const href = await link.getAttribute('href');
  expect(href).toMatch(/\/m\/[0-9a-f]{32}#t=spl_[A-Za-z0-9_-]{43}$/);
  await link.click();
  await expect(page).toHaveURL(/\/m\/[0-9a-f]{32}#t=spl_/);

  // The branded sign-in page: logo, tenant, masked address.
  await expect(page.getByTestId('tenant-name')).toHaveText('Contoso (demo)');
  await expect(page.locator('.brand-logo')).toBeVisible();
  await expect(page.getByTestId('recipient-hint')).toHaveText('y•••@example.net');
  await page.getByTestId('send-passcode').click();
  const reference = (await page.getByTestId('reference').textContent())?.trim();
  expect(reference).toBeTruthy();

  // The passcode arrives in the development mailbox, in another tab.
  const mailbox = await context.newPage();
  const mail = mailbox.getByTestId('mail').filter({ hasText: `reference: ${reference}` }).first();
  await expect.poll(async () => {
    await mailbox.goto('/dev/mailbox');
    return mail.count();
  }, { message: 'the passcode mail in the development mailbox' }).toBe(1);
  await mail.getByRole('link').click();
  const code = (await mailbox.locator('pre').innerText()).match(/\b\d{8}\b/)?.[0] ?? '';
  expect(code).toMatch(/^\d{8}$/);
  await mailbox.close();

  await page.getByTestId('passcode').fill(code);
  await page.getByTestId('sign-in').click();
  await expect(page.getByTestId('subject')).toHaveText('Välkommen – your first protected message');
  await expect(page.frameLocator('[data-testid=body-frame]').locator('body')).toContainText('sealed by Sealpost');
  await expect(page.getByTestId('attachment-name')).toHaveText('räkning-november.txt');
  await page.getByTestId('attachment-view').click();
  await expect(page.getByTestId('attachment-preview')).toHaveText('Faktura 2026-11: 1 234,50 kr\n');
  expect(problems).toEqual([]);
});
