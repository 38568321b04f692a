/**
 * OIDC bearer tokens against an in-test issuer (jose keys, discovery and JWKS served by node:http
 * on port 0): the user from the configured claim with kube's prefix rules, groups into RBAC, and
 * 401 for expired, wrong-audience, wrong-issuer, alg none and re-signed tokens.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWTPayload } from 'jose';
import { OidcConfigError, startSandbox } from '../../src/sandbox/index.js';
import { assertDrained } from './helpers.js';
import { bearer, call } from './identity-helpers.js';

const { publicKey, privateKey } = await generateKeyPair('RS256');
const other = await generateKeyPair('RS256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
let jwksFetches = 0;
const idp = createServer((req, res) => {
  const base = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  if (req.url === '/.well-known/openid-configuration') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks`, id_token_signing_alg_values_supported: ['RS256'] }));
  }
  if (req.url === '/jwks') {
    jwksFetches++;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ keys: [jwk] }));
  }
  res.writeHead(404).end();
});
await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
after(() => new Promise<void>((resolve) => idp.close(() => resolve())));
idp.on('connection', (s) => s.unref());
const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;

const sb = await startSandbox({ oidc: { issuerUrl: issuer, clientId: 'podterm', usernameClaim: 'email', groupsClaim: 'groups' } });
after(() => sb.close());
afterEach(() => assertDrained(sb));

const now = (): number => Math.floor(Date.now() / 1000);
function token(claims: JWTPayload, opts: { exp?: number; iss?: string; aud?: string; key?: CryptoKey } = {}): Promise<string> {
  return new SignJWT({ sub: 'user-1', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(opts.iss ?? issuer)
    .setAudience(opts.aud ?? 'podterm')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? now() + 300)
    .sign(opts.key ?? privateKey);
}

const SSR = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
async function whoami(tok: string): Promise<{ status: number; user?: unknown }> {
  const r = await call(sb, 'POST', SSR, bearer(tok), { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' });
  return r.status === 201 ? { status: 201, user: (r.json().status as { userInfo: unknown }).userInfo } : { status: r.status };
}

test('a valid ID token: the email claim is the username, groups feed RBAC', async () => {
  const tok = await token({ email: 'alice@example.com', email_verified: true, groups: ['dev'] });
  assert.deepEqual(await whoami(tok), { status: 201, user: { username: 'alice@example.com', groups: ['dev', 'system:authenticated'] } });
  assert.equal((await call(sb, 'GET', '/api/v1/namespaces/default/pods', bearer(tok))).status, 200);
  const elsewhere = await call(sb, 'GET', '/api/v1/namespaces/load/pods', bearer(tok));
  assert.equal(elsewhere.json().message, 'pods is forbidden: User "alice@example.com" cannot list resource "pods" in API group "" in the namespace "load"');
  // Within the 60 s skew an expired token still passes; static tokens keep working beside OIDC.
  assert.equal((await whoami(await token({ email: 'a@example.com' }, { exp: now() - 30 }))).status, 201);
  assert.equal((await whoami(sb.tokens.admin)).status, 201);
  assert.ok(jwksFetches >= 1);
});

test('invalid tokens are 401: expired, wrong audience, wrong issuer, alg none, re-signed, unverified email, no claim', async () => {
  const claims = { email: 'mallory@example.com', groups: ['system:masters'] };
  const cases: [string, string][] = [
    ['expired', await token(claims, { exp: now() - 120 })],
    ['wrong audience', await token(claims, { aud: 'someone-else' })],
    ['wrong issuer', await token(claims, { iss: 'https://evil.example' })],
    ['alg none', new UnsecuredJWT({ ...claims, sub: 'x' }).setIssuer(issuer).setAudience('podterm').setExpirationTime(now() + 300).encode()],
    ['re-signed by another key', await token(claims, { key: other.privateKey })],
    ['email not verified', await token({ ...claims, email_verified: false })],
    ['no email claim', await token({ groups: ['dev'] })],
    ['not a JWT', 'a.b'],
  ];
  for (const [what, tok] of cases) {
    const r = await call(sb, 'GET', '/api/v1/namespaces/default/pods', bearer(tok));
    assert.equal(r.status, 401, what);
    assert.equal(r.json().reason, 'Unauthorized', what);
  }
});

test('kube prefix rules: sub claim gets "<issuer>#", groups prefix applies; bad issuer URLs are refused', async () => {
  const sb2 = await startSandbox({ oidc: { issuerUrl: issuer, clientId: 'podterm', groupsClaim: 'groups', groupsPrefix: 'oidc:' } });
  try {
    const tok = await token({ groups: 'dev' });
    const r = await call(sb2, 'POST', SSR, bearer(tok), { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' });
    assert.deepEqual((r.json().status as { userInfo: unknown }).userInfo, { username: `${issuer}#user-1`, groups: ['oidc:dev', 'system:authenticated'] });
  } finally {
    await sb2.close();
  }
  await assert.rejects(startSandbox({ oidc: { issuerUrl: 'http://idp.example', clientId: 'x' } }), OidcConfigError);
  await assert.rejects(startSandbox({ oidc: { issuerUrl: 'not a url', clientId: 'x' } }), OidcConfigError);
});
