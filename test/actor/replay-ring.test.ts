/**
 * ReplayBuffer as a ring: it keeps exactly the last capBytes, grows lazily, reuses its segments at
 * the cap, starts a replay at a safe boundary, and releases everything on clear/close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayBuffer, type ReplayCounter } from '../../src/actor/replay-buffer.js';
import { MAX_OUTPUT_CHUNK } from '../../src/protocol/limits.js';

function rng(seed: number): () => number {
  return () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

function joined(chunks: Uint8Array[]): Buffer {
  return Buffer.concat(chunks);
}

test('keeps exactly the last capBytes of plain output, whatever the chunk sizes', (t) => {
  const counter: ReplayCounter = { live: 0 };
  t.after(() => assert.equal(counter.live, 0));
  const rand = rng(7);
  for (const [cap, seg] of [[1000, 64], [4096, 1024], [100, 4096], [256 * 1024, 16 * 1024], [5000, 16]] as [number, number][]) {
    const rb = new ReplayBuffer(cap, { segmentBytes: seg, counter });
    let all = Buffer.alloc(0);
    for (let i = 0; i < 300; i++) {
      const n = 1 + Math.floor(rand() * (i % 50 === 0 ? 3 * cap : Math.min(16_000, cap)));
      const chunk = Buffer.alloc(n, 0x61 + (i % 26));
      rb.append(chunk);
      all = Buffer.concat([all, chunk]).subarray(-cap);
      assert.equal(rb.bytes, all.length);
      assert.ok(rb.allocated <= cap + 2 * Math.min(seg, cap), `allocated ${rb.allocated} for cap ${cap}`);
      if (i % 37 === 0) assert.ok(joined(rb.restore()).equals(all), `cap ${cap}, append ${i}`);
    }
    assert.ok(joined(rb.restore()).equals(all));
    rb.close();
  }
});

test('memory grows with the output: nothing, then a 1 KiB segment doubling to 16 KiB, then segments reused', () => {
  const rb = new ReplayBuffer();
  try {
    assert.equal(rb.allocated, 0);
    assert.deepEqual(rb.restore(), []);
    rb.append(Buffer.from('user@pod:~$ '));
    assert.equal(rb.allocated, 1024, 'a prompt costs one 1 KiB segment');
    rb.append(Buffer.alloc(3000, 0x41));
    assert.equal(rb.allocated, 4096);
    rb.append(Buffer.alloc(13_000, 0x42));
    assert.equal(rb.allocated, 16 * 1024, 'the first segment grew to 16 KiB');
    rb.append(Buffer.alloc(1000, 0x42));
    assert.equal(rb.allocated, 32 * 1024, 'then a second full one');
    for (let i = 0; i < 40; i++) rb.append(Buffer.alloc(16_000, 0x43));
    const full = rb.allocated;
    assert.ok(full <= 256 * 1024 + 2 * 16 * 1024, `${full}`);
    for (let i = 0; i < 100; i++) rb.append(Buffer.alloc(16_000, 0x44));
    assert.equal(rb.allocated, full, 'a flood at the cap allocates nothing more');
    assert.equal(rb.bytes, 256 * 1024);
  } finally {
    rb.close();
  }
});

test('restore() frames are at most MAX_OUTPUT_CHUNK, fresh copies, and restore() changes nothing', () => {
  const rb = new ReplayBuffer(100_000);
  try {
    const src = Buffer.alloc(70_000, 0x78);
    rb.append(src);
    src.fill(0x79); // the caller reuses its chunk: the ring kept a copy
    const a = rb.restore();
    assert.deepEqual(a.map((f) => f.length), [16_000, 16_000, 16_000, 16_000, 6_000]);
    assert.ok(a.every((f) => f.every((b) => b === 0x78)));
    assert.ok(joined(rb.restore()).equals(joined(a)));
    assert.deepEqual(rb.restore(1000).map((f) => f.length).filter((n) => n !== 1000), []);
    rb.append(Buffer.alloc(50_000, 0x7a));
    assert.ok(a.every((f) => f.every((b) => b === 0x78)), 'later appends do not touch a replay');
    assert.ok(a.every((f) => f.length <= MAX_OUTPUT_CHUNK));
  } finally {
    rb.close();
  }
});

test('a cut inside a UTF-8 character starts the replay at the next whole character', () => {
  for (let cut = 1; cut < 12; cut++) {
    const text = 'é中😀é中😀abcdefghijklmnopqrstuvwxyz0123456789';
    const bytes = Buffer.from(text);
    const rb = new ReplayBuffer(bytes.length - cut);
    try {
      rb.append(bytes.subarray(0, 5));
      rb.append(bytes.subarray(5));
      const out = joined(rb.restore());
      const decoded = new TextDecoder('utf-8', { fatal: true }).decode(out); // throws on a broken character
      assert.ok(text.endsWith(decoded), `cut ${cut}: ${JSON.stringify(decoded)}`);
      assert.ok(out.length >= bytes.length - cut - 3, `cut ${cut}: at most one character skipped`);
    } finally {
      rb.close();
    }
  }
});

test('a cut inside an escape sequence or string starts after it, with its effect in the prefix', () => {
  const head = 'x'.repeat(20);
  const cases: [string, string][] = [
    ['\x1b[38;5;196m', 'red text here'], ['\x1b[?1049h', 'in the alternate screen'], ['\x1b]0;a long window title\x07', 'after title'],
    ['\x1bP+q6b75\x1b\\', 'after dcs'], ['\x1b(0', 'lqqk'],
  ];
  for (const [seq, tail] of cases) {
    for (let k = 1; k < seq.length; k++) {
      const stream = Buffer.from(head + seq + tail);
      const rb = new ReplayBuffer(stream.length - head.length - k); // the cut falls k bytes into seq
      try {
        for (let i = 0; i < stream.length; i += 7) rb.append(stream.subarray(i, i + 7));
        const out = joined(rb.restore()).toString();
        assert.ok(out.endsWith(tail), JSON.stringify(out));
        const before = out.slice(0, out.length - tail.length);
        assert.ok(!before.includes(seq.slice(k)) || before.startsWith('\x1b'), `stray bytes of a cut sequence: ${JSON.stringify(out)}`);
        assert.ok(before === '' || before.startsWith('\x1b'), `the replay starts with text from a cut sequence: ${JSON.stringify(out)}`);
      } finally {
        rb.close();
      }
    }
  }
  // And the effect survives: a cut after the alternate screen was entered re-enters it.
  const rb = new ReplayBuffer(10);
  rb.append(Buffer.from('\x1b[?1049h\x1b[?2004h' + 'y'.repeat(30)));
  assert.equal(joined(rb.restore()).toString(), '\x1b[?1049h\x1b[?2004h' + 'y'.repeat(10));
  rb.close();
});

test('clear() releases the memory and keeps the buffer; close() is idempotent and counted', () => {
  const counter: ReplayCounter = { live: 0 };
  const rb = new ReplayBuffer(1000, { counter });
  assert.equal(counter.live, 1);
  rb.append(Buffer.alloc(5000, 0x41));
  rb.clear();
  assert.equal(rb.allocated, 0);
  assert.equal(rb.bytes, 0);
  assert.deepEqual(rb.restore(), []);
  rb.append(Buffer.from('again'));
  assert.equal(joined(rb.restore()).toString(), 'again');
  rb.close();
  rb.close();
  assert.equal(counter.live, 0);
  assert.equal(rb.allocated, 0);
  rb.append(Buffer.from('ignored'));
  assert.equal(rb.bytes, 0);
  assert.throws(() => new ReplayBuffer(0), RangeError);
  assert.throws(() => new ReplayBuffer(100, { segmentBytes: 1 }), RangeError);
});
