/**
 * The main thread's side of one session: it moves buffers between the browser sockets attached to
 * it and the actor's port, turns the owner's sockets' backpressure into output credit for the
 * actor, and proves the actor is gone (a deadline on every close; a miss recycles the worker that
 * holds the actor, and a session whose actor never spoke is abandoned, so nothing stays counted).
 *
 * The session outlives its sockets (docs/protocol.md, Additions): when the owner's last socket
 * closes with anything but 1000 it is `detached` (the actor runs on, its grace timer with it) until
 * a socket resumes it or the actor ends it. With no grace, or a 1000 close, it ends as before.
 *
 * One state table and one close funnel (STYLE.md 1-4): every way out goes through #close(), which
 * turns the state to `closing` before it calls anything back.
 */
import { ERRORS, isErrorCode, type ErrorCode } from '../protocol/errors.js';
import { encodeToArrayBuffer, errorFrame, ServerOp, type SessionListItem } from '../protocol/index.js';
import { ACK_EAGER_BYTES, type ActorInit, type CloseRequest, type FromActor, type SocketRole, type ToActor } from '../actor-link/actor-messages.js';
import type { ActorPool, ActorRunEnd } from '../actor-link/actor-pool.js';
import type { AckOwner, AckSweep } from './ack-sweep.js';
import { SessionPort } from '../actor-link/lane.js';
import { outcomeOfEnd, type Metrics, type SessionOutcome } from './metrics.js';
import { Attachment, type AttachmentHost, type ClientLink } from './attachment.js';
import { waiter, type Waiter } from '../lib/waiter.js';

export { Attachment, type ClientLink };

export interface FlowLimits {
  /** Pause the actor when the browser socket buffers more than this. */
  highWaterBytes: number;
  /** Resume when it has drained below this. */
  lowWaterBytes: number;
  closeDeadlineMs: number;
  /** How long an actor may take to say hello (default DEFAULT_START_DEADLINE_MS). */
  startDeadlineMs?: number;
}

export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/** What a session's end says, for the audit log (session.end). */
export interface SessionSummary {
  session: string;
  outcome: SessionOutcome;
  code: ErrorCode | undefined;
  exitCode: number | null | undefined;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
}

export interface SessionDeps {
  pool: ActorPool;
  metrics: Metrics;
  flow: FlowLimits;
  log: LogFn;
  /** The session stopped serving its owner: its per-owner slot is free (the actor may still be closing). */
  onClosing(session: Session): void;
  /** The actor has ended (or was given up): forget the session. `summary` is its audit record. */
  onDone(session: Session, summary: SessionSummary): void;
  /** A socket left the session (closed, ended by us, or the session ended), once per attachment, with its close code. */
  onLeave?(session: Session, a: Attachment, code: number): void;
  /** Whether thread `threadId` still runs its event loop (answers a probe): slow, or stuck? */
  threadAlive(threadId: number): Promise<boolean>;
  /** The actor missed its close deadline on a thread that does not answer: the last resort. */
  recycle(threadId: number): void;
  /** Where acks wait for an input to ride on (one timer for all sessions). */
  acks: AckSweep;
}

/**
 * Close deadlines an actor on a thread that still answers may take before it is given up. Its
 * close (the exec's, the kill-on-close exec's, the recording's flush) is bounded by its own
 * timeouts; when a thousand sessions close at once they queue behind each other, and recycling the
 * thread then ended every other session on it (seen in the 10,000-session soak).
 */
export const SLOW_CLOSE_DEADLINES = 4;

/**
 * | state    | next                               | meaning                                        |
 * |----------|------------------------------------|------------------------------------------------|
 * | starting | attached, detached, closing, closed| the actor has not spoken yet                   |
 * | attached | detached, closing, closed          | it runs, and the owner has a socket attached   |
 * | detached | attached, closing, closed          | it runs with no owner socket (grace in actor)  |
 * | closing  | closed                             | a close was asked; the deadline runs           |
 * | closed   |                                    | the actor ended or was given up; nothing held  |
 */
export type SessionState = 'starting' | 'attached' | 'detached' | 'closing' | 'closed';
const NEXT: Record<SessionState, readonly SessionState[]> = {
  starting: ['attached', 'detached', 'closing', 'closed'],
  attached: ['detached', 'closing', 'closed'],
  detached: ['attached', 'closing', 'closed'],
  closing: ['closed'],
  closed: [],
};

