/**
 * The main thread's side of one session: it moves buffers between the browser socket and the actor's
 * port, turns browser-socket backpressure into output credit for the actor, and proves the actor is
 * gone (a deadline on every close; a miss recycles the worker that holds the actor, and a session
 * whose actor never spoke is abandoned, so nothing stays counted forever).
 *
 * One state table and one close funnel (STYLE.md 1-4): every way out goes through #close(), which
 * turns the state to `closing` before it calls anything back.
 */
import { ERRORS, isErrorCode, type ErrorCode } from '../protocol/errors.js';
import { errorFrame } from '../protocol/index.js';
import { ACK_DELAY_MS, ACK_EAGER_BYTES, type ActorInit, type CloseRequest, type FromActor, type ToActor } from '../actor-link/actor-messages.js';
import type { ActorPool } from '../actor-link/actor-pool.js';
import { SessionPort } from '../actor-link/lane.js';
import { outcomeOfEnd, type Metrics, type SessionOutcome } from './metrics.js';

/** What the server gives the supervisor for one browser socket (uWS WebSocket, wrapped). */
export interface ClientLink {
  /** false: the socket dropped the message (over its hard backpressure cap); the session must end. */
  send(data: ArrayBuffer): boolean;
  bufferedAmount(): number;
  end(code: number, reason: string): void;
}

export interface FlowLimits {
  /** Pause the actor when the browser socket buffers more than this. */
  highWaterBytes: number;
  /** Resume when it has drained below this. */
  lowWaterBytes: number;
  closeDeadlineMs: number;
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
  /** The actor missed its close deadline on thread `threadId`: the last resort. */
  recycle(threadId: number): void;
}

/**
 * | state    | next                      | meaning                                             |
 * |----------|---------------------------|-----------------------------------------------------|
 * | starting | open, closing, closed     | the actor has not spoken yet                        |
 * | open     | closing, closed           | the actor runs (it said hello from `threadId`)      |
 * | closing  | closed                    | a close was asked; the deadline runs                |
 * | closed   |                           | the actor ended or was given up; nothing is held    |
 */
export type SessionState = 'starting' | 'open' | 'closing' | 'closed';
const NEXT: Record<SessionState, readonly SessionState[]> = {
  starting: ['open', 'closing', 'closed'],
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
};

/** Why the main thread ends a session. The actor's own ends arrive as its `end` message. */
type CloseCause =
  | { kind: 'client-gone' }
  | { kind: 'shutdown' }
  | { kind: 'actor-end'; code: number; reason: string }
  | { kind: 'dropped-send' };

export class Session {
  readonly id: string;
  readonly ownerKey: string;
  readonly startedAt = Date.now();
  #state: SessionState = 'starting';
  #link: ClientLink | undefined;
  readonly #port: SessionPort<FromActor, ToActor>;
  readonly #deps: SessionDeps;
  /** Output bytes sent to the browser socket and not yet acknowledged to the actor. */
  #pendingAck = 0;
  #ackTimer: NodeJS.Timeout | undefined;
  /** The browser socket is above its high-water mark; acks wait for drain. */
  #backpressured = false;
  #threadId: number | undefined;
  #outcome: SessionOutcome | undefined;
  /** The error code the actor ended with, when it failed (counted per code). */
  #failure: ErrorCode | undefined;
  #deadline: NodeJS.Timeout | undefined;
  readonly #where: { namespace: string; pod: string; container: string | null | undefined };
  #closeCode: number | undefined;
  #exitCode: number | null | undefined;
  #bytesIn = 0;
  #bytesOut = 0;
  /** Settles when the actor has ended (or its worker died, or it was given up). Never rejects. */
  readonly finished: Promise<void>;
  #finish!: () => void;

