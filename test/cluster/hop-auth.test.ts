/** The internal hop's signature (src/cluster/hop-auth.ts): bound to the secret, request and caller; replay- and time-bounded. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { HOP_HEADER, CALLER_HEADER, HopAuth, MAX_SKEW_MS } from '../../src/cluster/hop-auth.js';

const secret = randomBytes(32);
const req = { method: 'GET', path: '/ws/exec', query: 'resume=v1.abc.def' };
const caller = { username: 'ada@example.com', groups: ['dev', 'system:authenticated'], via: 'oidc' as const };

test('a hop signed with the same secret verifies once, and names its caller', () => {
  const auth = new HopAuth(secret);
  const h = new HopAuth(secret).sign(req, caller);
  assert.deepEqual(auth.verify(req, h[HOP_HEADER]!, h[CALLER_HEADER]!), caller);
  assert.equal(auth.verify(req, h[HOP_HEADER]!, h[CALLER_HEADER]!), 'replayed');
});

test('another secret, another request, another caller, no header: refused', () => {
  const auth = new HopAuth(secret);
  const foreign = new HopAuth(randomBytes(32)).sign(req, caller);
  assert.equal(auth.verify(req, foreign[HOP_HEADER]!, foreign[CALLER_HEADER]!), 'bad-mac');
  const h = new HopAuth(secret).sign(req, caller);
  assert.equal(auth.verify({ ...req, query: 'resume=other' }, h[HOP_HEADER]!, h[CALLER_HEADER]!), 'bad-mac');
  assert.equal(auth.verify({ ...req, path: '/internal/v1/sessions' }, h[HOP_HEADER]!, h[CALLER_HEADER]!), 'bad-mac');
  assert.equal(auth.verify({ ...req, method: 'DELETE' }, h[HOP_HEADER]!, h[CALLER_HEADER]!), 'bad-mac');
  const mallory = Buffer.from(JSON.stringify({ u: 'root', g: ['system:masters'], v: 'oidc' })).toString('base64url');
  assert.equal(auth.verify(req, h[HOP_HEADER]!, mallory), 'bad-mac');
  assert.equal(auth.verify(req, '', ''), 'missing');
  assert.equal(auth.verify(req, 'v1.x', ''), 'malformed');
  // The untouched header still verifies after all those refusals (none of them used its nonce).
  assert.deepEqual(auth.verify(req, h[HOP_HEADER]!, h[CALLER_HEADER]!), caller);
});

test('a hop older or newer than the skew window is refused', () => {
  let now = 1_000_000_000_000;
  const auth = new HopAuth(secret, () => now);
  const signer = new HopAuth(secret, () => now - MAX_SKEW_MS - 1);
  const old = signer.sign(req, caller);
  assert.equal(auth.verify(req, old[HOP_HEADER]!, old[CALLER_HEADER]!), 'stale');
  const future = new HopAuth(secret, () => now + MAX_SKEW_MS + 1).sign(req, caller);
  assert.equal(auth.verify(req, future[HOP_HEADER]!, future[CALLER_HEADER]!), 'stale');
  const fresh = new HopAuth(secret, () => now).sign(req, caller);
  now += MAX_SKEW_MS; // at the edge: still good
  assert.deepEqual(auth.verify(req, fresh[HOP_HEADER]!, fresh[CALLER_HEADER]!), caller);
});

test('a secret shorter than 16 bytes is refused', () => {
  assert.throws(() => new HopAuth(Buffer.from('short')), RangeError);
});
