/**
 * The test IdP itself (oidc-provider 9 on Node 20, which it calls an unsupported runtime): every
 * endpoint podterm relies on, driven by openid-client directly and a plain HTTP form agent.
 * discovery, authorize, login, consent, token, jwks, userinfo, refresh_token, end_session.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import * as oidc from 'openid-client';
import { startTestIdp, USERS, type TestIdp } from '../helpers/oidc-provider.js';
import { FormAgent, readForm, signInWithForms } from '../helpers/form-agent.js';
import { assertHandlesBack, handleCounts } from '../helpers/handles.js';

const baseline = handleCounts();

const REDIRECT = 'https://podterm.example/auth/callback';
const AFTER_LOGOUT = 'https://podterm.example/signed-out';

async function idpFor(t: TestContext): Promise<TestIdp> {
  const idp = await startTestIdp({ redirectUris: [REDIRECT], postLogoutRedirectUris: [AFTER_LOGOUT] });
  t.after(() => idp.close());
  t.after(() => assert.deepEqual(idp.serverErrors, [], 'the provider reported server errors'));
  return idp;
}

async function clientFor(idp: TestIdp): Promise<oidc.Configuration> {
  const config = await oidc.discovery(new URL(idp.issuer), idp.clientId, idp.clientSecret,
    oidc.ClientSecretBasic(idp.clientSecret), { execute: [oidc.allowInsecureRequests] });
  oidc.enableNonRepudiationChecks(config); // the ID token signature is checked against /jwks
  return config;
}

async function authorize(config: oidc.Configuration, scope: string, extra: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope, state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  return { url: url.href, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce } };
}

test('discovery advertises what podterm needs', async (t) => {
  const idp = await idpFor(t);
  const meta = (await clientFor(idp)).serverMetadata();
  assert.equal(meta.issuer, idp.issuer);
  for (const k of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint', 'end_session_endpoint'] as const) {
    assert.ok(meta[k]?.startsWith(idp.issuer + '/'), `${k}: ${meta[k]}`);
  }
  assert.deepEqual(meta.id_token_signing_alg_values_supported, ['RS256']);
  assert.ok(meta.supportsPKCE('S256'));
});

test('code + PKCE, login, consent, token, jwks, userinfo, refresh and end_session all work', async (t) => {
  const idp = await idpFor(t);
  const config = await clientFor(idp);
  const agent = new FormAgent();
  const a = await authorize(config, 'openid email profile offline_access', { prompt: 'consent' });
  const callback = await signInWithForms(agent, a.url, REDIRECT, 'alice', USERS.alice!.password);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(callback), a.checks);
  const claims = tokens.claims();
  assert.equal(claims?.sub, 'alice');
  assert.equal(claims?.email, 'alice@example.com');
  assert.deepEqual(claims?.groups, ['dev']);
  assert.ok(tokens.refresh_token, 'offline_access with consent gives a refresh token');

  const info = await oidc.fetchUserInfo(config, tokens.access_token, 'alice');
  assert.equal(info.email, 'alice@example.com');
  assert.deepEqual(info.groups, ['dev']);

  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token as string);
  assert.equal(refreshed.claims()?.sub, 'alice');

  // RP-initiated logout: the provider asks for confirmation (a form with an xsrf field), then
  // returns to the registered post-logout URI with our state.
  const logout = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token as string, post_logout_redirect_uri: AFTER_LOGOUT, state: 'bye' });
  const confirm = await agent.request(logout.href);
  assert.equal(confirm.status, 200);
  const form = readForm(confirm);
  const done = await agent.request(form.action, { ...form.fields, logout: 'yes' });
  assert.equal(done.location, `${AFTER_LOGOUT}?state=bye`);

  // The provider session is gone: a new authorization asks for the password again.
  const again = await authorize(config, 'openid');
  const page = await agent.follow(again.url, (l) => l.startsWith(REDIRECT));
  assert.equal(page.status, 200);
  assert.match(page.body, /name="password"/);
});

test('a wrong password or an unknown user gets the login page again, never a code', async (t) => {
  const idp = await idpFor(t);
  const config = await clientFor(idp);
  for (const [login, password] of [['alice', 'bob-password'], ['mallory', 'x']] as const) {
    const agent = new FormAgent();
    const a = await authorize(config, 'openid');
    const page = await agent.follow(a.url, (l) => l.startsWith(REDIRECT));
    const form = readForm(page);
    const res = await agent.request(form.action, { ...form.fields, login, password });
    assert.equal(res.status, 401);
    assert.equal(res.location, undefined);
  }
});

test('PKCE is required even for the confidential client', async (t) => {
  const idp = await idpFor(t);
  const config = await clientFor(idp);
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state: 's' });
  const page = await new FormAgent().request(url.href);
  const back = new URL(page.location ?? 'about:blank');
  assert.equal(back.searchParams.get('error'), 'invalid_request');
  assert.match(back.searchParams.get('error_description') ?? '', /requires PKCE/);
});

test('no servers, sockets or timers left open', async () => {
  await assertHandlesBack(baseline);
});
