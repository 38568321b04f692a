import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERRORS, PodtermError, isErrorCode, toPodtermError } from '../../src/protocol/errors.js';

test('the error table matches PROTOCOL.md close codes', () => {
  const expected: Record<string, number> = {
    BadFrame: 4400, Unauthorized: 4401, Forbidden: 4403, NotFound: 4404, ContainerNotRunning: 4409,
    IdleTimeout: 4408, SessionExpired: 4410, TooManySessions: 4429, UpstreamUnavailable: 4502,
    ServerShuttingDown: 1001, Internal: 1011, MessageTooBig: 1009, RecordingFailed: 4414,
    SessionGone: 4411, TooSlow: 4412, NoShell: 4413,
  };
  for (const [code, close] of Object.entries(expected)) {
    assert.ok(isErrorCode(code), code);
    assert.equal(ERRORS[code as keyof typeof ERRORS].close, close, code);
  }
});

test('unknown failures become Internal without leaking their message', () => {
  const err = toPodtermError(new Error('ECONNRESET at /secret/path line 42'));
  assert.equal(err.code, 'Internal');
  assert.equal(err.closeCode, 1011);
  assert.doesNotMatch(err.message, /secret/);
  const known = new PodtermError('NotFound', 'pod "x" not found');
  assert.equal(toPodtermError(known), known);
  assert.equal(known.httpStatus, 404);
  assert.equal(isErrorCode('toString'), false);
});
