/** The token -> cookie exchange: stateless signed cookies that every replica with the same token accepts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StaticTokens as Authenticator, COOKIE_LIFETIME_S, COOKIE_NAME, originAllowed } from '../../src/auth/token-auth.js';

const TOKENS = [{ token: 'admin-token-abc' }, { token: 'restricted-token-xyz', context: 'restricted', namespaces: ['load'] }];

function cookieOf(auth: Authenticator, token: string): string {
  const identity = auth.fromToken(token);
  assert.ok(identity);
  return `${COOKIE_NAME}=${auth.startCookieSession(identity)}`;
}

test('a cookie names its identity, holds no token, and works on another replica with the same tokens', () => {
  const a = new Authenticator(TOKENS);
  const replica = new Authenticator(TOKENS);
  const cookie = cookieOf(a, 'restricted-token-xyz');
  assert.doesNotMatch(cookie, /restricted-token-xyz/);
  assert.equal(replica.fromHeaders(`theme=dark; ${cookie}`, '')?.context, 'restricted');
  assert.deepEqual(replica.fromHeaders(cookie, '')?.namespaces, ['load']);
  assert.equal(replica.fromHeaders(cookieOf(a, 'admin-token-abc'), '')?.context, undefined);
  assert.notEqual(cookieOf(a, 'admin-token-abc'), cookieOf(a, 'admin-token-abc'), 'each exchange gets a fresh nonce');
});

test('tampered, foreign, malformed and expired cookies are refused', () => {
  let now = 1_700_000_000_000;
  const a = new Authenticator(TOKENS, () => now);
  const cookie = cookieOf(a, 'admin-token-abc');
  const [name, value] = cookie.split('=') as [string, string];
  const parts = value.split('.');
  // Claim the other binding with the same MAC.
  assert.equal(a.fromHeaders(`${name}=${['1', ...parts.slice(1)].join('.')}`, ''), undefined);
  // Extend the expiry.
  assert.equal(a.fromHeaders(`${name}=${[parts[0], String(Number(parts[1]) + 3600), ...parts.slice(2)].join('.')}`, ''), undefined);
  // A gateway with another token does not accept it.
  assert.equal(new Authenticator([{ token: 'other' }]).fromHeaders(cookie, ''), undefined);
  for (const junk of ['', 'x', '0.1.2.3', `${value}x`, value.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))]) {
    assert.equal(a.fromHeaders(`${name}=${junk}`, ''), undefined, junk);
  }
  assert.ok(a.fromHeaders(cookie, ''));
  now += COOKIE_LIFETIME_S * 1000;
  assert.equal(a.fromHeaders(cookie, ''), undefined, 'expired');
});

test('bearer tokens, and the cookie header attributes', () => {
  const a = new Authenticator(TOKENS);
  assert.equal(a.fromHeaders('', 'Bearer restricted-token-xyz')?.context, 'restricted');
  assert.equal(a.fromHeaders('', 'Bearer wrong'), undefined);
  assert.equal(a.fromHeaders('', 'Basic YWRtaW4='), undefined);
  assert.equal(a.fromToken(''), undefined);
  assert.match(a.cookieHeader('v', false), /^podterm_session=v; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/);
  assert.match(a.cookieHeader('v', true), /; Secure$/);
});

test('Origin: absent is allowed, the own origin by default, else only the allow-list', () => {
  assert.equal(originAllowed('', 'h:1', undefined), true);
  assert.equal(originAllowed('http://h:1', 'h:1', undefined), true);
  assert.equal(originAllowed('https://h:1', 'h:1', undefined), true);
  assert.equal(originAllowed('http://evil:1', 'h:1', undefined), false);
  assert.equal(originAllowed('http://h:1', 'h:1', ['https://app.example']), false);
  assert.equal(originAllowed('https://app.example', 'h:1', ['https://app.example']), true);
});
