/**
 * Bearer ID tokens (src/auth/bearer-verifier.ts): a real token from the provider passes; forged,
 * expired, foreign and confused ones are refused with a reason, using the provider's real JWKS.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import { BearerVerifier, bearerToken, idTokenAlgorithms } from '../../src/auth/bearer-verifier.js';
import { AuthError, type AuthFailure } from '../../src/auth/errors.js';
import type { TestIdp } from '../helpers/oidc-provider.js';
import { discover, signIn, startIdp } from './oidc-fixture.js';
import { assertHandlesBack, handleCounts } from '../helpers/handles.js';

const baseline = handleCounts();

interface Setup {
  idp: TestIdp;
  verifier: BearerVerifier;
  idToken: string;
  /** Valid claims for alice, for tokens the test signs itself. */
  claims: () => JWTPayload;
}

async function setup(t: TestContext, o: { cacheMax?: number } = {}): Promise<Setup> {
  const idp = await startIdp(t);
  const client = await discover(idp);
  const s = await signIn(client, 'alice');
  const { idToken } = await client.finishLogin(s.callback, s.stateCookie);
  const verifier = BearerVerifier.forClient(client, o);
  const now = Math.floor(Date.now() / 1000);
  const claims = (): JWTPayload => ({
    iss: idp.issuer, aud: idp.clientId, sub: 'alice', iat: now, exp: now + 600,
    email: 'alice@example.com', email_verified: true, groups: ['dev'],
  });
  return { idp, verifier, idToken, claims };
}

async function refused(v: BearerVerifier, token: string, reason: AuthFailure): Promise<void> {
  await assert.rejects(v.verify(token), (err: unknown) => {
    assert.ok(err instanceof AuthError, String(err));
    assert.equal(err.reason, reason, `${err.reason} (${String((err as Error).cause)})`);
    assert.equal(err.httpStatus, 401);
    return true;
  });
}

test('a real ID token from the provider passes, and a token the IdP key signs passes', async (t) => {
  const { idp, verifier, idToken, claims } = await setup(t);
  assert.deepEqual(verifier.algorithms, ['RS256']);
  const p = await verifier.verify(idToken);
  assert.equal(p.username, 'alice@example.com');
  assert.deepEqual(p.groups, ['dev']);
  assert.ok(p.expiresAt > Date.now() / 1000);
  assert.equal((await verifier.verify(await idp.sign(claims()))).username, 'alice@example.com');
});

test('expired (past 60 s of skew), wrong audience, wrong issuer are refused; 30 s of skew is fine', async (t) => {
  const { idp, verifier, claims } = await setup(t);
  const now = Math.floor(Date.now() / 1000);
  await refused(verifier, await idp.sign({ ...claims(), iat: now - 700, exp: now - 90 }), 'expired');
  assert.ok(await verifier.verify(await idp.sign({ ...claims(), iat: now - 700, exp: now - 30 })));
  await refused(verifier, await idp.sign({ ...claims(), iat: now + 120 }), 'not-yet-valid');
  await refused(verifier, await idp.sign({ ...claims(), nbf: now + 120 }), 'not-yet-valid');
  await refused(verifier, await idp.sign({ ...claims(), aud: 'another-client' }), 'bad-audience');
  await refused(verifier, await idp.sign({ ...claims(), aud: ['another-client', idp.clientId] }), 'bad-audience'); // no azp
  assert.ok(await verifier.verify(await idp.sign({ ...claims(), aud: ['another-client', idp.clientId], azp: idp.clientId })));
  await refused(verifier, await idp.sign({ ...claims(), azp: 'another-client' }), 'bad-audience');
  await refused(verifier, await idp.sign({ ...claims(), iss: 'https://evil.example' }), 'bad-issuer');
  await refused(verifier, await idp.sign({ ...claims(), iss: `${idp.issuer}/` }), 'bad-issuer');
});

