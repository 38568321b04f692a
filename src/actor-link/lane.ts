/**
 * Many sessions over one MessagePort per worker ("lane"), told apart by session id. Measured on
 * this machine: a MessageChannel costs ~1.4 KB of heap per side and ~14 KB of RSS in isolation
 * (2,000 channels); in the whole gateway the RSS per idle session was within noise either way
 * (76-84 KiB with a channel per session, 82-85 KiB with lanes, 1,000 sessions). The lane is kept
 * because it spares each session a native handle and a port transfer, and a session's port becomes
 * a plain object. Used by both sides: the supervisor (main thread) and the actor hosts (workers).
 *
 * Ordering: one lane is one MessagePort, so a session's messages arrive in order, and `bye` (sent by
 * close()) arrives after everything posted before it.
 *
 * Batching: what the sessions of one lane send during one event-loop turn goes as one postMessage
 * (an array of envelopes, every transfer in one list) when the turn ends (setImmediate, no timer):
 * each message has a fixed cost on both threads (serialisation, the wake-up, dispatch), and in a
 * flood or under many typists one turn carries several. A lone keystroke waits for nothing but the
 * end of the callbacks already running.
 */
import type { MessagePort } from 'node:worker_threads';

interface LaneEnvelope {
  s: string;
  m: unknown;
}
const BYE = { t: 'bye' } as const;

type PortEvent = 'message' | 'close';
type Listener = (...args: any[]) => void;
/** One listener (the usual case) is kept as is, more in an array. */
type Listeners = Listener | Listener[] | undefined;

function added(ls: Listeners, fn: Listener): Listeners {
  return ls === undefined ? fn : Array.isArray(ls) ? [...ls, fn] : [ls, fn];
}

function removed(ls: Listeners, fn: Listener): Listeners {
  if (ls === fn) return undefined;
  if (!Array.isArray(ls)) return ls;
  const i = ls.lastIndexOf(fn);
  if (i < 0) return ls;
  const rest = ls.filter((_, j) => j !== i);
  return rest.length === 1 ? rest[0] : rest;
}

/**
 * One session's end of a lane: the subset of MessagePort that actors and sessions use, with the
 * EventEmitter methods they call ('message' and 'close' only). Not an EventEmitter: its listener
 * table is a dictionary-mode object from the start, ~0.2 KB per port, two ports per idle session
 * (issue 13).
 */
export class SessionPort<In = unknown, Out = unknown> {
  readonly id: string;
  #lane: Lane | undefined;
  #held: Array<[Out, ArrayBuffer[] | undefined]> | undefined;
  #closed = false;
  #onMessage: Listeners;
  #onClose: Listeners;

  constructor(id: string) {
    this.id = id;
  }

  on(event: PortEvent, fn: Listener): this {
    if (event === 'message') this.#onMessage = added(this.#onMessage, fn);
    else this.#onClose = added(this.#onClose, fn);
    return this;
  }

  once(event: PortEvent, fn: Listener): this {
    const wrapper: Listener = (...args) => {
      this.off(event, wrapper);
      fn(...args);
    };
    return this.on(event, wrapper);
  }

  off(event: PortEvent, fn: Listener): this {
    if (event === 'message') this.#onMessage = removed(this.#onMessage, fn);
    else this.#onClose = removed(this.#onClose, fn);
    return this;
  }

  listenerCount(event: PortEvent): number {
    const ls = event === 'message' ? this.#onMessage : this.#onClose;
    return ls === undefined ? 0 : Array.isArray(ls) ? ls.length : 1;
  }

  removeAllListeners(event?: PortEvent): this {
    if (event !== 'close') this.#onMessage = undefined;
    if (event !== 'message') this.#onClose = undefined;
    return this;
  }

