import type { Page } from '@playwright/test';

/**
 * What went wrong in `page` while a test ran: uncaught exceptions and console errors (a CSP
 * violation is reported as a console error), and with `warnings` console warnings too. A test
 * ends with `expect(problems).toEqual([])`.
 *
 * The browser reports every refused request on the console. The portal first asks whether this
 * browser already has a session, and "no" is a 401 by design, so that line is never a problem; a
 * test that provokes another refusal on purpose names its status in `refusals`.
 */
export function collectProblems(page: Page, { warnings = false, refusals = [] as number[] } = {}): string[] {
  const problems: string[] = [];
  const expected = [401, ...refusals].map((status) => `status of ${status}`);
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (m) => {
    const reported = m.type() === 'error' || (warnings && m.type() === 'warning');
    if (reported && !expected.some((e) => m.text().includes(e))) problems.push(`${m.type()}: ${m.text()}`);
  });
  return problems;
}
