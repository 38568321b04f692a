/**
 * A session's slow deadlines from the exec's open: a ping every EXEC_PING_MS, the idle timeout
 * (counted from the last stdin, or the open), the max session age and, while detached, the grace.
 * They share one entry on the thread's timer wheel, armed for the nearest of them; when it fires,
 * the first deadline that passed ends the session (as the first of separate timers would have),
 * else the ping is due, or nothing is (the grace was cancelled or input moved the idle deadline),
 * and it re-arms for the nearest. Times are the wheel's clock (ms).
 *
 * Memory (issue 13): this object *is* the wheel entry (a WheelTimer subclass overriding fire()), so
 * a session holds one object for its deadlines and no closure; keystrokes only store lastInputAt,
 * never touch the wheel.
 */
import { PodtermError } from '../protocol/errors.js';
import type { ActorState, CloseReason } from './actor-state.js';
import { WheelTimer, type TimerWheel } from './timer-wheel.js';

/** client-node sends no pings; keep the exec socket alive through proxies and notice dead peers. */
export const EXEC_PING_MS = 30_000;

/** The session actor, as its deadlines see it. */
export interface DeadlineHost {
  readonly state: ActorState;
  close(reason: CloseReason): Promise<void>;
  /** The exec ping is due. */
  pingDue(): void;
}

export class SessionDeadlines extends WheelTimer {
  readonly #host: DeadlineHost;
  /** 0 = none. */
  readonly #idleTimeoutMs: number;
  /** The wheel's clock at the last stdin (the idle timeout counts from it); the actor stores it. */
  lastInputAt: number;
  #pingAt: number;
  /** Max session age: 0 = none. */
  #expiresAt = 0;
  /** Detached: when the grace runs out; 0 = not detached. */
  #graceEndsAt = 0;

  /** Made (and armed) when the exec is open. */
  constructor(wheel: TimerWheel, host: DeadlineHost, idleTimeoutMs: number, maxSessionAgeMs: number) {
    super(wheel);
    this.#host = host;
    this.#idleTimeoutMs = idleTimeoutMs;
    const now = wheel.now();
    this.lastInputAt = now;
    this.#pingAt = now + EXEC_PING_MS;
    if (maxSessionAgeMs > 0) this.#expiresAt = now + maxSessionAgeMs;
    this.#arm();
  }

  /** Detached: the session ends `graceMs` from now unless an owner socket comes back. */
  startGrace(graceMs: number): void {
    this.#graceEndsAt = this.wheel.now() + graceMs;
    this.#arm();
  }

  /** Attached again. The entry stays armed for the old grace; fire() finds nothing due and re-arms. */
  endGrace(): void {
    this.#graceEndsAt = 0;
  }

  /** Arms the entry for the nearest of the deadlines. */
  #arm(): void {
    let at = this.#pingAt;
    if (this.#idleTimeoutMs > 0) at = Math.min(at, this.lastInputAt + this.#idleTimeoutMs);
    if (this.#expiresAt > 0) at = Math.min(at, this.#expiresAt);
    if (this.#graceEndsAt > 0) at = Math.min(at, this.#graceEndsAt);
    this.armAt(at);
  }

  /** @internal the wheel entry fired. */
  override fire(): void {
    const host = this.#host;
    if (host.state !== 'attached' && host.state !== 'detached') return;
    const now = this.wheel.now();
    let first = Infinity;
    let reason: CloseReason | undefined;
    if (this.#expiresAt > 0 && this.#expiresAt <= now) {
      first = this.#expiresAt;
      reason = { kind: 'error', error: new PodtermError('SessionExpired') };
    }
    const idleAt = this.#idleTimeoutMs > 0 ? this.lastInputAt + this.#idleTimeoutMs : Infinity;
    if (idleAt <= now && idleAt < first) {
      first = idleAt;
      reason = { kind: 'error', error: new PodtermError('IdleTimeout') };
    }
    if (this.#graceEndsAt > 0 && this.#graceEndsAt <= now && this.#graceEndsAt < first) reason = { kind: 'grace-expired' };
    if (reason) {
      void host.close(reason);
      return;
    }
    if (this.#pingAt <= now) {
      host.pingDue();
      this.#pingAt += EXEC_PING_MS;
      if (this.#pingAt <= now) this.#pingAt = now + EXEC_PING_MS;
    }
    this.#arm();
  }
}
