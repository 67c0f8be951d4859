import { test, expect, type Page } from '@playwright/test';
import { expectAccessible } from '../support/axe';
import {
  OIDC_URL, SIGN_IN_SERVER, address, admin, createTenant, noticeLink, send, signIn, socialTenant,
} from '../support/mail-server';

// The sign-in choices against a `sealpost serve` reached as localhost, with a real OpenID provider
// (oidc-provider) as its identity provider: the branding template's OTPEnabled and SocialIdSignIn
// decide what is offered; the provider's verified address must be the recipient's; passkeys are
// made after a sign-in and used on the next link (Chromium's virtual authenticator, over CDP).
test.use({ baseURL: SIGN_IN_SERVER.url });

/** At the provider's login page, sign in as `login` (see support/oidc-provider.mjs). */
async function atProvider(page: Page, login: string): Promise<void> {
  await page.waitForURL((u) => u.href.startsWith(`${OIDC_URL}/interaction/`));
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('anything');
  await page.locator('button[type=submit]').click();
}

test('SocialIdSignIn with OTPEnabled off: the provider signs in, and no passcode is offered or sent', async ({ page, request }) => {
  const t = await socialTenant('Contoso', false);
  const bob = address('bob');
  const id = await send(t, { to: [bob], subject: 'Via your provider', text: 'Hello from Contoso' });
  const link = await noticeLink(bob, id);
  await page.goto(link);
  await expect(page.getByTestId('social-sign-in')).toHaveText('Sign in with Loopback ID');
  await expectAccessible(page, 'sign-in with a provider');
  await expect(page.getByTestId('send-passcode')).toHaveCount(0);
  await expect(page.getByTestId('passcodes-disabled')).toHaveCount(0);
  // The server refuses a passcode too, whatever the page shows.
  const token = new URL(link).hash.replace('#t=', '');
  const refused = await request.post(`/api/m/${id}/passcode`, {
    headers: { 'x-sealpost-request': '1' }, data: { token },
  });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).code).toBe('passcodes_disabled');

  await page.getByTestId('social-sign-in').click();
  // The provider's addresses are compared ignoring case, as Google, Microsoft and Yahoo do.
  await atProvider(page, bob.toUpperCase());
  await expect(page.getByTestId('subject')).toHaveText('Via your provider');
  await expect(page).toHaveURL(`${SIGN_IN_SERVER.url}/m/${id}`);

  const log = await admin(t, 'GET', '/audit');
  expect(JSON.stringify(log.body)).toContain('signed_in.provider.loopback-id');
});

test('the provider vouching for another address does not sign in; the page says why and offers the passcode', async ({ page }) => {
  const t = await socialTenant('Contoso', true);
  const bob = address('bob');
  const id = await send(t, { to: [bob], subject: 'Not for Mallory', text: 'Secret' });
  await page.goto(await noticeLink(bob, id));
  await page.getByTestId('social-sign-in').click();
  await atProvider(page, address('mallory'));
  await expect(page.getByTestId('sign-in-problem')).toContainText('different email address');
  await expect(page).toHaveURL(`${SIGN_IN_SERVER.url}/m/${id}`);
  await expect(page.getByTestId('send-passcode')).toBeVisible();
  await expect(page.getByTestId('letter')).toHaveCount(0);
});

test('an address the provider has not verified does not sign in', async ({ page }) => {
  const t = await socialTenant('Contoso', true);
  const bob = address('bob');
  const id = await send(t, { to: [bob], subject: 'Verified only', text: 'Secret' });
  await page.goto(await noticeLink(bob, id));
  await page.getByTestId('social-sign-in').click();
  await atProvider(page, `unverified:${bob}`);
  await expect(page.getByTestId('sign-in-problem')).toContainText('verified');
  await expect(page.getByTestId('letter')).toHaveCount(0);
});

test('a passkey made after signing in opens the next link without a code; removed, it no longer signs in', async ({ page, context }) => {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  const t = createTenant('Northwind', SIGN_IN_SERVER);
  expect((await admin(t, 'PATCH', '/tenant', { enable_portal_tracking_logs: true })).status).toBe(200);
  const bob = address('bob');
  const first = await send(t, { to: [bob], subject: 'First', text: 'One' });
  await signIn(page, await noticeLink(bob, first), bob);
  // Offered, never made without asking.
  await expect(page.getByTestId('passkey')).toHaveCount(0);
  await page.getByTestId('add-passkey').click();
  await expect(page.getByTestId('passkey-status')).toHaveText('Passkey saved. Next time, sign in with it.');
  await expect(page.getByTestId('passkey')).toHaveCount(1);
  await expect(page.getByTestId('passkey-name')).toHaveText(/Chrome on Linux/);
  const listed = await admin(t, 'GET', `/tenant/passkeys?address=${encodeURIComponent(bob)}`);
  expect(listed.body).toHaveLength(1);

  // The next message: the passkey signs in, no passcode asked for.
  const second = await send(t, { to: [bob], subject: 'Second', text: 'Two' });
  const secondLink = await noticeLink(bob, second);
  await page.goto(secondLink);
  await page.getByTestId('passkey-sign-in').click();
  await expect(page.getByTestId('subject')).toHaveText('Second');

  // A third link open in another tab, offering the passkey; removed in the first, it fails there.
  const third = await send(t, { to: [bob], subject: 'Third', text: 'Three' });
  const other = await context.newPage();
  await other.goto(await noticeLink(bob, third));
  await expect(other.getByTestId('passkey-sign-in')).toBeVisible();
  await page.getByTestId('remove-passkey').click();
  await expect(page.getByTestId('passkey')).toHaveCount(0);
  await other.getByTestId('passkey-sign-in').click();
  await expect(other.getByTestId('sign-in-problem')).toContainText('did not sign you in');
  await expect(other.getByTestId('letter')).toHaveCount(0);
  const audit = JSON.stringify((await admin(t, 'GET', '/audit')).body);
  expect(audit).toContain('signed_in.passkey');
  expect(audit).toContain('passkey.removed');
  const portalLog = JSON.stringify((await admin(t, 'GET', '/portal-log')).body);
  for (const event of ['passkey_added', 'signed_in_with_passkey', 'passkey_removed', 'passkey_refused']) {
    expect(portalLog).toContain(event);
  }
});
