/**
 * Coarse deadlines for every session on one thread: one Node timer for all of them instead of
 * several Timeouts per session (issue 13: an idle session held four, ~0.6 KB with their closures).
 * A hashed timing wheel (Varghese & Lauck, "Hashed and Hierarchical Timing Wheels", 1987): time is
 * cut into ticks of `tickMs`; a timer due at `at` sits in slot ceil(at / tickMs) mod SLOTS and
 * fires when the wheel has passed that tick, so **never before `at`, and at most one tick later**
 * (plus whatever delays the event loop). Meant for deadlines measured in seconds or minutes (the
 * exec ping, idle timeout, max session age, detach grace), never for latency-sensitive ones (acks,
 * input credit, resize, the resume nudge keep their own Node timers).
 *
 * The Node timer is armed only while a WheelTimer is armed (it is cleared when the last one is
 * cancelled), for the next tick whose slot holds one, so the residue checks that count this
 * thread's Timeouts see it go back to zero, and a thread with a few sessions wakes only when one is
 * due. Several timers due in the same tick fire in the order of their `at`, ties in arming order.
 * A callback may cancel or re-arm any timer, its own included; a timer armed for a moment already
 * passed fires at the next tick, never within the callback that armed it. One owner, one close().
 */
import { performance } from 'node:perf_hooks';

/** The production tick: deadlines are at most this late. */
export const WHEEL_TICK_MS = 1000;
/** Slots in one turn of the wheel; a timer further away than a turn waits in its slot for its turn. */
const SLOTS = 64;

type WheelState = 'open' | 'closed';

export interface TimerWheelOptions {
  tickMs?: number;
  /** A monotonic clock in ms (performance.now by default). */
  now?: () => number;
}

/**
 * One reusable deadline. Created by TimerWheel.timer(); arm it, re-arm it, cancel it. An owner that
 * would otherwise pass a closure per instance may subclass it (no `fire` given) and override
 * fire() instead (session-deadlines.ts: one object per session, no closure).
 */
export class WheelTimer {
  protected readonly wheel: TimerWheel;
  readonly #fire: (() => void) | undefined;
  /** When it is due (the wheel's clock, ms); meaningful while armed. */
  at = 0;
  /** @internal the tick it fires in. */
  tick = 0;
  /** @internal the slot holding it; undefined while unarmed or taken out to fire. */
  slot: Set<WheelTimer> | undefined;
  /** @internal */
  armed = false;

  constructor(wheel: TimerWheel, fire?: () => void) {
    this.wheel = wheel;
    this.#fire = fire;
  }

  get isArmed(): boolean {
    return this.armed;
  }

  /** Fires once, no earlier than `at` (the wheel's clock) and at most one tick later. Moves an armed timer. */
  armAt(at: number): void {
    this.wheel.arm(this, at);
  }

  /** Fires once, no earlier than `ms` from now. */
  armIn(ms: number): void {
    this.wheel.arm(this, this.wheel.now() + ms);
  }

  cancel(): void {
    this.wheel.cancel(this);
  }

  /** @internal called by the wheel when due; a subclass made without `fire` overrides it. */
  fire(): void {
    this.#fire?.();
  }
}

export class TimerWheel {
  readonly tickMs: number;
  readonly now: () => number;
  #state: WheelState = 'open';
  readonly #slots: Array<Set<WheelTimer>> = [];
  /** The last tick processed: every timer of this tick or before has fired. */
  #cursor: number;
  #size = 0;
  #node: NodeJS.Timeout | undefined;
  /** The tick the Node timer is set for. */
  #nodeTick = 0;
  readonly #onTimer = (): void => this.#advance();

  constructor(o: TimerWheelOptions = {}) {
    this.tickMs = o.tickMs ?? WHEEL_TICK_MS;
    this.now = o.now ?? (() => performance.now());
    for (let i = 0; i < SLOTS; i++) this.#slots.push(new Set());
    this.#cursor = Math.floor(this.now() / this.tickMs);
  }

  /** Armed timers. */
  get size(): number {
    return this.#size;
  }

