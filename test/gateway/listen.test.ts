/**
 * The gateway listens exclusively (issue 8, item 15): uWS's default SO_REUSEPORT would let a second
 * gateway bind the same port and take part of its connections. A second bind fails with
 * ListenError EADDRINUSE, the first keeps serving, and a plain node:net listener is refused too.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { ListenError } from '../../src/server/listen.js';
import { startGatewayFor, startSandboxFor } from '../helpers/gateway-stack.js';

test('a second gateway on the same port fails with EADDRINUSE; the first still serves', async (t) => {
  const sandbox = await startSandboxFor(t);
  const first = await startGatewayFor(t, sandbox, { workers: 0 });
  await assert.rejects(startGatewayFor(t, sandbox, { workers: 0, port: first.port }), (err: unknown) => {
    assert.ok(err instanceof ListenError, String(err));
    assert.equal(err.code, 'EADDRINUSE');
    assert.equal(err.message, `127.0.0.1:${first.port}: address in use`);
    return true;
  });
  assert.equal((await fetch(`${first.url}/healthz`)).status, 200);
  // Nothing else may share it either: the socket was bound without SO_REUSEPORT.
  const other = createServer();
  const code = await new Promise<string | undefined>((resolve) => {
    other.once('error', (e: NodeJS.ErrnoException) => resolve(e.code));
    other.listen({ host: '127.0.0.1', port: first.port, exclusive: true }, () => other.close(() => resolve(undefined)));
  });
  assert.equal(code, 'EADDRINUSE');
  assert.equal((await fetch(`${first.url}/healthz`)).status, 200);
});
