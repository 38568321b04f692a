/**
 * The output acks of every session on the main thread that wait for an input to ride on
 * (actor-messages.ts, ACK_DELAY_MS), swept by one timer instead of a Timeout per session.
 *
 * Why: an echoed keystroke left an ack waiting, so each keystroke made a Timeout and a closure on the
 * main thread and cleared them at the next keystroke (issue 13: allocation per keystroke, timers
 * per session). Here a keystroke adds the session to a Set and the next one removes it.
 *
 * Timing: sessions scheduled during one sweep period are flushed at the end of the next, so an ack
 * waits between `periodMs` and twice that: with periodMs = ACK_DELAY_MS / 2 never longer than
 * ACK_DELAY_MS, as before, and never so little that typing at a few keys a second loses the ride.
 */
export interface AckOwner {
  /** Sends what is pending now (the session checks whether anything is). */
  flushAck(): void;
}

export class AckSweep {
  readonly #periodMs: number;
  /** Scheduled during the current period: flushed at the end of the next one. */
  #young = new Set<AckOwner>();
  /** Scheduled during the previous period: flushed when this one ends. */
  #old = new Set<AckOwner>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(periodMs: number) {
    this.#periodMs = periodMs;
  }

  /** `owner` has an ack pending: flush it within two periods unless it is cancelled first. */
  schedule(owner: AckOwner): void {
    if (this.#closed || this.#old.has(owner)) return;
    this.#young.add(owner);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#sweep, this.#periodMs);
      // Acks never keep the process alive on their own.
      this.#timer.unref();
    }
  }

  /** The ack went (on an input, or eagerly), or the session ended. */
  cancel(owner: AckOwner): void {
    this.#young.delete(owner);
    this.#old.delete(owner);
  }

  /** For tests and metrics: sessions with an ack waiting. */
  get waiting(): number {
    return this.#young.size + this.#old.size;
  }

  readonly #sweep = (): void => {
    this.#timer = undefined;
    const due = this.#old;
    this.#old = this.#young;
    this.#young = due;
    // flushAck() cancels, which deletes from `due` while we iterate: a Set allows that. Copy first
    // anyway, so that a flush which schedules again lands in the fresh young set only.
    const owners = [...due];
    due.clear();
    for (const o of owners) o.flushAck();
    if (!this.#closed && this.#old.size > 0) {
      this.#timer = setTimeout(this.#sweep, this.#periodMs);
      this.#timer.unref();
    }
  };

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#young.clear();
    this.#old.clear();
  }
}
