/**
 * Every close ordering of the main thread's Session, deterministically: the actor side is driven by
 * the test over a real Lane (MessageChannel), the pool is a stand-in whose run() the test settles.
 * After each ordering: the state is closed, onClosing and onDone ran exactly once, no listener is
 * left on the port, and the socket was ended at most once with the right code.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { ACK_DELAY_MS, type ActorInit, type FromActor, type HostReport, type ToActor } from '../../src/actor-link/actor-messages.js';
import type { ActorPool } from '../../src/actor-link/actor-pool.js';
import { AckSweep } from '../../src/supervisor/ack-sweep.js';
import { Lane, SessionPort } from '../../src/actor-link/lane.js';
import { decodeServerFrame } from '../../src/protocol/index.js';
import { Metrics } from '../../src/supervisor/metrics.js';
import { OPENER_SOCKET, Session, SLOW_CLOSE_DEADLINES, type Attachment, type ClientLink, type SessionDeps } from '../../src/supervisor/session.js';

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Waits until `cond` holds (messages cross a real MessageChannel: no fixed sleep on a loaded machine). */
async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await tick(2);
  }
}

/** The actor side of one session, driven by the test. */
class FakeActor {
  readonly port: SessionPort<ToActor, FromActor>;
  /** Everything but attach and detach (the close-ordering tests look at close requests). */
  readonly got: ToActor[] = [];
  /** Every message, in order. */
  readonly all: ToActor[] = [];
  constructor(id: string, lane: Lane) {
    this.port = new SessionPort<ToActor, FromActor>(id);
    this.port.on('message', (m: ToActor) => {
      this.all.push(m);
      if (m.t !== 'attach' && m.t !== 'detach') this.got.push(m);
    });
    this.port.bind(lane);
  }
  post(m: FromActor): void {
    this.port.postMessage(m);
  }
  /** The actor's last act: its goodbye closes both ends of the session's port. */
  bye(): void {
    this.port.close();
  }
}

class FakePool implements ActorPool {
  readonly workers = 1;
  readonly recycled: number[] = [];
  #actorLane: Lane;
  #mainLane: Lane;
  #waiting = new Map<string, SessionPort<FromActor, ToActor>>();
  run!: ActorPool['run'];
  settle!: (err?: unknown) => void;
  constructor(t: TestContext) {
    const { port1, port2 } = new MessageChannel();
    this.#mainLane = new Lane(port1, (lane, id) => {
      const p = this.#waiting.get(id);
      p?.bind(lane);
      return p as SessionPort<unknown, unknown> | undefined;
    });
    this.#actorLane = new Lane(port2);
    t.after(() => {
      this.#mainLane.close();
      this.#actorLane.close();
    });
    this.run = (port, _init, ended) => {
      this.#waiting.set(port.id, port);
      this.settle = (err) => ended.actorRunEnded(err);
    };
  }
  startActor(id: string): FakeActor {
    return new FakeActor(id, this.#actorLane);
  }
  probe(): Promise<HostReport[]> {
    return Promise.resolve([]);
  }
  /** What alive() answers: false = a stuck thread (recycled), true = a busy one. */
  threadAnswers = false;
  probes = 0;
  async alive(): Promise<boolean> {
    this.probes++;
    return this.threadAnswers;
  }
  async recycle(threadId: number): Promise<void> {
    this.recycled.push(threadId);
  }
  async terminateOne(): Promise<void> {}
  async close(): Promise<void> {}
}

interface Harness {
  session: Session;
  /** The first socket, attached as the owner. */
  socket: Attachment;
  pool: FakePool;
  ends: Array<{ code: number; reason: string }>;
  sent: ArrayBuffer[];
  calls: { closing: number; done: number };
  metrics: Metrics;
  /** When false, the link drops every message (uWS over maxBackpressure). */
  accept: { value: boolean };
}

