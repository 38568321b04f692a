/** The claim rules of the API server's --oidc-username-* / --oidc-groups-* flags (claims.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { personFromClaims, resolveClaimMapping } from '../../src/auth/claims.js';
import { AuthError } from '../../src/auth/errors.js';

const ISSUER = 'https://idp.example';
const claims = { sub: 'u-123', email: 'alice@example.com', email_verified: true, groups: ['dev', 'ops'], exp: 2_000_000_000, role: 'admin' };

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AuthError, String(err));
    return err.reason;
  }
  return 'accepted';
}

test('defaults: username from email without prefix, groups from groups', () => {
  const p = personFromClaims(claims, resolveClaimMapping(ISSUER));
  assert.deepEqual(p, { username: 'alice@example.com', groups: ['dev', 'ops'], expiresAt: 2_000_000_000 });
});

test('username prefix: ISSUER# for claims other than email, "-" for none, else verbatim', () => {
  assert.equal(personFromClaims(claims, resolveClaimMapping(ISSUER, { usernameClaim: 'sub' })).username, 'https://idp.example#u-123');
  assert.equal(personFromClaims(claims, resolveClaimMapping(ISSUER, { usernameClaim: 'sub', usernamePrefix: '-' })).username, 'u-123');
  assert.equal(personFromClaims(claims, resolveClaimMapping(ISSUER, { usernameClaim: 'sub', usernamePrefix: 'oidc:' })).username, 'oidc:u-123');
  assert.equal(personFromClaims(claims, resolveClaimMapping(ISSUER, { usernamePrefix: 'oidc:' })).username, 'oidc:alice@example.com');
  assert.equal(personFromClaims(claims, resolveClaimMapping(ISSUER, { usernamePrefix: '-' })).username, 'alice@example.com');
});

test('groups: prefix on each, a single string counts as one group, missing means none, "" turns them off', () => {
  assert.deepEqual(personFromClaims(claims, resolveClaimMapping(ISSUER, { groupsPrefix: 'oidc:' })).groups, ['oidc:dev', 'oidc:ops']);
  assert.deepEqual(personFromClaims(claims, resolveClaimMapping(ISSUER, { groupsClaim: 'role' })).groups, ['admin']);
  assert.deepEqual(personFromClaims({ ...claims, groups: undefined }, resolveClaimMapping(ISSUER)).groups, []);
  assert.deepEqual(personFromClaims(claims, resolveClaimMapping(ISSUER, { groupsClaim: '' })).groups, []);
  assert.deepEqual(personFromClaims({ ...claims, groups: ['dev', 'dev'] }, resolveClaimMapping(ISSUER)).groups, ['dev']);
});

test('refusals: unverified email, missing or unusable username, bad groups, no exp', () => {
  const m = resolveClaimMapping(ISSUER);
  assert.equal(reason(() => personFromClaims({ ...claims, email_verified: false }, m)), 'email-not-verified');
  assert.equal(reason(() => personFromClaims({ ...claims, email_verified: 'true' }, m)), 'email-not-verified');
  assert.equal(reason(() => personFromClaims({ ...claims, email_verified: undefined }, m)), 'accepted');
  // email_verified only matters when the username is the email.
  assert.equal(reason(() => personFromClaims({ ...claims, email_verified: false }, resolveClaimMapping(ISSUER, { usernameClaim: 'sub' }))), 'accepted');
  assert.equal(reason(() => personFromClaims({ ...claims, email: undefined }, m)), 'bad-claim');
  assert.equal(reason(() => personFromClaims({ ...claims, email: '' }, m)), 'bad-claim');
  assert.equal(reason(() => personFromClaims({ ...claims, email: 'a@b\r\nImpersonate-User: admin' }, m)), 'bad-claim');
  assert.equal(reason(() => personFromClaims({ ...claims, groups: ['dev', 3] }, m)), 'bad-claim');
  assert.equal(reason(() => personFromClaims({ ...claims, groups: { a: 1 } }, m)), 'bad-claim');
  assert.equal(reason(() => personFromClaims({ ...claims, exp: undefined }, m)), 'bad-claim');
});
