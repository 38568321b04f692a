/**
 * The main thread's side of one session: it moves buffers between the browser socket and the actor's
 * port, turns browser-socket backpressure into pause/resume for the actor, and proves the actor is
 * gone (a deadline on every close; a miss is counted and the worker that holds the actor recycled).
 */
import { encode, ServerOp } from '../protocol/index.js';
import { ERRORS } from '../protocol/errors.js';
import { ACK_DELAY_MS, ACK_EAGER_BYTES, type ActorInit, type CloseRequest, type FromActor, type ToActor } from '../actor-link/actor-messages.js';
import type { ActorPool } from '../actor-link/actor-pool.js';
import { SessionPort } from '../actor-link/lane.js';
import type { Metrics, SessionOutcome } from './metrics.js';

/** What the server gives the supervisor for one browser socket (uWS WebSocket, wrapped). */
export interface ClientLink {
  send(data: ArrayBuffer): void;
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

export interface SessionDeps {
  pool: ActorPool;
  metrics: Metrics;
  flow: FlowLimits;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  onDone(session: Session): void;
}

export type SessionState = 'open' | 'closing' | 'closed';

export class Session {
  readonly id: string;
  readonly ownerKey: string;
  #state: SessionState = 'open';
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
  #deadline: NodeJS.Timeout | undefined;
  /** Settles when the actor has ended (or its worker died). */
  readonly finished: Promise<void>;

  constructor(init: ActorInit, ownerKey: string, link: ClientLink, deps: SessionDeps) {
    this.id = init.session;
    this.ownerKey = ownerKey;
    this.#link = link;
    this.#deps = deps;
    const port = new SessionPort<FromActor, ToActor>(init.session);
    this.#port = port;
    port.on('message', (m: FromActor) => this.#fromActor(m));
    // The task result and the port's messages travel on different channels with no order between
    // them; the actor closes its port last, and 'close' comes after every message it posted.
    const portClosed = new Promise<void>((resolve) => port.once('close', resolve));
    this.finished = deps.pool.run(port, init).then(
      () => portClosed.then(() => this.#actorEnded(undefined)),
      (err: unknown) => this.#actorEnded(err),
    );
  }

  get state(): SessionState {
    return this.#state;
  }

  /** One browser message, copied out of uWS's buffer (valid only during the callback) and moved. */
  fromClient(message: ArrayBuffer): void {
    if (this.#state !== 'open') return;
    const data = message.slice(0);
    this.#deps.metrics.bytesIn += data.byteLength;
    if (this.#pendingAck > 0 && !this.#backpressured) {
      this.#post({ t: 'in', data, ack: this.#pendingAck }, [data]);
      this.#pendingAck = 0;
    } else {
      this.#post({ t: 'in', data }, [data]);
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

  #flushAck(): void {
    if (this.#ackTimer) clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    if (this.#backpressured || this.#pendingAck === 0) return;
    this.#post({ t: 'ack', bytes: this.#pendingAck });
    this.#pendingAck = 0;
  }

  /** The browser socket closed (any reason). Never touch the link again. */
  clientClosed(): void {
    this.#link = undefined;
    this.#outcome ??= 'client_closed';
    this.#requestClose('client-gone');
  }

  /** Drain: the actor sends ServerShuttingDown and asks us to close with 1001. */
  shutdown(): void {
    this.#outcome ??= 'shutdown';
    this.#requestClose('shutdown');
  }

  #requestClose(reason: CloseRequest): void {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    this.#post({ t: 'close', reason });
    this.#armDeadline();
  }

  #armDeadline(): void {
    if (this.#deadline || this.#state === 'closed') return;
    this.#deadline = setTimeout(() => {
      this.#deps.metrics.closeDeadlineMisses++;
      this.#deps.log('warn', 'actor missed its close deadline; recycling its worker', { session: this.id, threadId: this.#threadId });
      if (this.#threadId !== undefined) void this.#deps.pool.recycle(this.#threadId);
    }, this.#deps.flow.closeDeadlineMs);
  }

  #fromActor(m: FromActor): void {
    switch (m.t) {
      case 'hello':
        this.#threadId = m.threadId;
        return;
      case 'out': {
        const link = this.#link;
        if (!link) return;
        this.#deps.metrics.bytesOut += m.data.byteLength;
        this.#pendingAck += m.data.byteLength;
        link.send(m.data);
        if (!this.#backpressured && link.bufferedAmount() > this.#deps.flow.highWaterBytes) {
          this.#backpressured = true;
          this.#deps.metrics.backpressurePauses++;
        }
        if (!this.#backpressured) {
          if (this.#pendingAck >= ACK_EAGER_BYTES) this.#flushAck();
          else this.#ackTimer ??= setTimeout(() => this.#flushAck(), ACK_DELAY_MS);
        }
        return;
      }
      case 'end': {
        this.#outcome ??= m.code === 1000 ? 'exited' : m.code === ERRORS.ServerShuttingDown.close ? 'shutdown' : 'error';
        if (this.#state === 'open') this.#state = 'closing';
        this.#armDeadline();
        const link = this.#link;
        this.#link = undefined;
        // uWS runs the close handler synchronously inside end(); it calls clientClosed(), a no-op now.
        link?.end(m.code, m.reason);
        return;
      }
    }
  }

  #post(m: ToActor, transfer?: ArrayBuffer[]): void {
    if (this.#state === 'closed') return;
    this.#port.postMessage(m, transfer);
  }

  #actorEnded(err: unknown): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#deadline) clearTimeout(this.#deadline);
    if (this.#ackTimer) clearTimeout(this.#ackTimer);
    this.#port.close();
    const link = this.#link;
    this.#link = undefined;
    if (err !== undefined) {
      this.#outcome ??= 'worker_lost';
      this.#deps.log('error', 'session actor failed', { session: this.id, error: String(err) });
    }
    if (link) {
      // The actor ended without closing the socket: its worker died (or a bug). Tell the client.
      link.send(toArrayBuffer(encode([ServerOp.Error, { code: 'Internal', message: ERRORS.Internal.text }])));
      link.end(ERRORS.Internal.close, 'Internal');
    }
    this.#deps.metrics.countSession(this.#outcome ?? 'error');
    this.#deps.onDone(this);
  }
}

export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
