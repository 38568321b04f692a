/**
 * Large output events written in place. A flooding session's output is escaped straight into a slot
 * of this thread's escaper memory (16 slots of 256 KiB, json-escape.wat), each event a whole
 * asciicast line, and a full slot goes to the write queue as one buffer; its memory is back in the
 * pool once the write has returned. Against the slab path (json-escape.ts) this saves the copy out
 * of the escaper, the views and arrays made per event, and the fresh slab every 256 KiB whose pages
 * the kernel faults in and zeroes (0.3 s of system time per GB in a profile of the writer alone).
 *
 * The pool bounds what this costs: when every slot is taken (many sessions flooding at once) a
 * writer uses the slab path as before. A slot is never reused while a write may still read it: the
 * write queue releases it after the write settles, or when it drops it unwritten.
 */
import { EVENT_LINE_END, eventLineStart } from './asciicast-format.js';
import { ESCAPE_INTO_MAX, SLOT_BASE, SLOT_BYTES, SLOT_COUNT, escapeJsonInto, escaperMemory } from './json-escape.js';

/** Free slot offsets in this thread (taken from the end). */
let free: number[] | undefined;
function freeSlots(): number[] {
  return (free ??= Array.from({ length: SLOT_COUNT }, (_, i) => SLOT_BASE + (SLOT_COUNT - 1 - i) * SLOT_BYTES));
}

/** `[t, "o", "`: "[", at most 22 characters of a number with six decimals, `, "o", "`. */
const PREFIX_MAX = 32;
/** The line's end and the slack the escape's last vector store may write past its output (16). */
const TAIL = EVENT_LINE_END.byteLength + 16;

export class OutputSlot {
  /** Slots taken and not yet released in this thread (residue checks). */
  static get inUse(): number {
    return SLOT_COUNT - freeSlots().length;
  }

  /** Whether an event of `len` input bytes fits an empty slot (else the slab path takes it). */
  static takes(len: number): boolean {
    return len <= ESCAPE_INTO_MAX && PREFIX_MAX + 6 * len + TAIL <= SLOT_BYTES;
  }

  /** A free slot, or undefined when all are taken. */
  static take(): OutputSlot | undefined {
    const at = freeSlots().pop();
    return at === undefined ? undefined : new OutputSlot(at);
  }

  readonly #at: number;
  #used = 0;
  #released = false;

  private constructor(at: number) {
    this.#at = at;
  }

  /** Bytes of whole lines in the slot. */
  get used(): number {
    return this.#used;
  }

  /** Whether an event of `len` input bytes surely fits after the lines already here (worst-case escapes). */
  fits(len: number): boolean {
    return this.#used + PREFIX_MAX + 6 * len + TAIL <= SLOT_BYTES;
  }

  /**
   * Writes the line `[t, "o", "<bytes escaped>"]\n` after the lines already here and returns its
   * length. It counts only once commit(length) says so: an uncommitted line is overwritten by the next.
   */
  write(t: number, bytes: Uint8Array): number {
    const mem = escaperMemory();
    const start = this.#at + this.#used;
    let o = start + mem.write(eventLineStart(t, 'o'), start, 'latin1');
    o += escapeJsonInto(bytes, o);
    mem.set(EVENT_LINE_END, o);
    return o + EVENT_LINE_END.byteLength - start;
  }

  commit(length: number): void {
    this.#used += length;
  }

  /** The committed lines, for the write queue (valid until release()). */
  view(): Buffer {
    return escaperMemory().subarray(this.#at, this.#at + this.#used);
  }

  /** Back to the pool; only once nothing will read the view any more. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    freeSlots().push(this.#at);
  }
}
