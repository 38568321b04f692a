/**
 * Cuts exec output into frames of exactly MAX_OUTPUT_CHUNK bytes as it arrives; a tail shorter
 * than that waits one event-loop turn for more (each TLS record arrives in its own callback, so a
 * microtask would be too soon). Fewer, fuller messages. A small write with nothing held (a
 * keystroke echo, a prompt) goes out at once: waiting only pays off for streams.
 */
import { MAX_OUTPUT_CHUNK } from '../protocol/index.js';

export class OutputBatcher {
  #pending: Buffer[] = [];
  #bytes = 0;
  #timer: NodeJS.Immediate | undefined;
  #closed = false;
  readonly #emit: (chunk: Buffer) => void;
  readonly #chunk: number;
  readonly #small: number;

  /** `emit` receives chunks of at most `chunk` bytes, in order; writes below `small` bytes with nothing held go at once. */
  constructor(emit: (chunk: Buffer) => void, chunk = MAX_OUTPUT_CHUNK, small = 4096) {
    this.#emit = emit;
    this.#chunk = chunk;
    this.#small = small;
  }

  push(data: Buffer): void {
    if (this.#closed || data.length === 0) return;
    if (this.#bytes === 0 && data.length < this.#small) {
      this.#emit(data);
      return;
    }
    this.#pending.push(data);
    this.#bytes += data.length;
    if (this.#bytes >= this.#chunk) {
      const all = this.#pending.length === 1 ? data : Buffer.concat(this.#pending, this.#bytes);
      const full = all.length - (all.length % this.#chunk);
      this.#pending = full < all.length ? [all.subarray(full)] : [];
      this.#bytes = all.length - full;
      this.#emitAll(all.subarray(0, full));
    }
    if (this.#bytes > 0 && !this.#timer) this.#timer = setImmediate(() => this.flush());
  }

  /** Emits whatever is held now. */
  flush(): void {
    if (this.#timer) clearImmediate(this.#timer);
    this.#timer = undefined;
    if (this.#bytes === 0 || this.#closed) return;
    const data = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending, this.#bytes);
    this.#pending = [];
    this.#bytes = 0;
    this.#emitAll(data);
  }

  #emitAll(data: Buffer): void {
    for (let off = 0; off < data.length; off += this.#chunk) this.#emit(data.subarray(off, Math.min(off + this.#chunk, data.length)));
  }

  /** Flushes, then drops anything pushed later. */
  close(): void {
    this.flush();
    this.#closed = true;
  }
}
