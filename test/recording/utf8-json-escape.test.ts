import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { escapeJsonBytes } from '../../src/recording/json-escape.js';
import { incompleteTail, Utf8Bytes } from '../../src/recording/utf8-bytes.js';

/** What the recorder wrote before: a streaming TextDecoder, then JSON.stringify, then UTF-8. */
function reference(chunks: readonly Uint8Array[]): Buffer {
  const dec = new TextDecoder('utf-8', { ignoreBOM: true });
  let text = '';
  for (const c of chunks) text += dec.decode(c, { stream: true });
  text += dec.decode();
  return Buffer.from(JSON.stringify(text).slice(1, -1), 'utf8');
}

function viaUtf8Bytes(chunks: readonly Uint8Array[]): Buffer {
  const u = new Utf8Bytes();
  const out: Buffer[] = [];
  for (const c of chunks) out.push(escapeJsonBytes(u.take(c)));
  out.push(escapeJsonBytes(u.end()));
  return Buffer.concat(out);
}

/** A deterministic generator, so a failure names its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const PIECES = ['a', 'ls -la\r\n', '\x1b[1;32m', '\x1b]52;c;aGk=\x07', '"', '\\', '\t', '\0', '\x7f', 'é', '中文', '🙂', '\u2028', '\u202e', '\ufeff'].map((s) => Buffer.from(s, 'utf8'));
const BAD = [[0xff], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x99], [0x80], [0xc3]].map((b) => Buffer.from(b));

function sample(r: () => number, n: number, bad: boolean): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const pool = bad && r() < 0.2 ? BAD : PIECES;
    parts.push(pool[Math.floor(r() * pool.length)]!);
  }
  return Buffer.concat(parts);
}

function splitAt(b: Buffer, r: () => number): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off < b.byteLength) {
    const n = 1 + Math.floor(r() * 9);
    out.push(b.subarray(off, off + n));
    off += n;
  }
  return out;
}

test('escaping well-formed UTF-8 gives what JSON.stringify gives, for every byte value', () => {
  for (let b = 0; b < 0x80; b++) {
    const bytes = Buffer.from([b, 0x41, b]);
    assert.deepEqual(escapeJsonBytes(bytes), reference([bytes]), `byte 0x${b.toString(16)}`);
  }
  const big = sample(rng(7), 40_000, false); // > 64 KiB: crosses the escaper's input window
  assert.ok(big.byteLength > 65536);
  assert.deepEqual(escapeJsonBytes(big), reference([big]));
  assert.deepEqual(escapeJsonBytes(Buffer.alloc(0)), Buffer.alloc(0));
});

test('Utf8Bytes + escape equals a streaming TextDecoder + JSON.stringify, split anywhere, malformed input included', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const r = rng(seed);
    const data = sample(r, 1 + Math.floor(r() * 60), seed % 2 === 0);
    const chunks = seed % 3 === 0 ? [data] : splitAt(data, r);
    assert.deepEqual(viaUtf8Bytes(chunks), reference(chunks), `seed ${seed}`);
  }
  // Every split point of a string with each sequence length and with malformed tails.
  const s = Buffer.concat([Buffer.from('aé中🙂'), Buffer.from([0xe2, 0x82]), Buffer.from('x'), Buffer.from([0xf0, 0x9f])]);
  for (let i = 0; i <= s.byteLength; i++) {
    const chunks = [s.subarray(0, i), s.subarray(i)];
    assert.deepEqual(viaUtf8Bytes(chunks), reference(chunks), `split at ${i}`);
  }
});

test('incompleteTail holds back only a valid unfinished sequence', () => {
  assert.equal(incompleteTail(Buffer.from('abc')), 3);
  assert.equal(incompleteTail(Buffer.from([0x61, 0xe4, 0xb8])), 1); // 中 unfinished
  assert.equal(incompleteTail(Buffer.from([0x61, 0xf0, 0x9f, 0x99])), 1); // 🙂 unfinished
  assert.equal(incompleteTail(Buffer.from([0xf0, 0x9f, 0x99, 0x82])), 4); // 🙂 complete
  assert.equal(incompleteTail(Buffer.from([0x61, 0xe0, 0x80])), 3); // E0 80 can never be valid
  assert.equal(incompleteTail(Buffer.from([0x61, 0xed, 0xa0])), 3); // a surrogate
  assert.equal(incompleteTail(Buffer.from([0x61, 0xc0])), 2); // C0 is never a lead byte
  assert.equal(incompleteTail(Buffer.alloc(0)), 0);
});

test('the committed WebAssembly is what json-escape.wat compiles to', () => {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../../scripts/build-wasm.js', import.meta.url)), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
