/**
 * The socket that opens a session reaches its actor in the init, not in an `attach` message
 * (ActorInit.opener). The main thread binds a session's port only when the actor says hello, so on a
 * busy main thread the attach could arrive after the exec was open: the actor then knew no socket,
 * took the session for one whose sockets had all left, and ended it with no cause (the bench's churn
 * saw sessions end 17-47 ms after start with outcome `error`). Here the main side never sends an
 * attach at all: the actor must still greet its opener and keep the session.
 */
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { test } from 'node:test';
import { ActorHost } from '../../src/actor/actor-host.js';
import { Lane, SessionPort } from '../../src/actor-link/lane.js';
import type { ActorInit, FromActor, ToActor } from '../../src/actor-link/actor-messages.js';
import { decodeServerFrame, ServerOp } from '../../src/protocol/index.js';
import { startSandboxFor } from '../helpers/gateway-stack.js';

test('an actor whose exec opens before any attach message greets its opener and keeps the session', async (t) => {
  const sandbox = await startSandboxFor(t);
  const host = new ActorHost({ kind: 'kubeconfig', yaml: sandbox.kubeconfigYaml() }, () => undefined);
  t.after(() => host.close());
  const { port1, port2 } = new MessageChannel();
  host.adoptLane(port2);
  const port = new SessionPort<FromActor, ToActor>('s-opener');
  const lane = new Lane(port1, (l, id) => {
    if (id !== port.id) return undefined;
    port.bind(l);
    return port as SessionPort<unknown, unknown>;
  });
  t.after(() => lane.close());
  const got: FromActor[] = [];
  let closed = false;
  port.on('message', (m: FromActor) => got.push(m));
  port.once('close', () => (closed = true));

  const init: ActorInit = {
    session: 's-opener', opener: 1, namespace: 'default', pod: 'shell', container: 'main', command: ['sh', '-c', 'echo ready; sleep 30'],
    cols: 80, rows: 24, context: undefined, idleTimeoutMs: 0, maxSessionAgeMs: 0, detachGraceMs: 0,
  };
  const finished = host.run(init);

  // Wait until the exec is open and has printed: with no attach ever sent, only the opener can be greeted.
  const deadline = Date.now() + 10_000;
  const text = (): string =>
    got
      .filter((m): m is Extract<FromActor, { t: 'out' }> => m.t === 'out')
      .map((m) => decodeServerFrame(new Uint8Array(m.data)))
      .filter((f) => f[0] === ServerOp.Stdout)
      .map((f) => Buffer.from(f[1] as Uint8Array).toString())
      .join('');
  while (!text().includes('ready') && !closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(closed, false, `the actor kept the session (messages: ${got.map((m) => m.t).join(',')})`);
  const started = got.find((m) => m.t === 'out' && m.to === 1 && decodeServerFrame(new Uint8Array(m.data))[0] === ServerOp.Started);
  assert.ok(started, 'the opener got its Started frame');
  assert.ok(!got.some((m) => m.t === 'end'), 'no end');

  port.postMessage({ t: 'close', reason: 'client-gone' });
  await finished;
  assert.equal(host.counters.actors, 0, 'the actor released everything');
  assert.equal(host.counters.execs, 0, 'its exec is closed');
});
