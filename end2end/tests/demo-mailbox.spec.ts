import { test, expect } from '@playwright/test';

// Journey: a newcomer runs the demo, opens the development mailbox, finds the branded notice for
// the demo message and follows its "Read the message" link into the portal.
test('the demo notice is in the development mailbox and its link opens the portal', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));

  const response = await page.goto('/dev/mailbox');
  expect(response?.status()).toBe(200);
  expect(response?.headers()['cache-control']).toBe('no-store');
  await expect(page.getByRole('heading', { name: 'Development mailbox' })).toBeVisible();
  const row = page.getByTestId('mail').filter({ hasText: 'you@example.net' }).first();
  await expect(row).toContainText('your first protected message');
  await row.getByRole('link').click();

  await expect(page.getByText('Contoso has sent you a protected message.')).toBeVisible();
  const link = page.getByTestId('read-link');
  const href = await link.getAttribute('href');
  expect(href).toMatch(/\/m\/[0-9a-f]{32}#t=spl_[A-Za-z0-9_-]{43}$/);
  await link.click();
  await expect(page).toHaveURL(/\/m\/[0-9a-f]{32}#t=spl_/);
  await expect(page.getByTestId('portal-ready')).toBeVisible();
  expect(problems).toEqual([]);
});