  /** Whether the wheel holds a Node timer now (for the residue tests). */
  get ticking(): boolean {
    return this.#node !== undefined;
  }

  timer(fire: () => void): WheelTimer {
    return new WheelTimer(this, fire);
  }

  /** @internal WheelTimer.armAt */
  arm(t: WheelTimer, at: number): void {
    if (!Number.isFinite(at)) throw new RangeError(`timer wheel: a deadline must be a finite time, not ${at}`);
    if (this.#state === 'closed') return;
    this.#unslot(t);
    // A moment already passed fires at the next tick, never inside the current one.
    const tick = Math.max(Math.ceil(at / this.tickMs), this.#cursor + 1);
    t.at = at;
    t.tick = tick;
    const slot = this.#slots[tick % SLOTS] as Set<WheelTimer>;
    slot.add(t);
    t.slot = slot;
    if (!t.armed) {
      t.armed = true;
      this.#size++;
    }
    if (this.#node === undefined || tick < this.#nodeTick) this.#setNode(tick);
  }

  /** @internal WheelTimer.cancel */
  cancel(t: WheelTimer): void {
    if (!t.armed) return;
    this.#unslot(t);
    t.armed = false;
    // The last one gone: no Node timer is left behind (a residue check would count it).
    if (--this.#size === 0) this.#clearNode();
  }

  #unslot(t: WheelTimer): void {
    t.slot?.delete(t);
    t.slot = undefined;
  }

  #setNode(tick: number): void {
    this.#clearNode();
    this.#nodeTick = tick;
    this.#node = setTimeout(this.#onTimer, Math.max(0, tick * this.tickMs - this.now()));
  }

  #clearNode(): void {
    if (this.#node !== undefined) clearTimeout(this.#node);
    this.#node = undefined;
  }

  /** The Node timer fired: fire every timer of the ticks passed, then wait for the next. */
  #advance(): void {
    this.#node = undefined;
    if (this.#state === 'closed') return;
    const nowTick = Math.floor(this.now() / this.tickMs);
    if (nowTick > this.#cursor) {
      // After a stall longer than a turn every slot is visited once: that covers every timer.
      const from = Math.max(this.#cursor + 1, nowTick - SLOTS + 1);
      const due: WheelTimer[] = [];
      for (let tick = from; tick <= nowTick; tick++) {
        for (const t of this.#slots[tick % SLOTS] as Set<WheelTimer>) {
          if (t.tick > nowTick) continue; // a later turn
          this.#unslot(t);
          due.push(t);
        }
      }
      this.#cursor = nowTick;
      due.sort((a, b) => a.at - b.at);
      for (const t of due) {
        // Cancelled or re-armed by an earlier callback: not due any more.
        if (!t.armed || t.slot !== undefined) continue;
        t.armed = false;
        this.#size--;
        try {
          t.fire();
        } catch (err) {
          // One owner's bug must not stop the others' deadlines, nor this thread.
          process.emitWarning(`timer wheel: a deadline callback threw: ${String(err)}`, 'PodtermTimerWarning');
        }
        // A callback may close the wheel (its owner shutting down): stop there.
        if ((this.#state as WheelState) === 'closed') return;
      }
    }
    this.#scheduleNext();
  }

  /** Sets the Node timer for the next tick whose slot holds a timer (none when nothing is armed). */
  #scheduleNext(): void {
    if (this.#size === 0) {
      this.#clearNode();
      return;
    }
    let next = Infinity;
    for (let k = 1; k <= SLOTS; k++) {
      const tick = this.#cursor + k;
      for (const t of this.#slots[tick % SLOTS] as Set<WheelTimer>) {
        if (t.tick < next) next = t.tick;
      }
      // The slot's own tick is the earliest it can hold: nothing nearer exists further on.
      if (next <= tick) break;
    }
    if (this.#node === undefined || next < this.#nodeTick) this.#setNode(next);
  }

  /** Cancels every timer; later arms are ignored. Idempotent. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    for (const slot of this.#slots) {
      for (const t of slot) {
        t.armed = false;
        t.slot = undefined;
      }
      slot.clear();
    }
    this.#size = 0;
    this.#clearNode();
  }
}
