import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AckSweep, type AckOwner } from '../../src/supervisor/ack-sweep.js';

class Owner implements AckOwner {
  flushedAt: number[] = [];
  constructor(readonly sweep: AckSweep) {}
  flushAck(): void {
    this.sweep.cancel(this);
    this.flushedAt.push(performance.now());
  }
}

const PERIOD = 40;

test('an ack waits at least one period and is flushed once, by one timer for all owners', async (t) => {
  const sweep = new AckSweep(PERIOD);
  t.after(() => sweep.close());
  const owners = Array.from({ length: 50 }, () => new Owner(sweep));
  const t0 = performance.now();
  for (const o of owners) sweep.schedule(o);
  // Scheduling again while waiting changes nothing.
  for (const o of owners) sweep.schedule(o);
  assert.equal(sweep.waiting, 50);
  await sleep(PERIOD * 6);
  for (const o of owners) {
    assert.equal(o.flushedAt.length, 1);
    assert.ok((o.flushedAt[0] as number) - t0 >= PERIOD - 1, 'never before one period');
  }
  assert.equal(sweep.waiting, 0);
});

test('a cancelled ack (it rode on an input) is never flushed; one scheduled again is', async (t) => {
  const sweep = new AckSweep(PERIOD);
  t.after(() => sweep.close());
  const rode = new Owner(sweep);
  const waited = new Owner(sweep);
  sweep.schedule(rode);
  sweep.schedule(waited);
  sweep.cancel(rode);
  await sleep(PERIOD * 4);
  assert.deepEqual([rode.flushedAt.length, waited.flushedAt.length], [0, 1]);
  // After a flush the owner can wait again: the sweep re-arms.
  sweep.schedule(waited);
  await sleep(PERIOD * 4);
  assert.equal(waited.flushedAt.length, 2);
});

test('an owner scheduled during the first period waits for the end of the second', async (t) => {
  const sweep = new AckSweep(PERIOD);
  t.after(() => sweep.close());
  const early = new Owner(sweep);
  const late = new Owner(sweep);
  sweep.schedule(early);
  await sleep(PERIOD / 2);
  const lateAt = performance.now();
  sweep.schedule(late);
  await sleep(PERIOD * 6);
  assert.equal(late.flushedAt.length, 1);
  // Half a period after the first: flushing it at the first sweep would have been too early.
  assert.ok((late.flushedAt[0] as number) - lateAt >= PERIOD - 1, `late waited ${(late.flushedAt[0] as number) - lateAt} ms`);
});

test('close flushes nothing more and leaves no timer', async () => {
  const sweep = new AckSweep(PERIOD);
  const o = new Owner(sweep);
  sweep.schedule(o);
  sweep.close();
  sweep.schedule(o);
  await sleep(PERIOD * 3);
  assert.equal(o.flushedAt.length, 0);
  assert.equal(sweep.waiting, 0);
});
