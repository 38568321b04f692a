/** The page's write watermarks (src/web/flow-control.ts), driven by a sink that parses on demand. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowControl, HIGH_WATERMARK, LOW_WATERMARK } from '../../src/web/flow-control.js';

function harness() {
  const parsed: Array<() => void> = [];
  const frames: string[] = [];
  const flow = new FlowControl({
    write: (_data, done) => parsed.push(done),
    pause: () => frames.push('pause'),
    resume: () => frames.push('resume'),
  });
  return { flow, frames, parseOne: () => parsed.shift()!(), queued: () => parsed.length };
}

test('one pause above the high watermark, one resume below the low one', () => {
  const h = harness();
  const chunk = new Uint8Array(16_000).fill(0x79);
  const chunks = Math.ceil(HIGH_WATERMARK / chunk.length) + 3;
  for (let i = 0; i < chunks; i++) h.flow.write(chunk);
  assert.deepEqual(h.frames, ['pause'], 'edge-triggered: a single pause however far above');
  assert.ok(h.flow.isPaused);
  while (h.flow.backlog >= LOW_WATERMARK) {
    assert.deepEqual(h.frames, ['pause'], 'no resume while the backlog is at or above the low watermark');
    h.parseOne();
  }
  assert.deepEqual(h.frames, ['pause', 'resume']);
  while (h.queued()) h.parseOne();
  assert.equal(h.flow.backlog, 0);
  assert.deepEqual(h.frames, ['pause', 'resume']);
  assert.equal(h.flow.pauses, 1);
  assert.equal(h.flow.bytesWritten, chunks * chunk.length);
});

test('a slow trickle never pauses', () => {
  const h = harness();
  for (let i = 0; i < 1000; i++) {
    h.flow.write(new Uint8Array(4096));
    h.parseOne();
  }
  assert.deepEqual(h.frames, []);
  assert.equal(h.flow.backlog, 0);
});

test('newlines are counted across chunks', () => {
  const h = harness();
  h.flow.write(new TextEncoder().encode('y\r\ny\r\n'));
  h.flow.write(new TextEncoder().encode('\nno newline here'));
  h.flow.write(new Uint8Array(0));
  assert.equal(h.flow.newlines, 3);
});
