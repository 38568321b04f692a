/** The relying party (src/auth/oidc-client.ts) against the real in-process provider. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthError, type AuthFailure } from '../../src/auth/errors.js';
import { OidcClient, safeReturnTo } from '../../src/auth/oidc-client.js';
import { FormAgent, readForm } from '../helpers/form-agent.js';
import { AFTER_LOGOUT, discover, REDIRECT, SECRET, signIn, startIdp } from './oidc-fixture.js';
import { assertHandlesBack, handleCounts } from '../helpers/handles.js';

const baseline = handleCounts();

async function refused(p: Promise<unknown>, reason: AuthFailure): Promise<AuthError> {
  let got: AuthError | undefined;
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AuthError, String(err));
    assert.equal(err.reason, reason, `${err.reason}: ${String((err as Error).cause)}`);
    got = err;
    return true;
  });
  return got as AuthError;
}

test('authorization code + PKCE through the login and consent forms gives alice in group dev', async (t) => {
  const idp = await startIdp(t);
  const client = await discover(idp);
  assert.equal(client.scopes, 'openid email profile');
  const start = await client.startLogin({ returnTo: '/#/default/shell' });
  const url = new URL(start.url);
  assert.equal(url.origin + url.pathname, `${idp.issuer}/auth`);
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(url.searchParams.get('redirect_uri'), REDIRECT);
  assert.ok(url.searchParams.get('state') && url.searchParams.get('nonce'));
  // The state cookie is encrypted: neither the verifier nor the state can be read from it.
  assert.equal(start.stateCookie.split('.').length, 5);
  assert.ok(!start.stateCookie.includes(url.searchParams.get('state') as string));

  const { callback, stateCookie } = await signIn(client, 'alice', new FormAgent(), '/#/default/shell');
  const before = Date.now() / 1000;
  const r = await client.finishLogin(callback, stateCookie);
  assert.equal(r.username, 'alice@example.com');
  assert.deepEqual(r.groups, ['dev']);
  assert.equal(r.returnTo, '/#/default/shell');
  assert.ok(r.expiresAt > before + 3500 && r.expiresAt <= before + 3605, `expiresAt ${r.expiresAt}`);
  assert.equal(r.idToken.split('.').length, 3);

  const bob = await signIn(client, 'bob');
  const b = await client.finishLogin(new URL(bob.callback).search, bob.stateCookie); // the query alone is enough
  assert.deepEqual([b.username, b.groups, b.returnTo], ['bob@example.com', ['ops'], '/']);
});

test('claim options: sub as username gets the ISSUER# prefix; prefixes apply as on the API server', async (t) => {
  const idp = await startIdp(t);
  const client = await discover(idp, { usernameClaim: 'sub', groupsPrefix: 'oidc:' });
  const s = await signIn(client, 'alice');
  const r = await client.finishLogin(s.callback, s.stateCookie);
  assert.equal(r.username, `${idp.issuer}#alice`);
  assert.deepEqual(r.groups, ['oidc:dev']);
});

test('the callback must match the login this browser started', async (t) => {
  const idp = await startIdp(t);
  const client = await discover(idp);
  const a = await signIn(client, 'alice');
  const other = await client.startLogin();
  await refused(client.finishLogin(a.callback, undefined), 'login-state');
  await refused(client.finishLogin(a.callback, 'garbage'), 'login-state');
  await refused(client.finishLogin(a.callback, `${a.stateCookie.slice(0, -4)}AAAA`), 'login-state');
  // A state cookie of another login (state mismatch) is refused by openid-client.
  await refused(client.finishLogin(a.callback, other.stateCookie), 'login-state');
  // A replica with another secret cannot read this one's state cookie.
  const foreign = await discover(idp, { secret: 'another-gateway-secret-0123456789' });
  await refused(foreign.finishLogin(a.callback, a.stateCookie), 'login-state');
  // None of the attempts above spent the code (the checks come before the token request).
  const r = await client.finishLogin(a.callback, a.stateCookie);
  assert.equal(r.username, 'alice@example.com');
  // A replayed code is refused by the provider.
  await refused(client.finishLogin(a.callback, a.stateCookie), 'login-rejected');
});

test('an expired login state is refused', async (t) => {
  const idp = await startIdp(t);
  const client = await discover(idp, { loginTtlS: 1 });
  const a = await signIn(client, 'alice');
  await new Promise((r) => setTimeout(r, 2100));
  await refused(client.finishLogin(a.callback, a.stateCookie), 'login-state');
});

test('an error from the provider (access_denied) is a login-rejected refusal with safe text', async (t) => {
  const idp = await startIdp(t);
  const client = await discover(idp);
  const start = await client.startLogin();
  const state = new URL(start.url).searchParams.get('state');
  const err = await refused(client.finishLogin(`?error=access_denied&error_description=<b>no</b>&state=${state}&iss=${encodeURIComponent(idp.issuer)}`, start.stateCookie), 'login-rejected');
  assert.ok(!err.message.includes('<b>'));
});

test('logoutUrl ends the provider session and returns to the registered URI', async (t) => {
  const idp = await startIdp(t);
  const client = await discover(idp);
  const agent = new FormAgent();
  const s = await signIn(client, 'alice', agent);
  const r = await client.finishLogin(s.callback, s.stateCookie);
  const url = new URL(client.logoutUrl({ idTokenHint: r.idToken, postLogoutRedirect: AFTER_LOGOUT, state: 'x' }) as string);
  assert.equal(url.origin + url.pathname, client.endSessionEndpoint);
  assert.equal(url.searchParams.get('id_token_hint'), r.idToken);
  assert.equal(url.searchParams.get('post_logout_redirect_uri'), AFTER_LOGOUT);
  assert.equal(url.searchParams.get('client_id'), idp.clientId);
  const confirm = await agent.request(url.href);
  const form = readForm(confirm);
  const done = await agent.request(form.action, { ...form.fields, logout: 'yes' });
  assert.equal(done.location, `${AFTER_LOGOUT}?state=x`);
  // Without an ID token (the session cookie does not keep one) client_id still identifies us.
  assert.ok(client.logoutUrl({ postLogoutRedirect: AFTER_LOGOUT })?.includes('client_id=podterm'));
});

test('plain http is refused for any issuer but a loopback one; bad options fail before the network', async () => {
  const o = { clientId: 'podterm', clientSecret: 's', redirectUrl: REDIRECT, secret: SECRET };
  await assert.rejects(OidcClient.discover({ ...o, issuer: 'http://idp.example' }), /must use https/);
  await assert.rejects(OidcClient.discover({ ...o, issuer: 'not a url' }), /not a URL/);
  await assert.rejects(OidcClient.discover({ ...o, issuer: 'https://idp.example', secret: 'short' }), RangeError);
  // Loopback http is allowed, and an unreachable provider is a typed refusal.
  await refused(OidcClient.discover({ ...o, issuer: 'http://127.0.0.1:9', timeoutS: 2 }), 'provider-unavailable');
});

test('returnTo is a local path only', () => {
  for (const bad of [undefined, '', 'https://evil.example/', '//evil.example/', '/\\evil.example', 'x', '/a b']) {
    assert.equal(safeReturnTo(bad), '/', String(bad));
  }
  assert.equal(safeReturnTo('/#/default/shell?c=main'), '/#/default/shell?c=main');
});

test('no servers, sockets or timers left open', async () => {
  await assertHandlesBack(baseline);
});
