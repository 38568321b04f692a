import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import { AuthError, type AuthFailure } from '../../src/auth/errors.js';
import { deriveKey } from '../../src/auth/secrets.js';
import { MAX_COOKIE_VALUE, SessionCookie, type Session } from '../../src/auth/session-cookie.js';

const SECRET = 'gateway-secret-0123456789abcdef';
const T0 = Date.UTC(2030, 0, 1);
const nowS = T0 / 1000;

function cookies(now = (): number => T0, secret = SECRET): SessionCookie {
  return new SessionCookie({ secret, now, maxLifetimeS: 8 * 3600 });
}

const alice: Session = { username: 'alice@example.com', groups: ['dev'], via: 'oidc', expiresAt: nowS + 3600 };

async function refused(p: Promise<unknown>, reason: AuthFailure): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AuthError, String(err));
    assert.equal(err.reason, reason);
    assert.equal(err.httpStatus, 401);
    return true;
  });
}

test('round trip: what was sealed is what is opened, and any replica with the secret opens it', async () => {
  const sealed = await cookies().seal(alice);
  assert.equal(sealed.expiresAt, alice.expiresAt);
  assert.deepEqual(await cookies().open(sealed.value), alice);
  const token = { ...alice, via: 'token' as const, groups: [] };
  assert.deepEqual(await cookies().open((await cookies().seal(token)).value), token);
});

test('expiry is the earlier of the ID token expiry and the maximum lifetime', async () => {
  const long = await cookies().seal({ ...alice, expiresAt: nowS + 30 * 24 * 3600 });
  assert.equal(long.expiresAt, nowS + 8 * 3600);
  await refused(cookies().seal({ ...alice, expiresAt: nowS - 1 }), 'expired');
  const header = cookies().setCookieHeader(await cookies().seal(alice), true);
  assert.match(header, /^podterm_session=[\w-]+\.[\w-]+\.[\w-]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=3600; Secure$/);
  assert.equal(cookies().clearCookieHeader(false), 'podterm_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0');
});

test('an expired cookie is refused (past the 5 s tolerance)', async () => {
  const { value } = await cookies().seal(alice);
  assert.deepEqual(await cookies(() => T0 + 3603_000).open(value), alice);
  await refused(cookies(() => T0 + 3606_000).open(value), 'expired');
});

test('tampered, foreign-key, unsigned and wrong-purpose values are refused', async () => {
  const { value } = await cookies().seal(alice);
  const [h, p, s] = value.split('.') as [string, string, string];
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  const forged = Buffer.from(JSON.stringify({ ...payload, sub: 'admin', grp: ['system:masters'] })).toString('base64url');
  await refused(cookies().open(`${h}.${forged}.${s}`), 'bad-signature');
  await refused(cookies().open(`${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`), 'bad-signature');
  await refused(cookies(undefined, 'another-gateway-secret-0123456').open(value), 'bad-signature');
  const unsigned = new UnsecuredJWT(payload).encode();
  await refused(cookies().open(unsigned), 'bad-algorithm');
  // Signed with the key of another purpose (the login-state key): not a session.
  const other = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(deriveKey(SECRET, 'login-state'));
  await refused(cookies().open(other), 'bad-signature');
  await refused(cookies().open('not-a-cookie'), 'malformed');
  await refused(cookies().open(''), 'malformed');
});

test('fromCookieHeader finds the valid session among other and stale cookies', async () => {
  const { value } = await cookies().seal(alice);
  const header = `a=b; podterm_session=0.123.old-format.mac; podterm_session=${value}; z=1`;
  assert.deepEqual(await cookies().fromCookieHeader(header), alice);
  assert.equal(await cookies().fromCookieHeader('podterm_session=garbage'), undefined);
  assert.equal(await cookies().fromCookieHeader(''), undefined);
});

test('size: many groups fit under 4 KiB; too many are refused, never silently dropped', async () => {
  const group = (i: number): string => `team-${String(i).padStart(4, '0')}-engineers-x`; // 22 characters
  let fit = 0;
  for (let n = 1; n <= 400; n++) {
    try {
      const { value } = await cookies().seal({ ...alice, groups: Array.from({ length: n }, (_, i) => group(i)) });
      assert.ok(value.length <= MAX_COOKIE_VALUE);
      fit = n;
    } catch (err) {
      assert.ok(err instanceof AuthError && err.reason === 'too-large', String(err));
      break;
    }
  }
  // Measured: 107 groups of 22 characters fit (245 of 8, 62 of 40); a one-group cookie is 215 bytes.
  assert.ok(fit >= 100 && fit < 400, `groups that fit: ${fit}`);
  await refused(cookies().seal({ ...alice, groups: Array.from({ length: 400 }, (_, i) => group(i)) }), 'too-large');
  await refused(cookies().open('x'.repeat(MAX_COOKIE_VALUE + 1)), 'malformed');
});

test('a secret shorter than 16 bytes is refused at construction', () => {
  assert.throws(() => new SessionCookie({ secret: 'short' }), RangeError);
});
