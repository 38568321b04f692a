/**
 * The recent output of one session (issue 10, "Replay buffer per session"; docs/protocol.md,
 * Additions): the last `capBytes` bytes of stdout, replayed to a socket that resumes or observes.
 *
 * Memory grows with the output, not with the cap: nothing until the first byte, then one segment
 * that doubles from 1 KiB up to `segmentBytes`, then more full segments up to the cap. At the cap
 * the oldest bytes are dropped and their segments reused, so a flood allocates nothing. An idle
 * session that printed a prompt holds one 1 KiB segment.
 *
 * The hot path (append) is one copy. Escape sequences are only parsed in the bytes the ring drops,
 * by a TerminalModes that therefore always describes the terminal at the cut point: a replay is
 * "those modes, then the kept bytes", exactly what a terminal that saw the whole stream went
 * through (less what the cut bytes drew; full-screen programs redraw on the size nudge). Sessions
 * that never reach the cap never parse anything.
 *
 * restore() starts the kept bytes at a safe boundary (after a sequence or UTF-8 character the cut
 * split), and leaves out query sequences: the browser's xterm would answer them into the shell.
 */
import { MAX_OUTPUT_CHUNK } from '../protocol/limits.js';
import { TerminalModes } from './terminal-modes.js';

export const DEFAULT_REPLAY_BYTES = 256 * 1024;
const FIRST_SEGMENT = 1024;

/** How many replay buffers are open (created and not closed): the residue checks read it. */
export interface ReplayCounter {
  live: number;
}

/** The count used when no counter is injected (one per thread: each actor thread has its own). */
export const replayBuffers: ReplayCounter = { live: 0 };

export interface ReplayBufferOptions {
  /** Largest segment; the ring holds at most capBytes + 2 × segmentBytes of memory. Default 16 KiB. */
  segmentBytes?: number;
  counter?: ReplayCounter;
}

export class ReplayBuffer {
  static get live(): number {
    return replayBuffers.live;
  }

  readonly capBytes: number;
  readonly #segmentBytes: number;
  readonly #counter: ReplayCounter;
  #segs: Buffer[] = []; // oldest first; the last one is being filled
  #head = 0; // offset of the oldest kept byte in #segs[0]
  #tail = 0; // bytes used in the last segment
  #bytes = 0;
  #spare: Buffer | undefined; // a dropped full segment, reused for the next one
  #modes: TerminalModes | undefined; // created on the first drop: before it, the cut is the session's start
  #closed = false;

  constructor(capBytes: number = DEFAULT_REPLAY_BYTES, options: ReplayBufferOptions = {}) {
    if (!Number.isSafeInteger(capBytes) || capBytes < 1) throw new RangeError(`replay capBytes must be a positive integer, got ${capBytes}`);
    const seg = options.segmentBytes ?? 16 * 1024;
    if (!Number.isSafeInteger(seg) || seg < 16) throw new RangeError(`replay segmentBytes must be an integer >= 16, got ${seg}`);
    this.capBytes = capBytes;
    this.#segmentBytes = Math.min(seg, capBytes);
    this.#counter = options.counter ?? replayBuffers;
    this.#counter.live++;
  }

