import { test, expect } from '@playwright/test';
import { collectProblems } from '../support/problems';

// Journey: a recipient opens the portal. The WASM app must mount under the strict CSP with no
// console errors (a CSP violation is reported as a console error), and talk to the server.
test('the portal mounts under the strict CSP with no console errors', async ({ page }) => {
  const problems = collectProblems(page, { warnings: true });

  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(csp).not.toContain('unsafe-inline');

  await expect(page.getByTestId('portal-ready')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Read a protected message' })).toBeVisible();
  expect(problems).toEqual([]);
});

test('a message link opens the portal app, not a server 404', async ({ page }) => {
  // The unknown link's token is refused with 404 link_not_found, on purpose.
  const problems = collectProblems(page, { refusals: [404] });
  const response = await page.goto('/m/0123456789abcdef0123456789abcdef#t=spl_unknown');
  expect(response?.status()).toBe(200);
  await expect(page.getByTestId('portal-ready')).toBeVisible();
  // An unknown link has its own page, with the code behind it.
  await expect(page.getByTestId('stopped')).toBeVisible();
  await expect(page.getByTestId('error-code')).toHaveText('link_not_found');
  expect(problems).toEqual([]);
});