test('alg none, HS256 keyed with the public key, and tokens re-signed by another key are refused', async (t) => {
  const { idp, verifier, idToken, claims } = await setup(t);
  await refused(verifier, new UnsecuredJWT(claims()).encode(), 'bad-algorithm');
  // Algorithm confusion (RFC 8725 3.1): HMAC with the issuer's public key as the secret.
  const jwks = await (await fetch(`${idp.issuer}/jwks`)).json() as { keys: Array<Record<string, string>> };
  const publicKeyBytes = Buffer.from(JSON.stringify(jwks.keys[0]));
  const hs = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: jwks.keys[0]!.kid }).sign(publicKeyBytes);
  await refused(verifier, hs, 'bad-algorithm');
  // Another RSA key claiming the IdP's kid, and one with its own kid.
  const other = await generateKeyPair('RS256');
  const kid = jwks.keys[0]!.kid as string;
  await refused(verifier, await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid }).sign(other.privateKey), 'bad-signature');
  await refused(verifier, await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: 'attacker' }).sign(other.privateKey), 'unknown-key');
  // An ES256 key the provider does not advertise (and does not publish).
  const ec = await generateKeyPair('ES256');
  await refused(verifier, await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid }).sign(ec.privateKey), 'bad-algorithm');
  // The real token with its payload changed.
  const [h, p, s] = idToken.split('.') as [string, string, string];
  const payload = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), email: 'admin@example.com' };
  await refused(verifier, `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`, 'bad-signature');
  assert.ok(await exportJWK(other.publicKey)); // (keys are real keys, not fixtures)
});

test('access tokens, unusable claims and garbage are refused', async (t) => {
  const { idp, verifier, claims } = await setup(t);
  const at = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign((await generateKeyPair('RS256')).privateKey);
  await refused(verifier, at, 'not-an-id-token');
  await refused(verifier, await idp.sign({ ...claims(), email: undefined }), 'bad-claim');
  await refused(verifier, await idp.sign({ ...claims(), email_verified: false }), 'email-not-verified');
  await refused(verifier, await idp.sign({ ...claims(), sub: undefined }), 'bad-claim');
  await refused(verifier, 'not.a.token', 'malformed');
  await refused(verifier, '', 'malformed');
});

test('verified tokens are cached with a bound, and a cached token still expires', async (t) => {
  const { idp, claims } = await setup(t);
  let clock = Date.now();
  const client = { issuer: idp.issuer, clientId: idp.clientId, jwksUri: `${idp.issuer}/jwks`, idTokenAlgorithms: ['RS256'],
    mapping: { usernameClaim: 'email', usernamePrefix: '', groupsClaim: 'groups', groupsPrefix: '' } };
  const verifier = BearerVerifier.forClient(client, { cacheMax: 2, now: () => clock });
  const now = Math.floor(clock / 1000);
  const tokens = await Promise.all([1, 2, 3].map((i) => idp.sign({ ...claims(), exp: now + 100 * i })));
  await verifier.verify(tokens[0]!);
  await verifier.verify(tokens[0]!);
  assert.equal(verifier.cacheSize, 1);
  for (const tok of tokens) await verifier.verify(tok);
  assert.equal(verifier.cacheSize, 2);
  // A mutation of a returned person does not reach the cache.
  (await verifier.verify(tokens[2]!)).groups.push('system:masters');
  assert.deepEqual((await verifier.verify(tokens[2]!)).groups, ['dev']);
  clock += 400_000; // past every exp + 60 s
  await refused(verifier, tokens[2]!, 'expired');
});

test('bearerToken() and the algorithm policy', () => {
  assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
  assert.equal(bearerToken('bearer  abc.def.ghi '), 'abc.def.ghi');
  assert.equal(bearerToken('Basic abc'), undefined);
  assert.equal(bearerToken('Bearer a b'), undefined);
  assert.equal(bearerToken(''), undefined);
  assert.deepEqual(idTokenAlgorithms(['HS256', 'none', 'RS256', 'ES256']), ['RS256', 'ES256']);
  assert.deepEqual(idTokenAlgorithms(undefined), ['RS256']);
  assert.throws(() => idTokenAlgorithms(['HS256', 'none']), /no asymmetric/);
  assert.throws(() => new BearerVerifier({ issuer: 'http://idp.example', clientId: 'c', jwksUri: 'http://idp.example/jwks',
    advertisedAlgorithms: ['RS256'], mapping: { usernameClaim: 'email', usernamePrefix: '', groupsClaim: 'groups', groupsPrefix: '' } }), /must use https/);
});

test('no servers, sockets or timers left open', async () => {
  await assertHandlesBack(baseline);
});
