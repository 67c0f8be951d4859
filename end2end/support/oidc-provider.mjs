// A real OpenID provider on loopback for the social sign-in tests: the npm package oidc-provider
// (the certified Node.js implementation) with its development login page, which signs in whoever
// types a login. What the tests control is the address the provider vouches for:
//   - `someone@example.net`            → email someone@example.net, email_verified true
//   - `unverified:someone@example.net` → the same email, email_verified false
// Consent is granted without a page (the tests are about Sealpost's side, not the provider's).
//
// Usage: node oidc-provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI [REDIRECT_URI…]
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, ...redirects] = process.argv.slice(2);
if (!port || !clientId || !clientSecret || redirects.length === 0) {
  console.error('usage: oidc-provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI…');
  process.exit(2);
}
const issuer = `http://localhost:${port}`;

function claimsOf(login) {
  const unverified = login.startsWith('unverified:');
  const email = unverified ? login.slice('unverified:'.length) : login;
  return { sub: login, email, email_verified: !unverified };
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirects,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, sub) {
    return { accountId: sub, async claims() { return claimsOf(sub); } };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email');
    await grant.save();
    return grant;
  },
});
// Plain http on loopback is what the tests have; the provider allows it only when told.
provider.proxy = true;
const server = provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider at ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
