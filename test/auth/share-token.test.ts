/**
 * Share tokens next to resume tokens (signed-token.ts): one layout, a key per purpose, so neither
 * kind verifies as the other; tokenReplica() reads the replica of both; expiry, tampering and
 * another secret are refused.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ResumeTokens } from '../../src/auth/resume-token.js';
import { ShareTokens } from '../../src/auth/share-token.js';
import { tokenReplica } from '../../src/auth/signed-token.js';
import { SessionShares } from '../../src/supervisor/session-shares.js';

const secret = randomBytes(32);
const now = Math.floor(Date.now() / 1000);

test('a share token verifies as itself only; the replica of either kind is read by one function', () => {
  const shares = new ShareTokens(secret);
  const resumes = new ResumeTokens(secret);
  const share = shares.issue({ session: 's-1', replica: 'replica-a', generation: 2, expires: now + 60 });
  const resume = resumes.issue({ session: 's-1', owner: 'alice', replica: 'replica-b', expires: now + 60 });
  assert.deepEqual(shares.verify(share), { session: 's-1', replica: 'replica-a', generation: 2, expires: now + 60 });
  assert.equal(resumes.verify(share), undefined, 'a share token never resumes');
  assert.equal(shares.verify(resume), undefined, 'a resume token never watches');
  assert.equal(tokenReplica(share), 'replica-a');
  assert.equal(tokenReplica(resume), 'replica-b');
  assert.equal(tokenReplica('nonsense'), undefined);
  assert.equal(tokenReplica('v1.' + 'x'.repeat(2000) + '.y'), undefined, 'too long');

  assert.equal(new ShareTokens(randomBytes(32)).verify(share), undefined, 'another secret');
  assert.equal(shares.verify(shares.issue({ session: 's-1', replica: 'replica-a', generation: 0, expires: now - 1 })), undefined, 'expired');
  const [, body, mac] = share.split('.');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), g: 3 })).toString('base64url');
  assert.equal(shares.verify(`v1.${forged}.${mac}`), undefined, 'a changed generation breaks the MAC');
});

test('SessionShares: ttl bounds, this replica only, a revoke refuses every earlier token and not later ones', () => {
  let clock = Date.now();
  const shares = new SessionShares(new ShareTokens(secret, () => clock), 'replica-a', () => clock);
  const first = shares.issue('s-1', 600);
  assert.equal(Date.parse(first.expiresAt), (Math.floor(clock / 1000) + 600) * 1000);
  assert.equal(shares.issue('s-1', 10 ** 9).expiresAt, new Date((Math.floor(clock / 1000) + 86_400) * 1000).toISOString(), 'at most a day');
  assert.equal(shares.sessionOf(first.token), 's-1');
  const elsewhere = new SessionShares(new ShareTokens(secret, () => clock), 'replica-b', () => clock);
  assert.equal(elsewhere.sessionOf(first.token), undefined, 'another replica does not hold it');
  shares.revoke('s-1');
  assert.equal(shares.sessionOf(first.token), undefined, 'revoked');
  const second = shares.issue('s-1', 600);
  assert.equal(shares.sessionOf(second.token), 's-1', 'a link made after the revoke works');
  clock += 601_000;
  assert.equal(shares.sessionOf(second.token), undefined, 'expired');
});
