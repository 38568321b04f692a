/**
 * ExecStream against the sandbox: output, exit status, v5 negotiated, and after close no listener
 * left on the WebSocket, none added to the shared agent, and the TCP socket destroyed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Socket } from 'node:net';
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
  const agent = opts.agent as import('node:https').Agent;
  const agentEvents = (): Record<string, number> => Object.fromEntries(agent.eventNames().map((e) => [String(e), agent.listenerCount(e)]));
  const agentBefore = agentEvents();
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
    assert.deepEqual(agentEvents(), agentBefore, 'the shared agent keeps only its own listeners');
  }
});
