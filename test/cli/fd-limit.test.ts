import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RESERVED_FDS, fdsPerSession, sessionsWithinFds, softNoFileLimit } from '../../src/cli/fd-limit.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             94389                94389                processes
Max open files            20000                65536                files
Max locked memory         8388608              8388608              bytes
`;

test('the soft open-files limit is read from /proc/self/limits text', () => {
  assert.equal(softNoFileLimit(LIMITS), 20000);
  assert.equal(softNoFileLimit(LIMITS.replace('20000 ', 'unlimited ')), undefined);
  assert.equal(softNoFileLimit(''), undefined);
  // This machine's own file parses (the test runs on Linux).
  const own = softNoFileLimit(readFileSync('/proc/self/limits', 'utf8'));
  assert.ok(own !== undefined && own > 0);
});

test('sessions that fit below the limit: two sockets each, a reserve kept', () => {
  assert.equal(sessionsWithinFds(20000, 2), (20000 - RESERVED_FDS) / 2);
  assert.equal(sessionsWithinFds(1024, 6), Math.floor((1024 - RESERVED_FDS) / 6));
  assert.equal(sessionsWithinFds(100, 2), 1);
  assert.equal(sessionsWithinFds(undefined, 2), Number.MAX_SAFE_INTEGER);
});

test('a recorded session counts its .cast: 3 descriptors, 7 with the sandbox in process', () => {
  assert.equal(fdsPerSession({ recording: false, sandboxed: false }), 2);
  assert.equal(fdsPerSession({ recording: true, sandboxed: false }), 3);
  assert.equal(fdsPerSession({ recording: false, sandboxed: true }), 6);
  assert.equal(fdsPerSession({ recording: true, sandboxed: true }), 7);
  // At this machine's limit of 20,000: 6,581 recorded sessions, not 9,872 that then fail with EMFILE.
  assert.equal(sessionsWithinFds(20000, fdsPerSession({ recording: true, sandboxed: false })), 6581);
});
