/**
 * The body of a JSON string from well-formed UTF-8 bytes, as bytes: what
 * `Buffer.from(JSON.stringify(text).slice(1, -1))` gives for the decoded text, without decoding it.
 * A split anywhere escapes the same (escapes are per byte), so a stream can be escaped chunk by chunk.
 * JSON needs only C0 controls, `"` and `\` escaped; every other byte of well-formed UTF-8 is copied.
 *
 * Why not JSON.stringify: on the recorder's hot path it cost 1.5 s of CPU per GB of terminal output
 * (V8's serializer walks one char at a time), the largest part of what recording cost a flood. The
 * escape loop is 325 bytes of WebAssembly (json-escape.wat) that skips 16 bytes at a time with SIMD
 * where nothing needs escaping, and escapes a run of such bytes (CR LF) before its next vector: 0.4
 * s/GB, copies in and out included. The escapes themselves come from JSON.stringify (the table
 * below), so the two cannot disagree about what an escape looks like. Large output is escaped
 * straight into a write slot of the same memory (escapeJsonInto, output-slots.ts), with no copy out.
 */
import { JSON_ESCAPE_WASM } from './json-escape-wasm.js';

// The few WebAssembly globals used here (the project's TypeScript libs have no DOM or wasm types).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { memory: { buffer: ArrayBuffer }; escape: (len: number, out: number) => number } };
};

/** Memory layout, as json-escape.wat describes it. */
const TABLE = 0;
const IN = 2048;
const IN_MAX = 65536;
const OUT = IN + IN_MAX;
/** Write slots (output-slots.ts): 16 of 256 KiB from 512 KiB, as json-escape.wat describes. */
export const SLOT_BASE = 512 * 1024;
export const SLOT_BYTES = 256 * 1024;
export const SLOT_COUNT = 16;
/** The longest input escapeJsonInto takes at once. */
export const ESCAPE_INTO_MAX = IN_MAX;

interface Escaper {
  /** The module's memory (it never grows, so views of it stay valid). */
  mem: Buffer;
  escape: (len: number, out: number) => number;
}

let escaper: Escaper | undefined;

/** One instance per thread, made on first use (the module compiles in well under a millisecond). */
function instance(): Escaper {
  if (escaper) return escaper;
  const mod = new WebAssembly.Module(Buffer.from(JSON_ESCAPE_WASM, 'base64'));
  const { exports } = new WebAssembly.Instance(mod);
  const mem = Buffer.from(exports.memory.buffer);
  if (mem.byteLength < SLOT_BASE + SLOT_COUNT * SLOT_BYTES) throw new Error('json-escape: the WebAssembly memory is smaller than its layout');
  for (let b = 0; b < 256; b++) {
    const esc = Buffer.from(JSON.stringify(String.fromCharCode(b)).slice(1, -1), 'latin1');
    if (esc.byteLength > 1) {
      mem[TABLE + b * 8] = esc.byteLength;
      mem.set(esc, TABLE + b * 8 + 1);
    }
  }
  escaper = { mem, escape: exports.escape };
  return escaper;
}

/** This thread's escaper memory (the memory never grows, so views of it stay valid). */
export function escaperMemory(): Buffer {
  return instance().mem;
}

/**
 * Escapes `bytes` (well-formed UTF-8, at most ESCAPE_INTO_MAX bytes) straight into the escaper's
 * memory at `out`, where the caller has left 6 × length + 16 bytes of room; returns the length written.
 */
export function escapeJsonInto(bytes: Uint8Array, out: number): number {
  const { mem, escape } = instance();
  mem.set(bytes, IN);
  return escape(bytes.byteLength, out);
}

/**
 * Escaped output is copied out of the wasm memory into a shared slab, so a 16 KB chunk costs a copy,
 * not an allocation (allocations were a third of what the escaping cost in a profile). A piece
 * keeps its slab alive until the recording has written it; pieces larger than a quarter slab get
 * their own buffer.
 */
const SLAB = 256 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB);
let used = 0;

function place(src: Uint8Array): Buffer {
  const n = src.byteLength;
  if (n > SLAB / 4) return Buffer.from(src);
  if (used + n > SLAB) {
    slab = Buffer.allocUnsafeSlow(SLAB);
    used = 0;
  }
  slab.set(src, used);
  const out = slab.subarray(used, used + n);
  used += n;
  return out;
}

/** The escaped form of `bytes` (well-formed UTF-8), in memory of its own. */
export function escapeJsonBytes(bytes: Uint8Array): Buffer {
  const { mem } = instance();
  if (bytes.byteLength <= IN_MAX) return place(mem.subarray(OUT, OUT + escapeJsonInto(bytes, OUT)));
  const parts: Buffer[] = [];
  for (let off = 0; off < bytes.byteLength; off += IN_MAX) {
    parts.push(Buffer.from(mem.subarray(OUT, OUT + escapeJsonInto(bytes.subarray(off, off + IN_MAX), OUT))));
  }
  return Buffer.concat(parts);
}
