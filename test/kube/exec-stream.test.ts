/**
 * ExecStream against the sandbox: output, exit status, v5 negotiated, and after close no listener
 * left on the WebSocket and the TCP socket destroyed; exec sockets are made without an https.Agent
 * and resume the context's TLS session.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { KubeContexts } from '../../src/kube/config.js';
import { ExecAgents, ExecStream } from '../../src/kube/exec.js';
import type { KubeStatus } from '../../src/kube/errors.js';
import { startSandboxFor } from '../helpers/gateway-stack.js';

test('an exec stream delivers output and status, and leaves no listener behind after close', async (t) => {
  const sandbox = await startSandboxFor(t);
  const contexts = new KubeContexts({ kind: 'kubeconfig', yaml: sandbox.kubeconfigYaml(), kubeTimeoutMs: 5000 });
  const kc = contexts.forContext('admin');
  const agents = new ExecAgents();
  const opts = await agents.options(kc);
  assert.equal(opts.agent, undefined, 'no https.Agent: its listeners would hold the request options for the socket\'s life');
  assert.equal(typeof opts.createConnection, 'function');
  const reused: boolean[] = [];
  for (const ending of ['status', 'close'] as const) {
    let out = '';
    let status: KubeStatus | undefined;
    let closed = 0;
    const command = ending === 'status' ? ['sh', '-c', 'sleep 0.2; echo out-$((40+2)); exit 3'] : ['sh', '-c', 'sleep 30'];
    const exec = await ExecStream.open(
      kc,
      { kind: 'exec', namespace: 'default', pod: 'shell', container: 'main', command, tty: true },
      { stdout: (b) => (out += b.toString()), stderr: (b) => (out += b.toString()), status: (s) => (status = s), failed: (e) => assert.fail(e), closed: () => closed++ },
      { signal: new AbortController().signal, timeoutMs: 5000, agents },
    );
    assert.equal(exec.protocol, 'v5.channel.k8s.io');
    exec.resize(100, 30);
    const ws = exec.socketForTest;
    const socket = (ws as unknown as { _socket: Socket })._socket;
    reused.push((socket as TLSSocket).isSessionReused());
    if (ending === 'status') {
      const deadline = Date.now() + 5000;
      while (!status && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.match(out, /out-42/);
      assert.equal(status?.reason, 'NonZeroExitCode');
    }
    await exec.close();
    await exec.close(); // idempotent
    assert.equal(closed, 1, 'closed() once');
    assert.deepEqual(ws.eventNames(), [], `listeners left on the WebSocket: ${ws.eventNames().join(', ')}`);
    assert.ok(socket.destroyed, 'the TCP socket is gone');
  }
  assert.deepEqual(reused, [false, true], 'the second exec resumes the TLS session of the first');
});

test('while paused, a small tail, the status and the server close are read; delivered in order on resume', async (t) => {
  const sandbox = await startSandboxFor(t);
  const contexts = new KubeContexts({ kind: 'kubeconfig', yaml: sandbox.kubeconfigYaml(), kubeTimeoutMs: 5000 });
  const events: string[] = [];
  const exec = await ExecStream.open(
    contexts.forContext('admin'),
    { kind: 'exec', namespace: 'default', pod: 'shell', container: 'main', command: ['sh', '-c', 'sleep 0.3; echo tail-$((6*7)); sleep 0.2'], tty: true },
    {
      stdout: (b) => events.push(`out:${b.toString().trim()}`),
      stderr: () => undefined,
      status: (s) => events.push(`status:${s.status}`),
      failed: (e) => assert.fail(e),
      closed: () => events.push('closed'),
    },
    { signal: new AbortController().signal, timeoutMs: 5000 },
  );
  t.after(() => exec.close());
  exec.resize(80, 24);
  exec.pause();
  const started = Date.now();
  // The sandbox ends its exec once the client has answered its close (else after closeWaitMs, 2 s).
  while (sandbox.stats().execActive > 0 && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 20));
  const took = Date.now() - started;
  t.diagnostic(`server side closed ${took} ms after the pause; parked ${exec.parkedBytes} bytes`);
  assert.equal(sandbox.stats().execActive, 0);
  assert.ok(took < 1800, `the close handshake was answered while paused (${took} ms)`);
  assert.deepEqual(events, [], 'nothing delivered while paused');
  assert.ok(exec.parkedBytes > 0);
  exec.resume();
  // The server's side is gone, but on a loaded machine the client's socket may report its close a
  // moment after the resume: what matters is the order, output and status before the close.
  const resumed = Date.now();
  while (!(events as string[]).includes('closed') && Date.now() - resumed < 2000) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(events, ['out:tail-42', 'status:Success', 'closed']);
  assert.equal(exec.parkedBytes, 0);
});

test('attach uses the same channels: join the main shell of default/shell, type, see the echo', async (t) => {
  const sandbox = await startSandboxFor(t);
  const contexts = new KubeContexts({ kind: 'kubeconfig', yaml: sandbox.kubeconfigYaml(), kubeTimeoutMs: 5000 });
  let out = '';
  const a = await ExecStream.open(
    contexts.forContext('admin'),
    { kind: 'attach', namespace: 'default', pod: 'shell', container: 'main', command: [], tty: true },
    { stdout: (b) => (out += b.toString()), stderr: () => undefined, status: () => undefined, failed: (e) => assert.fail(e), closed: () => undefined },
    { signal: new AbortController().signal, timeoutMs: 5000 },
  );
  t.after(() => a.close());
  a.resize(80, 24);
  a.write(Buffer.from('echo attached-$((40+2))\r'));
  const deadline = Date.now() + 5000;
  while (!/attached-42/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.match(out, /attached-42\r\n/, 'the shell evaluated what was typed');
  await a.close();
});