function harness(t: TestContext, closeDeadlineMs = 10_000, detachGraceMs = 0, startDeadlineMs?: number): Harness {
  const pool = new FakePool(t);
  const metrics = new Metrics();
  t.after(() => metrics.close());
  const acks = new AckSweep(ACK_DELAY_MS / 2);
  t.after(() => acks.close());
  const ends: Harness['ends'] = [];
  const sent: ArrayBuffer[] = [];
  const accept = { value: true };
  const calls = { closing: 0, done: 0 };
  let socket!: Attachment;
  const link: ClientLink = {
    send: (ab) => {
      sent.push(ab);
      return accept.value;
    },
    bufferedAmount: () => 0,
    // uWS runs the close handler inside end(): the server reports the close there.
    end: (code, reason) => {
      ends.push({ code, reason });
      socket.closed(code);
    },
  };
  const deps: SessionDeps = {
    pool,
    metrics,
    flow: { highWaterBytes: 1 << 20, lowWaterBytes: 1 << 18, closeDeadlineMs, ...(startDeadlineMs !== undefined ? { startDeadlineMs } : {}) },
    log: () => undefined,
    onClosing: () => calls.closing++,
    onDone: () => calls.done++,
    threadAlive: () => pool.alive(),
    recycle: (threadId) => void pool.recycle(threadId),
    acks,
  };
  const init: ActorInit = { session: 's1', opener: OPENER_SOCKET, namespace: 'ns', pod: 'p', container: 'c', command: null, cols: 80, rows: 24, context: undefined, idleTimeoutMs: 0, maxSessionAgeMs: 0, detachGraceMs };
  const session = new Session(init, { key: 'owner', link }, deps);
  socket = session.opener;
  return { session, socket, pool, ends, sent, calls, metrics, accept };
}

function assertClosedOnce(h: Harness): void {
  assert.equal(h.session.state, 'closed');
  assert.deepEqual(h.calls, { closing: 1, done: 1 });
  assert.ok(h.ends.length <= 1, `socket ended ${h.ends.length} times`);
}

test('client leaves before the actor speaks: the close waits on the port and reaches the actor', async (t) => {
  const h = harness(t);
  h.socket.closed(1006);
  assert.equal(h.session.state, 'closing');
  assert.equal(h.calls.closing, 1, 'the owner slot is free at once');
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 7 });
  await until(() => actor.got.length > 0, 'the close request');
  assert.deepEqual(actor.got, [{ t: 'close', reason: 'client-gone' }]);
  actor.bye();
  h.pool.settle();
  await h.session.finished;
  assertClosedOnce(h);
  assert.equal(h.ends.length, 0, 'the socket was already gone');
  assert.equal(actor.port.listenerCount('message'), 0);
});

test('the actor ends first (exit): one 1000 close; the close handler that follows is a no-op', async (t) => {
  const h = harness(t);
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 1 });
  actor.post({ t: 'end', code: 1000, reason: 'exited' });
  await until(() => h.ends.length > 0, 'the socket end');
  assert.deepEqual(h.ends, [{ code: 1000, reason: 'exited' }]);
  assert.equal(h.session.state, 'closing');
  actor.bye();
  h.pool.settle();
  await h.session.finished;
  assertClosedOnce(h);
  assert.deepEqual(actor.got, [], 'no close request to an actor that is already closing');
  assert.match(await renderMetrics(h), /podterm_sessions_total\{outcome="exited"\} 1/);
});

test('client closes while the actor is ending: each end happens once', async (t) => {
  const h = harness(t);
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 1 });
  await until(() => h.session.state === 'attached', 'hello');
  h.socket.closed(1006);
  actor.post({ t: 'end', code: 4408, reason: 'IdleTimeout' });
  actor.bye();
  h.pool.settle();
  await h.session.finished;
  assertClosedOnce(h);
  assert.equal(h.ends.length, 0);
  assert.match(await renderMetrics(h), /podterm_sessions_total\{outcome="client_closed"\} 1/);
});

test('an idle timeout is counted as its own outcome, not as a failure', async (t) => {
  const h = harness(t);
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 1 });
  actor.post({ t: 'end', code: 4408, reason: 'IdleTimeout' });
  actor.bye();
  h.pool.settle();
  await h.session.finished;
  assertClosedOnce(h);
  const text = await renderMetrics(h);
  assert.match(text, /podterm_sessions_total\{outcome="idle_timeout"\} 1/);
  assert.doesNotMatch(text, /podterm_session_failures_total\{code="IdleTimeout"\}/);
});

test('the worker dies while the session is open: Internal frame, 1011, worker_lost', async (t) => {
  const h = harness(t);
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 1 });
  await until(() => h.session.state === 'attached', 'hello');
  h.pool.settle(new Error('worker exited'));
  await h.session.finished;
  assertClosedOnce(h);
  assert.deepEqual(h.ends, [{ code: 1011, reason: 'Internal' }]);
  const last = decodeServerFrame(new Uint8Array(h.sent.at(-1)!));
  assert.equal(last[0], 4);
  assert.match(await renderMetrics(h), /podterm_sessions_total\{outcome="worker_lost"\} 1/);
});