  constructor(init: ActorInit, ownerKey: string, link: ClientLink, deps: SessionDeps) {
    this.id = init.session;
    this.ownerKey = ownerKey;
    this.#link = link;
    this.#deps = deps;
    this.#where = { namespace: init.namespace, pod: init.pod, container: init.container };
    this.finished = new Promise((resolve) => (this.#finish = resolve));
    const port = new SessionPort<FromActor, ToActor>(init.session);
    this.#port = port;
    port.on('message', (m: FromActor) => this.#fromActor(m));
    // The task result and the port's messages travel on different channels with no order between
    // them; the actor closes its port last, and 'close' comes after every message it posted.
    const portClosed = new Promise<void>((resolve) => port.once('close', resolve));
    deps.pool.run(port, init).then(
      () => portClosed.then(() => this.#actorEnded(undefined)),
      (err: unknown) => this.#actorEnded(err),
    );
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

  /** One browser message, copied out of uWS's buffer (valid only during the callback) and moved. */
  fromClient(message: ArrayBuffer): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    const data = message.slice(0);
    this.#bytesIn += data.byteLength;
    this.#deps.metrics.bytesIn += data.byteLength;
    if (this.#pendingAck > 0 && !this.#backpressured) {
      this.#port.postMessage({ t: 'in', data, ack: this.#pendingAck }, [data]);
      this.#pendingAck = 0;
    } else {
      this.#port.postMessage({ t: 'in', data }, [data]);
    }
  }

  /** uWS `drain`: give the actor its credit back once the socket is below the low-water mark. */
  drained(): void {
    const link = this.#link;
    if (!link || !this.#backpressured) return;
    if (link.bufferedAmount() <= this.#deps.flow.lowWaterBytes) {
      this.#backpressured = false;
      this.#flushAck();
    }
  }

  /** The browser socket closed (any reason). Never touch the link again. */
  clientClosed(): void {
    this.#link = undefined;
    this.#close({ kind: 'client-gone' });
  }

  /** Drain: the actor sends ServerShuttingDown and asks us to close with 1001. */
  shutdown(): void {
    this.#close({ kind: 'shutdown' });
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
    if (this.#state === 'closing' || this.#state === 'closed') {
      // Already on the way out; an actor's end still closes the socket it was meant for.
      if (cause.kind === 'actor-end') this.#endLink(cause.code, cause.reason);
      return;
    }
    this.#to('closing');
    this.#outcome ??= outcomeOf(cause);
    this.#deps.onClosing(this);
    switch (cause.kind) {
      case 'client-gone':
      case 'shutdown':
        this.#port.postMessage({ t: 'close', reason: cause.kind satisfies CloseRequest });
        break;
      case 'actor-end':
        this.#endLink(cause.code, cause.reason);
        break;
      case 'dropped-send':
        this.#deps.log('error', 'the browser socket dropped a message; ending the session', { session: this.id });
        this.#port.postMessage({ t: 'close', reason: 'client-gone' });
        this.#sendFinal(ERRORS.Internal.close, 'Internal', ERRORS.Internal.text);
        break;
    }
    this.#armDeadline();
  }

  #endLink(code: number, reason: string): void {
    const link = this.#link;
    this.#link = undefined;
    // uWS runs the close handler synchronously inside end(); it calls clientClosed(), a no-op now.
    link?.end(code, reason);
  }

  #sendFinal(code: number, errorCode: 'Internal', message: string): void {
    const link = this.#link;
    if (!link) return;
    link.send(errorFrame(errorCode, message));
    this.#endLink(code, errorCode);
  }

  #armDeadline(): void {
    if (this.#deadline || this.#state === 'closed') return;
    this.#deadline = setTimeout(() => {
      this.#deps.metrics.closeDeadlineMisses++;
      if (this.#threadId !== undefined) {
        this.#deps.log('warn', 'actor missed its close deadline; recycling its worker', { session: this.id, threadId: this.#threadId });
        this.#deps.recycle(this.#threadId);
        // The worker's end settles pool.run; if even that does not come, give up after one more deadline.
        this.#deadline = setTimeout(() => this.abandon(), this.#deps.flow.closeDeadlineMs);
      } else {
        // The actor never spoke: there is no thread to recycle, and nothing to wait for.
        this.abandon();
      }
    }, this.#deps.flow.closeDeadlineMs);
  }

  #flushAck(): void {
    if (this.#ackTimer) clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    if (this.#backpressured || this.#pendingAck === 0 || this.#state === 'closed') return;
    this.#port.postMessage({ t: 'ack', bytes: this.#pendingAck });
    this.#pendingAck = 0;
  }

  #fromActor(m: FromActor): void {
    if (this.#state === 'closed') return;
    switch (m.t) {
      case 'hello':
        this.#threadId = m.threadId;
        if (this.#state === 'starting') this.#to('open');
        return;
      case 'out':
        this.#output(m.data);
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

  #output(data: ArrayBuffer): void {
    const link = this.#link;
    if (!link) return;
    const size = data.byteLength;
    this.#deps.metrics.bytesOut += size;
    this.#bytesOut += size;
    this.#pendingAck += size;
    if (!link.send(data)) {
      this.#close({ kind: 'dropped-send' });
      return;
    }
    if (!this.#backpressured && link.bufferedAmount() > this.#deps.flow.highWaterBytes) {
      this.#backpressured = true;
      this.#deps.metrics.backpressurePauses++;
    }
    if (!this.#backpressured) {
      if (this.#pendingAck >= ACK_EAGER_BYTES) this.#flushAck();
      else this.#ackTimer ??= setTimeout(() => this.#flushAck(), ACK_DELAY_MS);
    }
  }

  #actorEnded(err: unknown, o: { abandoned?: boolean } = {}): void {
    if (this.#state === 'closed') return;
    if (this.#state !== 'closing') this.#deps.onClosing(this);
    this.#to('closed');
    if (this.#deadline) clearTimeout(this.#deadline);
    if (this.#ackTimer) clearTimeout(this.#ackTimer);
    if (!o.abandoned) this.#port.close();
    if (err !== undefined) {
      this.#outcome ??= 'worker_lost';
      this.#deps.log('error', 'session actor failed', { session: this.id, error: String(err) });
    }
    // The actor ended without closing the socket: its worker died (or a bug). Tell the client.
    this.#sendFinal(ERRORS.Internal.close, 'Internal', ERRORS.Internal.text);
    const outcome = this.#outcome ?? 'error';
    this.#deps.metrics.countSession(outcome);
    if (this.#failure) this.#deps.metrics.countFailure(this.#failure);
    this.#deps.log('info', 'session end', {
      session: this.id,
      who: this.ownerKey,
      ...this.#where,
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
    this.#finish();
  }
}

function outcomeOf(cause: CloseCause): SessionOutcome {
  switch (cause.kind) {
    case 'client-gone':
      return 'client_closed';
    case 'shutdown':
      return 'shutdown';
    case 'dropped-send':
      return 'error';
    case 'actor-end':
      return outcomeOfEnd(cause.code, cause.reason);
  }
}
