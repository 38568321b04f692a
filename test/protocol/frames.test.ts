import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack } from 'msgpackr';
import {
  ClientOp, ServerOp, FrameError, encode, decodeClientFrame, decodeServerFrame,
  MAX_OUTPUT_CHUNK, MAX_SEND_BYTES, encodeOutputFrame,
} from '../../src/protocol/index.js';

test('client frames round-trip through encode and decode', () => {
  const stdin = decodeClientFrame(encode([ClientOp.Stdin, new TextEncoder().encode('ls -l\r')]));
  assert.equal(stdin[0], ClientOp.Stdin);
  assert.equal(Buffer.from(stdin[1] as Uint8Array).toString(), 'ls -l\r');
  assert.deepEqual(decodeClientFrame(encode([ClientOp.Resize, 120, 40])), [1, 120, 40]);
  assert.deepEqual(decodeClientFrame(encode([ClientOp.Pause])), [2]);
  assert.deepEqual(decodeClientFrame(encode([ClientOp.Resume])), [3]);
});

test('frames are plain msgpack arrays that any msgpack library produces', () => {
  // A third-party client encoding with a plain msgpack encoder must be understood.
  assert.deepEqual(decodeClientFrame(pack([1, 80, 24])), [1, 80, 24]);
  const bytes = pack([0, Buffer.from('hi')]);
  assert.equal(bytes[0], 0x92, 'fixarray of two');
  assert.equal(bytes[1], 0x00, 'opcode 0 as positive fixint');
  assert.equal(bytes[2], 0xc4, 'bin8 payload');
});

test('malformed client frames are rejected with FrameError', () => {
  const bad: unknown[] = [
    'not an array', [], [9], [0, 'text is not bytes'], [0], [1, 80], [1, 0, 24], [1, 80, 1001],
    [1, 80.5, 24], [1, '80', 24], [2, 'extra'], [3, 1], [-1], [null],
  ];
  for (const value of bad) {
    assert.throws(() => decodeClientFrame(pack(value)), FrameError, JSON.stringify(value));
  }
  assert.throws(() => decodeClientFrame(new Uint8Array([0xc1])), FrameError, 'never-used msgpack byte');
  assert.throws(() => decodeClientFrame(new Uint8Array([0x92, 0x00])), FrameError, 'truncated');
});

test('resize accepts exactly the 1..1000 range', () => {
  assert.deepEqual(decodeClientFrame(pack([1, 1, 1])), [1, 1, 1]);
  assert.deepEqual(decodeClientFrame(pack([1, 1000, 1000])), [1, 1000, 1000]);
  assert.throws(() => decodeClientFrame(pack([1, 1000, 0])), FrameError);
});

test('server frames round-trip and are validated', () => {
  const started = { session: 's1', namespace: 'default', pod: 'shell', container: 'main', command: ['sh'] };
  assert.deepEqual(decodeServerFrame(encode([ServerOp.Started, started])), [2, started]);
  assert.deepEqual(decodeServerFrame(encode([ServerOp.Exited, { exitCode: 3, message: '' }])), [3, { exitCode: 3, message: '' }]);
  assert.deepEqual(decodeServerFrame(encode([ServerOp.Exited, { exitCode: null, message: 'gone' }])), [3, { exitCode: null, message: 'gone' }]);
  assert.deepEqual(decodeServerFrame(encode([ServerOp.Error, { code: 'NotFound', message: 'no pod' }])), [4, { code: 'NotFound', message: 'no pod' }]);
  const out = decodeServerFrame(encode([ServerOp.Stdout, new Uint8Array([0xe4, 0xb8, 0xad])]));
  assert.equal(out[0], ServerOp.Stdout);
  assert.throws(() => decodeServerFrame(pack([0, 'text'])), FrameError);
  assert.throws(() => decodeServerFrame(pack([7, {}])), FrameError);
  assert.throws(() => decodeServerFrame(pack([3, { exitCode: 'x' }])), FrameError);
});

test('a full output chunk encodes below the 16 KiB send limit', () => {
  const frame = encode([ServerOp.Stdout, new Uint8Array(MAX_OUTPUT_CHUNK)]);
  assert.ok(frame.byteLength < MAX_SEND_BYTES, `${frame.byteLength} < ${MAX_SEND_BYTES}`);
  assert.equal(frame.byteLength, MAX_OUTPUT_CHUNK + 5);
});

test('encodeOutputFrame is byte-identical to encode for every bin header size', () => {
  for (const n of [0, 1, 255, 256, 4096, MAX_OUTPUT_CHUNK, 65535, 65536, 70000]) {
    const payload = new Uint8Array(n).map((_, i) => (i * 31) & 0xff);
    for (const op of [ServerOp.Stdout, ServerOp.Stderr] as const) {
      const fast = new Uint8Array(encodeOutputFrame(op, payload));
      assert.deepEqual(Buffer.from(fast), Buffer.from(encode([op, payload])), `op ${op}, ${n} bytes`);
      const back = decodeServerFrame(fast);
      assert.equal(back[0], op);
      assert.ok(Buffer.from(back[1] as Uint8Array).equals(Buffer.from(payload)));
    }
  }
  // A view into a larger buffer encodes only its own bytes.
  const big = new Uint8Array([9, 9, 1, 2, 3, 9]);
  assert.deepEqual([...new Uint8Array(encodeOutputFrame(ServerOp.Stdout, big.subarray(2, 5)))], [0x92, 0, 0xc4, 3, 1, 2, 3]);
});

test('stdin frames: the fast path gives what msgpack decoding gives, for every bin header size, and defers anything else', () => {
  const rand = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff);
  for (const n of [0, 1, 2, 100, 255, 256, 1000, 65535, 65536, 70000]) {
    const payload = rand(n);
    // msgpackr picks the smallest bin header; another encoder may pick a larger one: both are valid.
    const frames = [encode([ClientOp.Stdin, payload])];
    if (n < 0x10000) frames.push(Uint8Array.from([0x92, 0x00, 0xc6, 0, 0, n >> 8, n & 0xff, ...payload]));
    if (n < 0x100) frames.push(Uint8Array.from([0x92, 0x00, 0xc5, 0, n, ...payload]));
    for (const f of frames) {
      const [op, bytes] = decodeClientFrame(f);
      assert.equal(op, ClientOp.Stdin);
      assert.deepEqual(Buffer.from(bytes as Uint8Array), Buffer.from(payload), `n=${n} header 0x${(f[2] as number).toString(16)}`);
    }
  }
  // Not exactly [0, bin]: the general decoder decides, with its own errors.
  const ok = encode([ClientOp.Stdin, rand(10)]);
  assert.throws(() => decodeClientFrame(Uint8Array.from([...ok, 0x00])), FrameError, 'a trailing byte');
  assert.throws(() => decodeClientFrame(ok.subarray(0, ok.length - 1)), FrameError, 'one byte short');
  assert.throws(() => decodeClientFrame(Uint8Array.from([0x92, 0x00, 0xc4, 0xff, 1, 2])), FrameError, 'length past the end');
  assert.throws(() => decodeClientFrame(pack([0, 'text'])), FrameError, 'a string is not bytes');
  assert.deepEqual(decodeClientFrame(pack([1, 80, 24])), [1, 80, 24]);
});