test('a dropped send ends the session with Internal instead of losing bytes', async (t) => {
  const h = harness(t);
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 1 });
  h.accept.value = false;
  const ab = new ArrayBuffer(8);
  actor.port.postMessage({ t: 'out', data: ab, epoch: 0, to: h.socket.id }, [ab]);
  await until(() => h.ends.length > 0 && actor.got.length > 0, 'the end after a dropped send');
  assert.deepEqual(h.ends, [{ code: 1011, reason: 'Internal' }]);
  assert.deepEqual(actor.got, [{ t: 'close', reason: 'client-gone' }]);
  actor.bye();
  h.pool.settle();
  await h.session.finished;
  assertClosedOnce(h);
});

test('deadline missed by an actor whose thread does not answer: the thread is recycled, then the session ends when the worker does', async (t) => {
  const h = harness(t, 30);
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 42 });
  await until(() => h.session.state === 'attached', 'hello');
  h.socket.closed(1006);
  await until(() => h.pool.recycled.length > 0, 'the recycle');
  assert.deepEqual(h.pool.recycled, [42]);
  h.pool.settle(new Error('recycled'));
  await h.session.finished;
  assertClosedOnce(h);
  assert.equal(h.metrics.closeDeadlineMisses, 1);
});

test('deadline missed by an actor whose thread answers: it gets more deadlines and ends by itself; nothing is recycled', async (t) => {
  const h = harness(t, 30);
  h.pool.threadAnswers = true;
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 42 });
  await until(() => h.session.state === 'attached', 'hello');
  h.socket.closed(1006);
  await until(() => h.metrics.closeDeadlineMisses >= 2, 'two missed deadlines');
  assert.equal(h.session.state, 'closing', 'still waiting for a busy actor');
  // The slow close finishes (its kill-on-close exec answered, say).
  actor.bye();
  h.pool.settle();
  await h.session.finished;
  assertClosedOnce(h);
  assert.deepEqual(h.pool.recycled, [], 'a thread that answers is never recycled: it serves other sessions');
  assert.equal(h.metrics.abandonedSessions, 0);
});

test('an actor whose thread answers but that never ends: given up after SLOW_CLOSE_DEADLINES more deadlines, its thread kept', async (t) => {
  const h = harness(t, 20);
  h.pool.threadAnswers = true;
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 7 });
  await until(() => h.session.state === 'attached', 'hello');
  h.socket.closed(1006);
  await h.session.finished;
  assertClosedOnce(h);
  assert.equal(h.metrics.closeDeadlineMisses, SLOW_CLOSE_DEADLINES + 1);
  assert.equal(h.metrics.abandonedSessions, 1);
  assert.deepEqual(h.pool.recycled, []);
});

test('deadline missed by an actor that never spoke: abandoned (counted); a late actor still gets the close', async (t) => {
  const h = harness(t, 30);
  h.socket.closed(1006);
  await h.session.finished; // within one deadline, with nothing to recycle
  assertClosedOnce(h);
  assert.equal(h.metrics.abandonedSessions, 1);
  assert.deepEqual(h.pool.recycled, []);
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 3 });
  await until(() => actor.got.length > 0, 'the held close request');
  assert.deepEqual(actor.got, [{ t: 'close', reason: 'client-gone' }], 'the late actor is told to close');
  actor.bye();
  await until(() => actor.port.listenerCount('message') === 0, 'the port to close');
  assert.equal(actor.port.listenerCount('message'), 0);
});

test('shutdown: the close request says shutdown; the actor answers 1001', async (t) => {
  const h = harness(t);
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 1 });
  await until(() => h.session.state === 'attached', 'hello');
  h.session.shutdown();
  h.session.shutdown();
  await until(() => actor.got.length > 0, 'the close request');
  await tick(20);
  assert.deepEqual(actor.got, [{ t: 'close', reason: 'shutdown' }]);
  actor.post({ t: 'end', code: 1001, reason: 'ServerShuttingDown' });
  actor.bye();
  h.pool.settle();
  await h.session.finished;
  assertClosedOnce(h);
  assert.deepEqual(h.ends, [{ code: 1001, reason: 'ServerShuttingDown' }]);
  assert.match(await renderMetrics(h), /podterm_sessions_total\{outcome="shutdown"\} 1/);
});

interface SecondSocket {
  link: ClientLink;
  sent: ArrayBuffer[];
  ends: Array<{ code: number; reason: string }>;
  socket: Attachment | undefined;
}

/** Another browser socket for the harness's session (a resume, or another tab), not attached yet. */
function secondLink(): SecondSocket {
  const s: SecondSocket = {
    sent: [],
    ends: [],
    socket: undefined,
    link: {
      send: (ab) => (s.sent.push(ab), true),
      bufferedAmount: () => 0,
      end: (code, reason) => {
        s.ends.push({ code, reason });
        s.socket?.closed(code);
      },
    },
  };
  return s;
}

