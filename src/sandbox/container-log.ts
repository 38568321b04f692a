/**
 * One container instance's log, as the kubelet keeps it (CRI log files): output split into lines,
 * each with the time it was written; a line still open is kept as a partial entry. Bounded in
 * memory (oldest entries dropped, as log rotation does). Readers follow by sequence number, so a
 * slow follower holds a cursor, never a copy.
 */

/** Default bound: like the kubelet's containerLogMaxSize, but small, since it lives in memory. */
export const DEFAULT_LOG_BYTES = 1024 * 1024;

export interface LogEntry {
  readonly seq: number;
  /** Nanoseconds since the epoch. */
  readonly timeNs: bigint;
  readonly data: Buffer;
  /** True when data ends with a newline (a complete line). */
  readonly complete: boolean;
}

/** Nanosecond wall clock: Date.now() has milliseconds only; performance adds the fraction. */
export function nowNs(): bigint {
  const ms = performance.timeOrigin + performance.now();
  return BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.floor((ms % 1) * 1_000_000));
}

/** The kubelet's RFC3339NanoFixed ("2006-01-02T15:04:05.000000000Z07:00"), in UTC. */
export function formatTimestamp(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
}

export class ContainerLog {
  readonly #entries: LogEntry[] = [];
  #head = 0; // index of the oldest live entry in #entries (compacted now and then)
  #bytes = 0;
  #nextSeq = 0;
  #ended = false;
  readonly #listeners = new Set<() => void>();

  constructor(readonly maxBytes = DEFAULT_LOG_BYTES) {}

  get ended(): boolean {
    return this.#ended;
  }

  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Appends output, one entry per line (the last may be partial). */
  append(data: Buffer): void {
    if (this.#ended || data.length === 0) return;
    const timeNs = nowNs();
    let start = 0;
    while (start < data.length) {
      const nl = data.indexOf(0x0a, start);
      const end = nl === -1 ? data.length : nl + 1;
      this.#push({ seq: this.#nextSeq++, timeNs, data: Buffer.from(data.subarray(start, end)), complete: nl !== -1 });
      start = end;
    }
    this.#notify();
  }

  #push(e: LogEntry): void {
    this.#entries.push(e);
    this.#bytes += e.data.length;
    while (this.#bytes > this.maxBytes && this.#head < this.#entries.length - 1) {
      this.#bytes -= (this.#entries[this.#head] as LogEntry).data.length;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** No more output will come (the container instance exited); followers finish. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#notify();
  }

  #notify(): void {
    for (const l of [...this.#listeners]) l();
  }

  /** Called on every append and at end. Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Entries with seq >= from (the oldest kept if `from` has been dropped), at most `max`. */
  read(from: number, max = Infinity): LogEntry[] {
    const live = this.#entries.length - this.#head;
    if (live === 0) return [];
    const oldest = (this.#entries[this.#head] as LogEntry).seq;
    const i = this.#head + Math.max(0, from - oldest);
    return this.#entries.slice(i, Math.min(this.#entries.length, i + max));
  }

  /**
   * The seq to start reading at for `tailLines` (counting complete lines, and an open last line as
   * one) and `sinceNs` (entries written at or after it).
   */
  startFor(tailLines: number | undefined, sinceNs: bigint | undefined): number {
    let start = this.#entries.length;
    let lines = 0;
    for (let i = this.#entries.length - 1; i >= this.#head; i--) {
      const e = this.#entries[i] as LogEntry;
      if (sinceNs !== undefined && e.timeNs < sinceNs) break;
      // A line is counted at its last entry; the entries before it on the same line come along.
      const endsLine = e.complete || i === this.#entries.length - 1;
      if (endsLine && tailLines !== undefined && lines === tailLines) break;
      if (endsLine) lines++;
      start = i;
    }
    return start < this.#entries.length ? (this.#entries[start] as LogEntry).seq : this.#nextSeq;
  }
}
