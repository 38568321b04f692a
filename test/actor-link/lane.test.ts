/**
 * The lane's close orderings, deterministically over a real MessageChannel: a port closed by either
 * side, messages held before binding, a lane lost under its ports (worker death). After each, no
 * listener is left and nothing more is delivered.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { Lane, SessionPort } from '../../src/actor-link/lane.js';

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function pair(t: TestContext): { main: Lane; actor: Lane; waiting: Map<string, SessionPort> } {
  const { port1, port2 } = new MessageChannel();
  const waiting = new Map<string, SessionPort>();
  const main = new Lane(port1, (lane, id) => {
    const p = waiting.get(id);
    p?.bind(lane);
    return p;
  });
  const actor = new Lane(port2);
  t.after(() => {
    main.close();
    actor.close();
  });
  return { main, actor, waiting };
}

/** A lane whose peer is a bare port: `raw` gets exactly what went over the channel. */
function rawLane(t: TestContext): { lane: Lane; raw: unknown[] } {
  const { port1, port2 } = new MessageChannel();
  const raw: unknown[] = [];
  port2.on('message', (m) => raw.push(m));
  const lane = new Lane(port1);
  t.after(() => {
    lane.close();
    port2.close();
  });
  return { lane, raw };
}

test('messages posted before binding are delivered in order once the peer speaks', async (t) => {
  const { actor, waiting } = pair(t);
  const mainPort = new SessionPort('s');
  waiting.set('s', mainPort);
  mainPort.postMessage('a');
  mainPort.postMessage('b');
  const actorPort = new SessionPort('s');
  const got: unknown[] = [];
  actorPort.on('message', (m) => got.push(m));
  actorPort.bind(actor);
  actorPort.postMessage('hello');
  await until(() => got.length === 2, 'the held messages');
  assert.deepEqual(got, ['a', 'b']);
  actorPort.close();
  mainPort.close();
});

test('the actor closes first: the main side sees close after every earlier message; no listener left', async (t) => {
  const { actor, waiting } = pair(t);
  const mainPort = new SessionPort('s');
  waiting.set('s', mainPort);
  const got: unknown[] = [];
  mainPort.on('message', (m) => got.push(m));
  let closed = false;
  mainPort.once('close', () => (closed = true));
  const actorPort = new SessionPort('s');
  actorPort.bind(actor);
  actorPort.postMessage(1);
  actorPort.postMessage(2);
  actorPort.close();
  await until(() => closed, 'close');
  assert.deepEqual(got, [1, 2]);
  assert.equal(mainPort.listenerCount('message'), 0);
  assert.equal(actorPort.listenerCount('message'), 0);
  mainPort.postMessage('late'); // a no-op, not a throw
});

test('both sides close at once: each closes once', async (t) => {
  const { main, actor, waiting } = pair(t);
  const mainPort = new SessionPort('s');
  waiting.set('s', mainPort);
  const actorPort = new SessionPort('s');
  actorPort.bind(actor);
  actorPort.postMessage('hello');
  await until(() => mainPort.bound, 'bind');
  let mainCloses = 0;
  let actorCloses = 0;
  mainPort.on('close', () => mainCloses++);
  actorPort.on('close', () => actorCloses++);
  mainPort.close();
  actorPort.close();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(mainCloses, 1);
  assert.equal(actorCloses, 1);
  assert.equal(main.size, 0);
  assert.equal(actor.size, 0);
});

test('the lane is lost (its worker died): every port on it closes', async (t) => {
  const { main, actor, waiting } = pair(t);
  const ports = ['a', 'b', 'c'].map((id) => {
    const p = new SessionPort(id);
    waiting.set(id, p);
    const ap = new SessionPort(id);
    ap.bind(actor);
    ap.postMessage('hello');
    return p;
  });
  await until(() => ports.every((p) => p.bound), 'binding');
  let closed = 0;
  for (const p of ports) p.once('close', () => closed++);
  actor.close(); // the other end of the channel goes away
  await until(() => closed === 3, 'every port to close');
  assert.equal(main.size, 0);
  for (const p of ports) assert.equal(p.listenerCount('message'), 0);
});

test('one turn of several sessions goes as one message, in order, with every transfer', async (t) => {
  const { lane, raw } = rawLane(t);
  const a = new SessionPort('a');
  const b = new SessionPort('b');
  a.bind(lane);
  b.bind(lane);
  const bufs = [new ArrayBuffer(4), new ArrayBuffer(8)];
  a.postMessage({ n: 1, data: bufs[0] }, [bufs[0]!]);
  b.postMessage({ n: 2 });
  a.postMessage({ n: 3, data: bufs[1] }, [bufs[1]!]);
  assert.equal(bufs[0]!.byteLength, 4, 'nothing is transferred before the turn ends');
  await until(() => raw.length > 0, 'the batch');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(raw.length, 1, 'one postMessage for the turn');
  const batch = raw[0] as Array<{ s: string; m: { n: number; data?: ArrayBuffer } }>;
  assert.deepEqual(batch.map((e) => [e.s, e.m.n]), [['a', 1], ['b', 2], ['a', 3]]);
  assert.deepEqual(batch.map((e) => e.m.data?.byteLength), [4, undefined, 8]);
  assert.equal(bufs[0]!.byteLength, 0, 'transferred, not copied');
});

test('close() sends what the turn queued before the port closes, and the peer delivers it', async (t) => {
  const { main, actor, waiting } = pair(t);
  const mainPort = new SessionPort('s');
  waiting.set('s', mainPort);
  const got: unknown[] = [];
  mainPort.onMessage((m) => got.push(m));
  const actorPort = new SessionPort('s');
  actorPort.bind(actor);
  actorPort.postMessage('last words');
  actor.close();
  await until(() => got.length > 0, 'the queued message');
  assert.deepEqual(got, ['last words']);
  void main;
});

test('a message that cannot be cloned is dropped with a warning; the rest of its turn still goes', async (t) => {
  const { lane, raw } = rawLane(t);
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const a = new SessionPort('a');
  a.bind(lane);
  a.postMessage({ n: 1 });
  a.postMessage({ n: 2, f: () => 0 }); // functions cannot be cloned
  a.postMessage({ n: 3 });
  await until(() => raw.length >= 2 && warnings.length >= 1, 'the two good messages and the warning');
  assert.deepEqual(raw.map((m) => (m as { m: { n: number } }).m.n), [1, 3]);
  assert.match(warnings[0]!, /session a could not be sent/);
});