  /** Calls the listeners registered when the event came, in order (on/off replace the array, never change it). */
  #emit(ls: Listeners, arg?: unknown): void {
    if (ls === undefined) return;
    if (!Array.isArray(ls)) ls(arg);
    else for (const fn of ls) fn(arg);
  }

  /** Typed listener for the peer's messages. */
  onMessage(fn: (m: In) => void): () => void {
    this.on('message', fn);
    return () => this.off('message', fn);
  }

  get bound(): boolean {
    return this.#lane !== undefined;
  }

  /** Messages posted before the port is bound to a lane wait here, in order. */
  postMessage(m: Out, transfer?: ArrayBuffer[]): void {
    if (this.#closed) return;
    if (this.#lane) this.#lane.send(this.id, m, transfer);
    else (this.#held ??= []).push([m, transfer]);
  }

  bind(lane: Lane): void {
    if (this.#lane || this.#closed) return;
    this.#lane = lane;
    lane.attach(this);
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const [m, t] of held) lane.send(this.id, m, t);
  }

  /** Closes both ends: the peer sees 'close' after every message posted before. */
  close(): void {
    if (this.#closed) return;
    this.#lane?.send(this.id, BYE);
    this.#end();
  }

  /** @internal from the lane */
  deliver(m: unknown): void {
    if (this.#closed) return;
    if (typeof m === 'object' && m !== null && (m as { t?: unknown }).t === 'bye') this.#end();
    else this.#emit(this.#onMessage, m);
  }

  /** @internal the lane's port closed (its worker died): this end closes too. */
  laneLost(): void {
    this.#end();
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#held = undefined;
    this.#lane?.detach(this.id);
    this.#lane = undefined;
    this.#emit(this.#onClose);
    this.removeAllListeners('message');
  }
}

export class Lane {
  readonly #port: MessagePort;
  readonly #ports = new Map<string, SessionPort<unknown, unknown>>();
  #closed = false;
  #batch: LaneEnvelope[] = [];
  /** Each envelope's own transfer list, for the one-by-one fallback. */
  #transfers: Array<ArrayBuffer[] | undefined> = [];
  #transfer: ArrayBuffer[] = [];
  #flushing: NodeJS.Immediate | undefined;

  /** `unknown` gets messages for sessions not attached yet (the supervisor binds on first sight). */
  constructor(port: MessagePort, unknown?: (lane: Lane, id: string) => SessionPort<unknown, unknown> | undefined, onClose?: () => void) {
    this.#port = port;
    const deliver = (env: LaneEnvelope): void => {
      const p = this.#ports.get(env.s) ?? unknown?.(this, env.s);
      p?.deliver(env.m);
    };
    port.on('message', (msg: LaneEnvelope | LaneEnvelope[]) => {
      if (Array.isArray(msg)) for (const env of msg) deliver(env);
      else deliver(msg);
    });
    port.once('close', () => {
      this.#closed = true;
      for (const p of [...this.#ports.values()]) p.laneLost();
      this.#ports.clear();
      onClose?.();
    });
  }

  get size(): number {
    return this.#ports.size;
  }

  attach(p: SessionPort<unknown, unknown>): void {
    this.#ports.set(p.id, p);
  }

  detach(id: string): void {
    this.#ports.delete(id);
  }

  /** Queues one message for the end of this turn (transferred buffers are detached then). */
  send(id: string, m: unknown, transfer?: ArrayBuffer[]): void {
    if (this.#closed) return;
    this.#batch.push({ s: id, m });
    this.#transfers.push(transfer);
    if (transfer) for (const ab of transfer) this.#transfer.push(ab);
    this.#flushing ??= setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    if (this.#flushing) clearImmediate(this.#flushing);
    this.#flushing = undefined;
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    const transfers = this.#transfers;
    const transfer = this.#transfer;
    this.#batch = [];
    this.#transfers = [];
    this.#transfer = [];
    if (this.#closed) return;
    try {
      this.#port.postMessage(batch.length === 1 ? batch[0] : batch, transfer);
    } catch {
      // A message that cannot be cloned (a bug) must not take the others, or this thread, with it.
      batch.forEach((env, i) => {
        try {
          this.#port.postMessage(env, transfers[i]);
        } catch (err) {
          process.emitWarning(`lane: a message for session ${env.s} could not be sent: ${String(err)}`, 'PodtermLaneWarning');
        }
      });
    }
  };

  /** Sends what is queued, then closes the port. */
  close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    this.#port.close();
  }
}
