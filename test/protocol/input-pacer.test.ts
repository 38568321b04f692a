/** Input flow control, both halves as pure logic: the client's pacer and the actor's credit ledger. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputCredit } from '../../src/actor/input-credit.js';
import { InputPacer, STDIN_CHUNK } from '../../src/protocol/input-pacer.js';

test('the pacer keeps at most a window in flight, in order, and resumes on credit', () => {
  const sent: Uint8Array[] = [];
  const p = new InputPacer((c) => sent.push(c));
  const data = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
  p.write(data); // no window yet (before Started): everything goes
  assert.equal(sent.reduce((n, c) => n + c.byteLength, 0), 100_000);
  assert.ok(sent.every((c) => c.byteLength <= STDIN_CHUNK));
  sent.length = 0;
  const q = new InputPacer((c) => sent.push(c));
  q.setWindow(40_000);
  q.write(data);
  assert.equal(q.inFlight, 40_000);
  assert.equal(q.queuedBytes, 60_000);
  q.credit(25_000);
  assert.equal(q.inFlight, 40_000);
  assert.equal(q.queuedBytes, 35_000);
  q.credit(1_000_000);
  q.credit(1_000_000);
  assert.equal(q.queuedBytes, 0);
  const out = Buffer.concat(sent);
  assert.ok(out.equals(Buffer.from(data)), 'every byte once, in order');
});

test('the ledger credits lazily for typing and at once for a paste, and spots a client that ignores it', () => {
  const c = new InputCredit(1000, 100);
  // Typing: a few bytes, taken at once: no credit frame.
  c.received(3);
  c.written(3);
  assert.equal(c.settle(0), 0);
  // A paste past half the window: credit for what the socket took.
  c.received(600);
  c.written(600);
  assert.equal(c.settle(200), 403, 'written minus still buffered');
  // The client has 200 outstanding of 1000: room enough, so the rest waits (no frame, no timer).
  assert.ok(!c.waiting(200));
  assert.equal(c.settle(0), 0);
  // A client at its limit: outstanding >= half the window and some still buffered -> look again.
  c.received(400);
  c.written(400);
  assert.ok(c.waiting(300));
  assert.equal(c.settle(300), 300);
  // Overrun: more than window + slack not taken.
  c.received(1200);
  c.written(1200);
  assert.ok(c.overrun(1250));
  assert.ok(!c.overrun(1000));
});