/** Why the main thread ends a session. The actor's own ends arrive as its `end` message. */
type CloseCause =
  | { kind: 'client-gone' }
  | { kind: 'shutdown' }
  | { kind: 'ended' }
  | { kind: 'actor-end'; code: number; reason: string }
  | { kind: 'dropped-send' }
  | { kind: 'not-started' };

/**
 * An actor that has not said hello by then was never scheduled (seen once with --workers 2 in a
 * bench run: one of 50 tasks stayed unstarted for minutes). The client is told instead of waiting.
 */
export const DEFAULT_START_DEADLINE_MS = 30_000;

/** What GET /api/v1/sessions shows of a session (docs/protocol.md, HTTP additions). */
export type SessionInfo = SessionListItem;

/** The number of a session's first socket, its opener's (ActorInit.opener). */
export const OPENER_SOCKET = 1;

export class Session implements AttachmentHost, ActorRunEnd, AckOwner {
  readonly id: string;
  readonly ownerKey: string;
  readonly startedAt = Date.now();
  #state: SessionState = 'starting';
  readonly #init: ActorInit;
  readonly #sockets = new Map<number, Attachment>();
  #nextSocket: number;
  #owners = 0;
  /** Detaches so far (see actor-messages.ts): output stamped with an older epoch is stale. */
  #epoch = 0;
  #detachedAt: number | undefined;
  readonly #port: SessionPort<FromActor, ToActor>;
  readonly #deps: SessionDeps;
  /** Output bytes sent to the owner's sockets and not yet acknowledged to the actor. */
  #pendingAck = 0;
  /** Owner sockets above their high-water mark; acks wait until every one has drained. */
  #stalled = 0;
  #opened: { container: string; command: string[] } | undefined;
  #threadId: number | undefined;
  #outcome: SessionOutcome | undefined;
  /** The error code the actor ended with, when it failed (counted per code). */
  #failure: ErrorCode | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #startDeadline: NodeJS.Timeout | undefined;
  #closeCode: number | undefined;
  #exitCode: number | null | undefined;
  #bytesIn = 0;
  #bytesOut = 0;
  /** What the actor's end waits for: its task settled (`run`), and its port closed after its last message (`port`). */
  #actorRun: 'running' | 'ended' | 'failed' = 'running';
  #actorError: unknown;
  #portClosed = false;
  /** Made when someone waits for the end (an idle session keeps no promise for it). */
  #finished: Waiter | undefined;

  /** The owner socket that opened the session (attached before the actor runs, see ActorInit.opener). */
  readonly opener: Attachment;

