/**
 * Resize coalescing: the latest size wins, and at most one resize reaches Kubernetes per interval
 * (100 ms: at most 10/s however fast the browser sends them, issue 8 item 9). Leading and trailing
 * edge: a resize after a quiet interval goes at once, and the last size of a burst always goes.
 * (The Go seed leaked a goroutine blocked in its resize queue after the socket went away; here the
 * queue is one pending value and one timer, and close() clears both.)
 */
export const RESIZE_INTERVAL_MS = 100;

type State = 'held' | 'live' | 'closed';

export class ResizeCoalescer {
  #state: State = 'held';
  #want: [number, number] | undefined;
  #lastAt = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #apply: (cols: number, rows: number) => void;
  readonly #intervalMs: number;

  constructor(apply: (cols: number, rows: number) => void, intervalMs = RESIZE_INTERVAL_MS) {
    this.#apply = apply;
    this.#intervalMs = intervalMs;
  }

  /** Until the exec is open, sizes are only remembered. */
  start(): void {
    if (this.#state !== 'held') return;
    this.#state = 'live';
    if (this.#want) this.#schedule();
  }

  request(cols: number, rows: number): void {
    if (this.#state === 'closed') return;
    this.#want = [cols, rows];
    if (this.#state === 'live') this.#schedule();
  }

  #schedule(): void {
    if (this.#timer) return;
    const wait = this.#lastAt + this.#intervalMs - Date.now();
    if (wait <= 0) {
      this.#flush();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, wait);
  }

  #flush(): void {
    const size = this.#want;
    if (!size || this.#state !== 'live') return;
    this.#want = undefined;
    this.#lastAt = Date.now();
    this.#apply(size[0], size[1]);
  }

  close(): void {
    this.#state = 'closed';
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#want = undefined;
  }
}