  /** Bytes kept (at most capBytes). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes of memory held by segments. */
  get allocated(): number {
    let n = this.#spare?.length ?? 0;
    for (const s of this.#segs) n += s.length;
    return n;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Keeps a copy of `chunk` (the caller may reuse or transfer it afterwards). */
  append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (this.#closed || n === 0) return;
    let from = 0;
    if (n >= this.capBytes) {
      // Only the chunk's last capBytes survive; the rest is read for modes, never stored.
      this.#drop(this.#bytes);
      from = n - this.capBytes;
      this.#ensureModes().scan(Buffer.from(chunk.buffer, chunk.byteOffset, from), 0, from);
    } else if (this.#bytes + n > this.capBytes) {
      this.#drop(this.#bytes + n - this.capBytes);
    }
    this.#write(chunk, from);
  }

  #write(src: Uint8Array, off: number): void {
    const n = src.length;
    this.#bytes += n - off;
    while (off < n) {
      let seg = this.#segs[this.#segs.length - 1];
      if (seg === undefined || this.#tail === seg.length) seg = this.#nextSegment(seg, n - off);
      const k = Math.min(seg.length - this.#tail, n - off);
      seg.set(k === n && off === 0 ? src : src.subarray(off, off + k), this.#tail);
      this.#tail += k;
      off += k;
    }
  }

  /** The segment to write into when the last one is full (or there is none). */
  #nextSegment(last: Buffer | undefined, want: number): Buffer {
    const full = this.#segmentBytes;
    if (last !== undefined && last.length < full && this.#segs.length === 1 && this.#head === 0) {
      // Still the first, small segment: double it (at most log2(16) copies of < 16 KiB per session).
      let size = last.length * 2;
      while (size < full && size - this.#tail < want) size *= 2;
      const grown = Buffer.allocUnsafeSlow(Math.min(size, full));
      last.copy(grown, 0, 0, this.#tail);
      this.#segs[0] = grown;
      return grown;
    }
    let seg: Buffer;
    if (last === undefined) {
      let size = FIRST_SEGMENT;
      while (size < want && size < full) size *= 2;
      seg = Buffer.allocUnsafeSlow(Math.min(size, full));
    } else {
      seg = this.#spare ?? Buffer.allocUnsafeSlow(full);
      this.#spare = undefined;
    }
    this.#segs.push(seg);
    this.#tail = 0;
    return seg;
  }

  /** Drops the `k` oldest bytes, reading them into the modes at the cut. */
  #drop(k: number): void {
    if (k <= 0) return;
    const modes = this.#ensureModes();
    while (k > 0) {
      const seg = this.#segs[0] as Buffer;
      const end = this.#segs.length === 1 ? this.#tail : seg.length;
      const take = Math.min(k, end - this.#head);
      modes.scan(seg, this.#head, this.#head + take);
      this.#head += take;
      this.#bytes -= take;
      k -= take;
      if (this.#head < end) continue;
      this.#head = 0;
      if (this.#segs.length === 1) {
        this.#tail = 0; // empty: keep the segment and write from its start
      } else {
        this.#segs.shift();
        if (seg.length === this.#segmentBytes) this.#spare = seg;
      }
    }
  }

  #ensureModes(): TerminalModes {
    return (this.#modes ??= new TerminalModes());
  }

  /**
   * The replay, as stdout payloads of at most `maxChunk` bytes (views into one fresh buffer, which
   * the ring does not touch again): the modes in force at the cut, then the kept bytes from the
   * first safe boundary, without query sequences. Empty when there is nothing to replay.
   */
  restore(maxChunk: number = MAX_OUTPUT_CHUNK): Uint8Array[] {
    const n = this.#bytes;
    const body = Buffer.allocUnsafe(n);
    let at = 0;
    for (let i = 0; i < this.#segs.length; i++) {
      const seg = this.#segs[i] as Buffer;
      const from = i === 0 ? this.#head : 0;
      const to = i === this.#segs.length - 1 ? this.#tail : seg.length;
      at += seg.copy(body, at, from, to);
    }
    const modes = this.#modes?.clone() ?? new TerminalModes();
    let start = 0;
    if (this.#modes !== undefined) {
      start = modes.scan(body, 0, n, undefined, true); // finish a sequence the cut split
      for (let k = 0; k < 3 && start < n && ((body[start] as number) & 0xc0) === 0x80; k++) start++; // and a UTF-8 character
    }
    const prefix = modes.prefix();
    const cuts: number[] = [];
    modes.scan(body, start, n, (s, e) => cuts.push(s, e));
    let removed = 0;
    for (let i = 0; i < cuts.length; i += 2) removed += (cuts[i + 1] as number) - (cuts[i] as number);
    const out = Buffer.allocUnsafe(prefix.length + n - start - removed);
    let w = out.write(prefix, 0, 'latin1');
    let from = start;
    for (let i = 0; i < cuts.length; i += 2) {
      w += body.copy(out, w, from, cuts[i] as number);
      from = cuts[i + 1] as number;
    }
    w += body.copy(out, w, from, n);
    const chunks: Uint8Array[] = [];
    for (let off = 0; off < w; off += maxChunk) chunks.push(out.subarray(off, Math.min(off + maxChunk, w)));
    return chunks;
  }

  /** Forgets everything and releases the memory; the buffer stays usable. */
  clear(): void {
    this.#segs = [];
    this.#spare = undefined;
    this.#modes = undefined;
    this.#head = 0;
    this.#tail = 0;
    this.#bytes = 0;
  }

  /** Releases everything; later appends are ignored. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.clear();
    this.#counter.live--;
  }
}
