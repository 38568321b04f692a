/**
 * Decodes the resize channel (4) the way the kubelet does: Go's json.Decoder reading a stream of
 * objects into `TerminalSize{Width, Height uint16}` (no JSON tags, so keys match case-insensitively,
 * in any order; whitespace between objects; an object may span frames). The first decode error ends
 * resize handling for the session (remotecommand's handleResizeEvents breaks out of its loop), so
 * once `failed` is set every later push returns nothing. Pure.
 */
import { StringDecoder } from 'node:string_decoder';

export interface TerminalSize {
  readonly width: number;
  readonly height: number;
}

/** An unterminated object longer than this is treated as garbage rather than buffered forever. */
const MAX_PENDING = 4096;

export class ResizeDecoder {
  #pending = '';
  #failed = false;
  readonly #utf8 = new StringDecoder('utf8');

  get failed(): boolean {
    return this.#failed;
  }

  /** Feeds one frame's payload; returns the sizes completed by it, in order. */
  push(chunk: Uint8Array): TerminalSize[] {
    if (this.#failed) return [];
    this.#pending += this.#utf8.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    const out: TerminalSize[] = [];
    for (;;) {
      const start = skipSpace(this.#pending, 0);
      if (start === this.#pending.length) {
        this.#pending = '';
        return out;
      }
      if (this.#pending[start] !== '{') return this.#fail(out);
      const end = objectEnd(this.#pending, start);
      if (end === -1) {
        if (this.#pending.length - start > MAX_PENDING) return this.#fail(out);
        this.#pending = this.#pending.slice(start);
        return out;
      }
      const size = toSize(this.#pending.slice(start, end));
      if (size === null) return this.#fail(out);
      out.push(size);
      this.#pending = this.#pending.slice(end);
    }
  }

  #fail(out: TerminalSize[]): TerminalSize[] {
    this.#failed = true;
    this.#pending = '';
    return out;
  }
}

function skipSpace(s: string, i: number): number {
  // JSON whitespace only: space, tab, LF, CR.
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  return i;
}

/** Index just past the object that starts at `start`, or -1 if it is not complete yet. */
function objectEnd(s: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const ch = s[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

const UINT16_LITERAL = /^\d+$/;

/** Go semantics: unknown keys ignored, null leaves the zero value, anything else must fit uint16. */
function toSize(text: string): TerminalSize | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const size = { width: 0, height: 0 };
  for (const [key, value] of Object.entries(parsed)) {
    const field = key.toLowerCase();
    if (field !== 'width' && field !== 'height') continue;
    if (value === null) continue;
    // A float literal like 80.5 fails Go's uint16 decode; JSON.parse has lost the literal, so check the value.
    if (typeof value !== 'number' || !UINT16_LITERAL.test(String(value)) || value > 0xffff) return null;
    size[field] = value;
  }
  return size;
}