function attachSecond(h: Harness): SecondSocket & { socket: Attachment } {
  const s = secondLink();
  s.socket = h.session.attach(s.link, 'owner', 'owner');
  assert.ok(s.socket, 'attached');
  return s as SecondSocket & { socket: Attachment };
}

const frame = (n: number): ArrayBuffer => new Uint8Array(n).fill(7).buffer;

test('with a grace, a dropped socket detaches: the slot stays taken, the actor is told, stale output is neither sent nor acked', async (t) => {
  const h = harness(t, 10_000, 60_000);
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 1 });
  await until(() => h.session.state === 'attached', 'hello');
  h.socket.closed(1006);
  assert.equal(h.session.state, 'detached');
  assert.equal(h.calls.closing, 0, 'the owner slot stays taken while detached');
  assert.equal(h.session.info().state, 'detached');
  assert.ok(h.session.info().detachedAt !== null);
  await until(() => actor.all.length >= 1, 'the detach');
  // The opener is in the actor's init (ActorInit.opener), never in an attach message.
  assert.deepEqual(actor.all, [{ t: 'detach', socket: 1 }]);

  // Resume: a new socket; output the actor posted before it saw the detach (epoch 0) is stale.
  const second = attachSecond(h);
  assert.equal(h.session.state, 'attached');
  const stale = frame(100);
  actor.port.postMessage({ t: 'out', data: stale, epoch: 0 }, [stale]);
  const started = frame(10);
  actor.port.postMessage({ t: 'out', data: started, epoch: 1, to: 2 }, [started]);
  const live = frame(20);
  actor.port.postMessage({ t: 'out', data: live, epoch: 1 }, [live]);
  // The viewers frame (op 6, from the main thread) follows its Started.
  await until(() => second.sent.length === 3, 'the Started, viewers and live frames');
  assert.deepEqual(decodeServerFrame(new Uint8Array(second.sent[1]!)), [6, { viewers: [{ user: 'owner', role: 'owner' }] }]);
  assert.deepEqual([second.sent[0]!, second.sent[2]!].map((b) => b.byteLength), [10, 20], 'the stale frame never reaches the new socket');
  await until(() => actor.got.some((m) => m.t === 'ack'), 'the ack', 2000);
  assert.deepEqual(actor.got.filter((m) => m.t === 'ack'), [{ t: 'ack', bytes: 30 }], 'only the current epoch is acknowledged');

  // The × on the tab: 1000 on the owner's last socket ends it.
  second.socket.closed(1000);
  assert.equal(h.session.state, 'closing');
  await until(() => actor.got.some((m) => m.t === 'close'), 'the close');
  assert.deepEqual(actor.got.at(-1), { t: 'close', reason: 'client-gone' });
  actor.bye();
  h.pool.settle();
  await h.session.finished;
  assertClosedOnce(h);
});

test('grace expiry: the actor ends the detached session with SessionGone; no socket to end, counted as client_closed', async (t) => {
  const h = harness(t, 10_000, 60_000);
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 1 });
  await until(() => h.session.state === 'attached', 'hello');
  h.socket.closed(1001);
  actor.post({ t: 'end', code: 4411, reason: 'SessionGone' });
  actor.bye();
  h.pool.settle();
  await h.session.finished;
  assertClosedOnce(h);
  assert.deepEqual(h.ends, []);
  const text = await renderMetrics(h);
  assert.match(text, /podterm_sessions_total\{outcome="client_closed"\} 1/);
  assert.doesNotMatch(text, /podterm_session_failures_total\{code="SessionGone"\} 1/);
});

test('two owner sockets: a 1000 close of one leaves the session attached; the other keeps it', async (t) => {
  const h = harness(t, 10_000, 60_000);
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 1 });
  await until(() => h.session.state === 'attached', 'hello');
  const second = attachSecond(h);
  h.socket.closed(1000);
  assert.equal(h.session.state, 'attached');
  assert.equal(h.calls.closing, 0);
  await until(() => actor.all.length >= 2, 'attach 2 and detach 1');
  assert.deepEqual(actor.all, [{ t: 'attach', socket: 2, role: 'owner' }, { t: 'detach', socket: 1 }]);
  // The end reaches every socket still attached.
  actor.post({ t: 'end', code: 1000, reason: 'exited' });
  await until(() => second.ends.length > 0, 'the end');
  assert.deepEqual(second.ends, [{ code: 1000, reason: 'exited' }]);
  assert.deepEqual(h.ends, [], 'the socket that left is not touched again');
  actor.bye();
  h.pool.settle();
  await h.session.finished;
  assertClosedOnce(h);
});

