/**
 * The recording's write side: lines queue up as UTF-8 buffers (encoded once, when queued, so their
 * exact size is known for the caps) and go to the file in large chunks, gathered by one writev (no
 * copy into a chunk), one write in flight at a time (so the file keeps their order). The file belongs to the
 * AsciicastWriter; this only writes to it. A failed write ends all writing (the bytes after a hole
 * would be a corrupt recording); the writer decides what that means for the session.
 */
import type { CastFile } from './cast-file.js';
import type { OutputSlot } from './output-slots.js';

export interface WriteQueueHooks {
  /** A write failed; nothing more is written. Called once. */
  onError: (err: unknown) => void;
  /** A chunk reached the file (the writer checks its drain mark). */
  onProgress: () => void;
  /** The loop stopped, with a tail below the chunk size still queued or with nothing left (the writer arms its timer). */
  onIdle: () => void;
}

export class WriteQueue {
  readonly #file: CastFile;
  readonly #chunk: number;
  readonly #hooks: WriteQueueHooks;
  #lines: Buffer[] = [];
  /** Slots whose views are among #lines: released once the write that takes them settles. */
  #slots: OutputSlot[] = [];
  #queued = 0;
  #inflight = 0;
  #written = 0;
  #writing: Promise<void> | undefined;
  #failed = false;
  /** Set by drain(): write everything, small tails included, until the queue is empty. */
  #eager = false;

  constructor(file: CastFile, chunkBytes: number, hooks: WriteQueueHooks) {
    this.#file = file;
    this.#chunk = chunkBytes;
    this.#hooks = hooks;
  }

  /** Bytes queued or being written. */
  get pending(): number {
    return this.#queued + this.#inflight;
  }
  get queued(): number {
    return this.#queued;
  }
  /** Bytes that reached the file. */
  get written(): number {
    return this.#written;
  }
  get failed(): boolean {
    return this.#failed;
  }
  /** Nothing queued and no write in flight. */
  get idle(): boolean {
    return this.#writing === undefined && this.#queued === 0;
  }

  /** Queues one encoded line, its parts in order (`bytes` their total); written by the next kick(). */
  push(line: readonly Buffer[], bytes: number): void {
    if (this.#failed) return;
    for (const part of line) if (part.byteLength > 0) this.#lines.push(part);
    this.#queued += bytes;
  }

  /** Queues a slot's lines (output-slots.ts); the slot is released once written or dropped. */
  pushSlot(slot: OutputSlot): void {
    if (this.#failed) return slot.release();
    this.#lines.push(slot.view());
    this.#slots.push(slot);
    this.#queued += slot.used;
  }

  /** Starts writing what is queued unless a write is in flight (that loop picks it up). */
  kick(): void {
    if (this.#writing || this.#queued === 0 || this.#failed) return;
    this.#writing = this.#pump();
  }

  /** Writes everything, including lines queued meanwhile; resolves when empty or failed. */
  async drain(): Promise<void> {
    this.#eager = true;
    try {
      while (this.#writing || (this.#queued > 0 && !this.#failed)) {
        this.kick();
        await this.#writing;
      }
    } finally {
      this.#eager = false;
    }
  }

  /** Drops what is queued (not what is in flight); returns the number of line parts dropped. */
  discard(): number {
    const n = this.#lines.length;
    this.#lines = [];
    this.#queued = 0;
    for (const slot of this.#slots) slot.release();
    this.#slots = [];
    return n;
  }

  async #pump(): Promise<void> {
    let first = true;
    while (this.#queued > 0 && !this.#failed && (first || this.#eager || this.#queued >= this.#chunk)) {
      first = false;
      const chunk = this.#lines;
      const slots = this.#slots;
      this.#inflight = this.#queued;
      this.#lines = [];
      this.#slots = [];
      this.#queued = 0;
      try {
        await this.#file.writev(chunk);
        this.#written += this.#inflight;
        this.#inflight = 0;
      } catch (err) {
        this.#inflight = 0;
        for (const slot of slots) slot.release();
        this.#failed = true;
        this.#writing = undefined;
        this.#hooks.onError(err);
        return;
      }
      for (const slot of slots) slot.release();
      this.#hooks.onProgress();
    }
    this.#writing = undefined;
    if (!this.#eager) this.#hooks.onIdle();
  }
}