  /** `init.opener` numbers the owner's first socket (OPENER_SOCKET); it is kept, not copied. */
  constructor(init: ActorInit, owner: { key: string; link: ClientLink }, deps: SessionDeps) {
    this.id = init.session;
    this.ownerKey = owner.key;
    this.#deps = deps;
    const opener = new Attachment(init.opener, 'owner', owner.key, owner.link, this);
    this.#nextSocket = init.opener + 1;
    this.#sockets.set(opener.id, opener);
    this.#owners = 1;
    this.opener = opener;
    this.#init = init;
    const port = new SessionPort<FromActor, ToActor>(init.session);
    this.#port = port;
    port.on('message', (m: FromActor) => this.#fromActor(m));
    // The task result and the port's messages travel on different channels with no order between
    // them; the actor closes its port last, and 'close' comes after every message it posted.
    port.on('close', () => {
      this.#portClosed = true;
      this.#settleActor();
    });
    const startDeadline = setTimeout(() => {
      if (this.#state !== 'starting') return;
      this.#deps.log('error', 'session actor did not start in time', { session: this.id, waitedMs: deps.flow.startDeadlineMs ?? DEFAULT_START_DEADLINE_MS });
      this.#failure ??= 'Internal';
      this.#close({ kind: 'not-started' });
    }, deps.flow.startDeadlineMs ?? DEFAULT_START_DEADLINE_MS);
    this.#startDeadline = startDeadline;
    deps.pool.run(port, this.#init, this);
  }

  /** ActorRunEnd: the pool's word that the actor's run is over. */
  actorRunEnded(err: unknown): void {
    if (err === undefined) this.#actorRun = 'ended';
    else {
      this.#actorRun = 'failed';
      this.#actorError = err;
    }
    this.#settleActor();
  }

  /** A failed task ends the session at once; a finished one once its port has closed too. */
  #settleActor(): void {
    if (this.#actorRun === 'failed') this.#actorEnded(this.#actorError);
    else if (this.#actorRun === 'ended' && this.#portClosed) this.#actorEnded(undefined);
  }

  /** Settles when the actor has ended (or its worker died, or it was given up). Never rejects. */
  get finished(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    this.#finished ??= waiter();
    return this.#finished.promise;
  }

  get state(): SessionState {
    return this.#state;
  }

  get threadId(): number | undefined {
    return this.#threadId;
  }

  #to(next: SessionState): void {
    if (!NEXT[this.#state].includes(next)) throw new Error(`session ${this.id}: ${this.#state} -> ${next} is not a transition`);
    this.#state = next;
  }

  /** Still serving its owner: neither closing nor closed. */
  get live(): boolean {
    return this.#state !== 'closing' && this.#state !== 'closed';
  }

  /**
   * A browser socket joins (the one that opened the session, or a resume). The actor sends it its
   * Started frame, then the replay, then live output. undefined when the session is ending.
   */
  attach(link: ClientLink, role: SocketRole, user: string): Attachment | undefined {
    if (!this.live) return undefined;
    const a = new Attachment(this.#nextSocket++, role, user, link, this);
    this.#sockets.set(a.id, a);
    if (role === 'owner' && ++this.#owners === 1) {
      this.#detachedAt = undefined;
      if (this.#state === 'detached') this.#to('attached');
    }
    this.#port.postMessage({ t: 'attach', socket: a.id, role });
    // The others hear of it now; the newcomer right after its Started (see #output).
    this.#sendViewers();
    return a;
  }

  /**
   * Ends every observer's socket with SessionGone (the owner revoked the shares); the owner's
   * sockets stay. Returns how many were ended.
   */
  endObservers(message: string): number {
    const observers = [...this.#sockets.values()].filter((a) => a.role === 'observer');
    for (const a of observers) {
      a.send(errorFrame('SessionGone', message));
      a.end(ERRORS.SessionGone.close, 'SessionGone');
      this.left(a, ERRORS.SessionGone.close);
    }
    return observers.length;
  }

  /** `[6, {viewers}]` to every socket whose Started went out (docs/protocol.md, Additions: on every join and leave). */
  #sendViewers(): void {
    if (!this.live) return;
    const frame = this.#viewersFrame();
    for (const a of [...this.#sockets.values()]) if (a.ready && a.open) this.#deliver(a, frame);
  }

  #viewersFrame(): ArrayBuffer {
    return encodeToArrayBuffer([ServerOp.Viewers, { viewers: [...this.#sockets.values()].map((a) => ({ user: a.user, role: a.role })) }]);
  }

  /** One browser message, copied out of uWS's buffer (valid only during the callback) and moved. */
  fromClient(a: Attachment, message: ArrayBuffer): void {
    // Observers' stdin and resize are ignored (docs/protocol.md, Additions): not even moved.
    if (!this.live || a.role !== 'owner') return;
    const data = message.slice(0);
    this.#bytesIn += data.byteLength;
    this.#deps.metrics.bytesIn += data.byteLength;
    if (this.#pendingAck > 0 && this.#stalled === 0) {
      this.#port.postMessage({ t: 'in', socket: a.id, data, ack: this.#pendingAck }, [data]);
      this.#pendingAck = 0;
      // The ack rode on the input: the sweep would only send the next echo's bytes on their own.
      this.#deps.acks.cancel(this);
    } else {
      this.#port.postMessage({ t: 'in', socket: a.id, data }, [data]);
    }
  }

  /** uWS `drain`: give the actor its credit back once every owner socket is below the low-water mark. */
  drained(a: Attachment): void {
    if (!a.backpressured || a.bufferedAmount() > this.#deps.flow.lowWaterBytes) return;
    a.backpressured = false;
    this.#stalled--;
    this.flushAck();
  }

  /**
   * A socket closed (its link is gone) or was ended by us. An owner's 1000 close of its last socket
   * ends the session (the × on a tab), as does any close without a detach grace; any other close of
   * the last owner socket (1001 reload, a dropped link) detaches it.
   */
  left(a: Attachment, code: number): void {
    if (!this.#sockets.delete(a.id)) return;
    this.#deps.log('debug', 'socket left', { session: this.id, socket: a.id, role: a.role, code, state: this.#state });
    if (a.backpressured) {
      a.backpressured = false;
      this.#stalled--;
    }
    this.#deps.onLeave?.(this, a, code);
    if (!this.live) return;
    if (a.role !== 'owner') {
      this.#port.postMessage({ t: 'detach', socket: a.id });
      this.#sendViewers();
      return;
    }
    this.#sendViewers();
    const last = --this.#owners === 0;
    if (last && (code === 1000 || (this.#init.detachGraceMs ?? 0) <= 0)) {
      this.#close({ kind: 'client-gone' });
      return;
    }
    this.#port.postMessage({ t: 'detach', socket: a.id });
    if (!last) {
      this.flushAck();
      return;
    }
    // The actor forgets what it posted before it sees the detach; so do we (see actor-messages.ts).
    this.#epoch++;
    this.#pendingAck = 0;
    this.#deps.acks.cancel(this);
    this.#detachedAt = Date.now();
    if (this.#state === 'attached') this.#to('detached');
  }

  /** Drain: the actor sends ServerShuttingDown and asks us to close with 1001. */
  shutdown(): void {
    this.#close({ kind: 'shutdown' });
  }

  /** The owner ends the session (DELETE /api/v1/sessions/{id}): every socket gets SessionGone. */
  end(): void {
    this.#close({ kind: 'ended' });
  }

  info(): SessionInfo {
    const init = this.#init;
    const grace = init.detachGraceMs ?? 0;
    return {
      id: this.id,
      namespace: init.namespace,
      pod: init.pod,
      container: this.#opened?.container ?? init.container,
      command: this.#opened?.command ?? init.command,
      state: this.#owners > 0 ? 'attached' : 'detached',
      createdAt: new Date(this.startedAt).toISOString(),
      detachedAt: this.#detachedAt === undefined ? null : new Date(this.#detachedAt).toISOString(),
      // The actor's grace timer starts when it sees the detach, a moment after #detachedAt: the
      // session may outlive this by that moment, never end before it.
      graceEndsAt: this.#detachedAt === undefined || grace <= 0 ? null : new Date(this.#detachedAt + grace).toISOString(),
      viewers: [...this.#sockets.values()].map((a) => ({ user: a.user, role: a.role })),
      resumeToken: init.resumeToken,
    };
  }

  /**
   * When the actor cannot be reached in time (drain's last step, or a deadline with no thread to
   * recycle): stop waiting for it. Counted. The port stays open with the close request held in it:
   * an actor that starts late (a loaded machine) gets it first and ends at once; its goodbye then
   * closes the port.
   */
  abandon(): void {
    if (this.#state === 'closed') return;
    this.#deps.metrics.countAbandoned();
    this.#deps.log('error', 'session abandoned: its actor did not end in time', { session: this.id, threadId: this.#threadId, state: this.#state });
    this.#outcome ??= 'worker_lost';
    this.#actorEnded(undefined, { abandoned: true });
  }

  /** The close funnel: every end that starts on the main thread comes through here once. */
  #close(cause: CloseCause): void {
    if (!this.live) {
      // Already on the way out; an actor's end still closes the sockets it was meant for.
      if (cause.kind === 'actor-end') this.#endAll(cause.code, cause.reason);
      return;
    }
    this.#to('closing');
    this.#outcome ??= outcomeOf(cause);
    this.#deps.onClosing(this);
    switch (cause.kind) {
      case 'client-gone':
        this.#port.postMessage({ t: 'close', reason: 'client-gone' });
        // The owner left for good (the ×, or no grace): the watchers are told, not left to a 1011.
        this.endObservers('The owner ended the session.');
        break;
      case 'shutdown':
      case 'ended':
        this.#port.postMessage({ t: 'close', reason: cause.kind satisfies CloseRequest });
        break;
      case 'actor-end':
        this.#endAll(cause.code, cause.reason);
        break;
      case 'dropped-send':
        this.#port.postMessage({ t: 'close', reason: 'client-gone' });
        this.#sendFinal(ERRORS.Internal.close, 'Internal', ERRORS.Internal.text);
        break;
      case 'not-started':
        // Held on the port: an actor that starts after all finds it first and ends at once.
        this.#port.postMessage({ t: 'close', reason: 'client-gone' });
        this.#sendFinal(ERRORS.Internal.close, 'Internal', 'The session could not be started; try again.');
        break;
    }
    this.#armDeadline();
  }

  /** Closes every attached socket (uWS runs each close handler inside end(): a no-op by then). */
  #endAll(code: number, reason: string): void {
    const all = [...this.#sockets.values()];
    this.#sockets.clear();
    for (const a of all) {
      a.end(code, reason);
      this.#deps.onLeave?.(this, a, code);
    }
  }

  #sendFinal(code: number, errorCode: 'Internal', message: string): void {
    const frame = errorFrame(errorCode, message);
    for (const a of this.#sockets.values()) a.send(frame);
    this.#endAll(code, errorCode);
  }

  #armDeadline(): void {
    if (this.#deadline || this.#state === 'closed') return;
    this.#deadline = setTimeout(() => this.#overdue(0), this.#deps.flow.closeDeadlineMs);
  }

  /**
   * A close deadline passed. A thread that still answers is only busy: wait, up to
   * SLOW_CLOSE_DEADLINES more, then give the actor up (never the thread, which serves other
   * sessions). A thread that does not answer is stuck: recycle it, the last resort.
   */
  #overdue(missed: number): void {
    if (this.#state === 'closed') return;
    this.#deps.metrics.closeDeadlineMisses++;
    const threadId = this.#threadId;
    if (threadId === undefined) {
      // The actor never spoke: there is no thread to recycle, and nothing to wait for.
      this.abandon();
      return;
    }
    const deadline = this.#deps.flow.closeDeadlineMs;
    void this.#deps.threadAlive(threadId).then((alive) => {
      if (this.#state === 'closed') return;
      if (!alive) {
        this.#deps.log('warn', 'actor missed its close deadline and its thread does not answer; recycling the thread', { session: this.id, threadId });
        this.#deps.recycle(threadId);
        // The worker's end settles pool.run; if even that does not come, give up after one more deadline.
        this.#deadline = setTimeout(() => this.abandon(), deadline);
      } else if (missed < SLOW_CLOSE_DEADLINES) {
        this.#deps.log('warn', 'actor slow to close; its thread answers, so it gets another deadline', { session: this.id, threadId, missed: missed + 1 });
        this.#deadline = setTimeout(() => this.#overdue(missed + 1), deadline);
      } else {
        this.abandon();
      }
    });
  }

  /** AckOwner (ack-sweep.ts): sends the pending ack now, if the owner sockets keep up. */
  flushAck(): void {
    this.#deps.acks.cancel(this);
    if (this.#stalled > 0 || this.#pendingAck === 0 || this.#state === 'closed') return;
    this.#port.postMessage({ t: 'ack', bytes: this.#pendingAck });
    this.#pendingAck = 0;
  }

  #fromActor(m: FromActor): void {
    if (this.#state === 'closed') return;
    switch (m.t) {
      case 'hello':
        clearTimeout(this.#startDeadline);
        // A cleared Timeout still holds its callback and this constructor's scope: let both go.
        this.#startDeadline = undefined;
        this.#threadId = m.threadId;
        if (this.#state === 'starting') {
          this.#to(this.#owners > 0 ? 'attached' : 'detached');
          if (this.#owners === 0) this.#detachedAt ??= Date.now();
        }
        return;
      case 'opened':
        this.#opened = { container: m.container, command: m.command };
        return;
      case 'out':
        if (m.epoch === this.#epoch) this.#output(m.data, m.to, m.except);
        return;
      case 'end':
        this.#closeCode ??= m.code;
        if (m.exitCode !== undefined) this.#exitCode = m.exitCode;
        if (m.code !== 1000 && isErrorCode(m.reason)) this.#failure ??= m.reason;
        this.#outcome ??= outcomeOfEnd(m.code, m.reason);
        this.#close({ kind: 'actor-end', code: m.code, reason: m.reason });
        return;
    }
  }

  /**
   * One frame from the actor: to one socket (its Started, its replay, its input credit), to every
   * socket whose Started went out (output), or to every socket (the end frames). Every byte of the current epoch is acknowledged once no
   * owner socket is above its high-water mark, delivered or not (a socket may have left meanwhile).
   */
  #output(data: ArrayBuffer, to: number | 'all' | undefined, except?: number): void {
    const size = data.byteLength;
    // Detached, the actor counts nothing (it was told to forget): an ack would only eat into the next window.
    if (this.#state !== 'detached') this.#pendingAck += size;
    if (to === 'all') {
      for (const a of [...this.#sockets.values()]) this.#deliver(a, data);
    } else if (to !== undefined) {
      const a = this.#sockets.get(to);
      if (a) {
        const first = !a.ready;
        a.ready = true;
        this.#deliver(a, data);
        // Its Started went out: now who else is here, before the replay (after Started, as the protocol orders them).
        if (first && a.open) this.#deliver(a, this.#viewersFrame());
      }
    } else {
      for (const a of [...this.#sockets.values()]) if (a.ready && a.id !== except) this.#deliver(a, data);
    }
    if (this.#stalled === 0 && this.#state !== 'closed') {
      if (this.#pendingAck >= ACK_EAGER_BYTES) this.flushAck();
      else this.#deps.acks.schedule(this);
    }
  }

  #deliver(a: Attachment, data: ArrayBuffer): void {
    const size = data.byteLength;
    this.#deps.metrics.bytesOut += size;
    this.#bytesOut += size;
    if (!a.send(data)) {
      this.#deps.log('error', 'the browser socket dropped a message; closing it', { session: this.id, socket: a.id });
      if (this.#sockets.size === 1 && (this.#init.detachGraceMs ?? 0) <= 0) {
        this.#close({ kind: 'dropped-send' });
        return;
      }
      // Bytes are lost to this socket only: it goes (it may resume and get a fresh replay).
      a.send(errorFrame('Internal', ERRORS.Internal.text));
      a.end(ERRORS.Internal.close, 'Internal');
      this.left(a, ERRORS.Internal.close);
      return;
    }
    if (a.backpressured || a.bufferedAmount() <= this.#deps.flow.highWaterBytes) return;
    if (a.role !== 'owner') {
      // A watcher never stalls the owner: it is closed and may rejoin with a fresh replay.
      a.send(errorFrame('TooSlow', ERRORS.TooSlow.text));
      a.end(ERRORS.TooSlow.close, 'TooSlow');
      this.left(a, ERRORS.TooSlow.close);
      return;
    }
    a.backpressured = true;
    this.#stalled++;
    this.#deps.metrics.backpressurePauses++;
  }

  #actorEnded(err: unknown, o: { abandoned?: boolean } = {}): void {
    if (this.#state === 'closed') return;
    if (this.#state !== 'closing') this.#deps.onClosing(this);
    this.#to('closed');
    if (this.#deadline) clearTimeout(this.#deadline);
    clearTimeout(this.#startDeadline);
    this.#deps.acks.cancel(this);
    if (!o.abandoned) this.#port.close();
    if (err !== undefined) {
      this.#outcome ??= 'worker_lost';
      this.#deps.log('error', 'session actor failed', { session: this.id, error: String(err) });
    }
    if (err === undefined && this.#outcome === undefined) {
      // Neither side asked for this end: say so, so the log never shows an end without a cause.
      this.#deps.log('error', 'session actor ended without an end message', { session: this.id, sockets: this.#sockets.size });
    }
    // The actor ended without closing the socket: its worker died (or a bug). Tell the client.
    this.#sendFinal(ERRORS.Internal.close, 'Internal', ERRORS.Internal.text);
    const outcome = this.#outcome ?? 'error';
    this.#deps.metrics.countSession(outcome);
    if (this.#failure) this.#deps.metrics.countFailure(this.#failure);
    this.#deps.log('info', 'session end', {
      session: this.id,
      who: this.ownerKey,
      namespace: this.#init.namespace,
      pod: this.#init.pod,
      container: this.#init.container,
      outcome,
      ...(this.#failure ? { code: this.#failure } : {}),
      ...(this.#closeCode !== undefined ? { closeCode: this.#closeCode } : {}),
      durationMs: Date.now() - this.startedAt,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
    });
    this.#deps.onDone(this, {
      session: this.id,
      outcome,
      code: this.#failure,
      exitCode: this.#exitCode,
      durationMs: Date.now() - this.startedAt,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
    });
    this.#finished?.resolve();
  }
}

function outcomeOf(cause: CloseCause): SessionOutcome {
  switch (cause.kind) {
    case 'client-gone':
      return 'client_closed';
    case 'shutdown':
      return 'shutdown';
    case 'ended':
      return 'client_closed';
    case 'dropped-send':
    case 'not-started':
      return 'error';
    case 'actor-end':
      return outcomeOfEnd(cause.code, cause.reason);
  }
}