test('the socket drops before the actor speaks: hello finds the session detached; the owner ends it (DELETE)', async (t) => {
  const h = harness(t, 10_000, 60_000);
  h.socket.closed(1006);
  assert.equal(h.session.state, 'starting');
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 1 });
  await until(() => h.session.state === 'detached', 'hello');
  h.session.end();
  assert.equal(h.session.state, 'closing');
  assert.equal(h.session.attach(secondLink().link, 'owner', 'owner'), undefined, 'no resume into a closing session');
  await until(() => actor.got.length > 0, 'the close');
  assert.deepEqual(actor.got, [{ t: 'close', reason: 'ended' }]);
  actor.post({ t: 'end', code: 4411, reason: 'SessionGone' });
  actor.bye();
  h.pool.settle();
  await h.session.finished;
  assertClosedOnce(h);
});

test('without a grace any close ends the session, as before resume existed', async (t) => {
  const h = harness(t);
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 1 });
  await until(() => h.session.state === 'attached', 'hello');
  h.socket.closed(1001);
  assert.equal(h.session.state, 'closing');
  await until(() => actor.got.length > 0, 'the close');
  assert.deepEqual(actor.got, [{ t: 'close', reason: 'client-gone' }]);
  assert.ok(!actor.all.some((m) => m.t === 'detach'));
  actor.bye();
  h.pool.settle();
  await h.session.finished;
  assertClosedOnce(h);
});

async function renderMetrics(h: Harness): Promise<string> {
  return h.metrics.render({ sessionsActive: 0, actorsActive: 0, execSocketsOpen: 0, workers: 1 });
}

test('an actor that never starts: the client is told (Internal) at the start deadline instead of waiting; a late actor still gets the close', async (t) => {
  const h = harness(t, 30, 0, 40);
  await h.session.finished; // start deadline, then one close deadline with no thread to recycle
  assertClosedOnce(h);
  assert.deepEqual(h.ends, [{ code: 1011, reason: 'Internal' }]);
  const last = decodeServerFrame(new Uint8Array(h.sent.at(-1)!));
  assert.deepEqual(last, [4, { code: 'Internal', message: 'The session could not be started; try again.' }]);
  assert.match(await renderMetrics(h), /podterm_session_failures_total\{code="Internal"\} 1/);
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 5 });
  await until(() => actor.got.some((m) => m.t === 'close'), 'the held close request');
  actor.bye();
  await until(() => actor.port.listenerCount('message') === 0, 'the port to close');
});

test('typing faster than ACK_DELAY_MS: every ack rides on the next keystroke, none goes on its own', async (t) => {
  const h = harness(t);
  const actor = h.pool.startActor('s1');
  actor.post({ t: 'hello', threadId: 1 });
  await until(() => h.session.state === 'attached', 'hello');
  const started = frame(10);
  actor.port.postMessage({ t: 'out', data: started, epoch: 0, to: 1 }, [started]);
  await until(() => h.sent.length === 2, 'the Started and viewers frames');
  const interval = ACK_DELAY_MS / 4;
  // Ten keys, each echoed before the next: the echo's bytes are what the next key acknowledges.
  for (let i = 0; i < 10; i++) {
    h.session.fromClient(h.socket, new Uint8Array([97 + i]).buffer);
    const echo = frame(3);
    actor.port.postMessage({ t: 'out', data: echo, epoch: 0 }, [echo]);
    await until(() => h.sent.length === i + 3, `echo ${i}`);
    await tick(interval);
  }
  await until(() => actor.got.filter((m) => m.t === 'in').length === 10, 'the keys');
  const ins = actor.got.filter((m) => m.t === 'in') as Array<{ ack?: number }>;
  assert.deepEqual(ins.map((m) => m.ack), [10, ...Array(9).fill(3)], 'each key acknowledges the frame before it');
  assert.deepEqual(actor.got.filter((m) => m.t === 'ack'), [], 'no ack message while the keys carry them');
  // The last echo has no key after it: its ack goes alone after ACK_DELAY_MS.
  await until(() => actor.got.some((m) => m.t === 'ack'), 'the last ack', ACK_DELAY_MS * 10);
  assert.deepEqual(actor.got.filter((m) => m.t === 'ack'), [{ t: 'ack', bytes: 3 }]);
  h.socket.closed(1000);
  await until(() => actor.got.some((m) => m.t === 'close'), 'the close');
  actor.bye();
  h.pool.settle();
  await h.session.finished;
  assertClosedOnce(h);
});
