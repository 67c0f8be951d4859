// The accessibility scan run on every page of the journeys: no serious or critical WCAG 2.2 AA
// violation. The message body's frame is left out: axe cannot run inside it (its sandbox allows no
// script, on purpose), and what is in it is the sender's HTML. The frame element itself — its
// title — is checked with the page.
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

export async function expectAccessible(page: Page, where: string): Promise<void> {
  const results = await new AxeBuilder({ page })
    .exclude('[data-testid=body-frame]')
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze();
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad, `accessibility on ${where}`).toEqual([]);
}
