import type { Page } from '@playwright/test';

/**
 * What went wrong in `page` while a test ran: uncaught exceptions and console errors (a CSP
 * violation is reported as a console error), and with `warnings` console warnings too. A test
 * ends with `expect(problems).toEqual([])`.
 *
 * The portal first asks whether this browser already has a session; "no" is a 401 by design, and
 * the browser reports it on the console, so that one line is not a problem.
 */
export function collectProblems(page: Page, { warnings = false } = {}): string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (m) => {
    const reported = m.type() === 'error' || (warnings && m.type() === 'warning');
    if (reported && !m.text().includes('status of 401')) problems.push(`${m.type()}: ${m.text()}`);
  });
  return problems;
}
