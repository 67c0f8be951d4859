import { test, expect } from '@playwright/test';
import { Browser, type Engine } from '../support/webdriver';
import { OIDC_URL, address, noticeLink, send, socialTenant } from '../support/mail-server';

// Social sign-in in Firefox ESR over WebDriver (the webkit project leaves it out, see
// playwright.config.ts), against the same server and OpenID provider as the Chromium journeys: the flow's cookie comes back with
// the provider's redirect and the session cookie set on the way back is sent by the page's own
// requests.

let ff: Browser;
// This test's own browser, once started (a failed start leaves nothing to close).
let started: Browser | undefined;
test.beforeEach(async ({}, info) => {
  started = undefined;
  ff = started = await Browser.start(info.project.name as Engine);
});
test.afterEach(async () => { await started?.close(); started = undefined; });

test('sign in with the identity provider and read the message, with no passcode', async () => {
  const t = await socialTenant('Contoso', false);
  const bob = address('bob');
  const id = await send(t, { to: [bob], subject: 'Via your provider', text: 'Hello from Contoso' });
  await ff.goto(await noticeLink(bob, id));
  await ff.byTestId('social-sign-in');
  expect(await ff.count('send-passcode')).toBe(0);
  await ff.click('social-sign-in');
  await ff.waitFor(`location.href.startsWith(${JSON.stringify(`${OIDC_URL}/interaction/`)})`, 'the provider\'s login page');
  await ff.run(`
    document.querySelector('input[name=login]').value = arguments[0];
    document.querySelector('input[name=password]').value = 'anything';
    document.querySelector('form').submit();`, bob);
  await ff.byTestId('letter');
  expect(await ff.text('subject')).toBe('Via your provider');
  expect(await ff.text('body')).toBe('Hello from Contoso');
});
