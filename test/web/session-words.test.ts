/** The Sessions panel's words for a session: where it is, and the time left before its grace ends. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionListItem } from '../../src/protocol/index.js';
import { formatLeft, sessionState } from '../../src/web/session-words.js';

const item = (over: Partial<SessionListItem>): SessionListItem => ({
  id: '00000000-0000-4000-8000-000000000000', namespace: 'default', pod: 'shell', container: 'main', command: null,
  state: 'attached', createdAt: '2026-11-30T10:00:00.000Z', detachedAt: null, graceEndsAt: null, viewers: [], resumeToken: 'tok', ...over,
});

test('time left: m:ss under an hour, h:mm:ss above, rounded up, never negative', () => {
  assert.equal(formatLeft(0), '0:00');
  assert.equal(formatLeft(1), '0:01');
  assert.equal(formatLeft(59_001), '1:00');
  assert.equal(formatLeft(300_000), '5:00');
  assert.equal(formatLeft(3_723_000), '1:02:03');
  assert.equal(formatLeft(-5000), '0:00');
});

test('state: attached here or elsewhere; detached with the time left from graceEndsAt', () => {
  const now = Date.parse('2026-11-30T10:05:00.000Z');
  assert.equal(sessionState(item({}), true, now), 'attached here');
  assert.equal(sessionState(item({}), false, now), 'attached elsewhere');
  const detached = item({ state: 'detached', detachedAt: '2026-11-30T10:04:00.000Z', graceEndsAt: '2026-11-30T10:09:00.000Z' });
  assert.equal(sessionState(detached, false, now), 'detached, 4:00 left');
  assert.equal(sessionState(detached, false, now + 10 * 60_000), 'detached, 0:00 left');
  assert.equal(sessionState(item({ state: 'detached', graceEndsAt: null }), false, now), 'detached');
});
