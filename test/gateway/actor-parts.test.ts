import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResizeCoalescer } from '../../workers/resize-coalescer.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('resize coalescing: held until start, latest wins, at most one per interval, nothing after close', async () => {
  const applied: Array<[number, number]> = [];
  const r = new ResizeCoalescer((c, w) => applied.push([c, w]), 40);
  r.request(10, 10);
  r.request(20, 20);
  assert.deepEqual(applied, [], 'held before the exec is open');
  r.start();
  assert.deepEqual(applied, [[20, 20]]);
  for (let i = 1; i <= 50; i++) r.request(100 + i, 50);
  assert.equal(applied.length, 1, 'a burst inside the interval waits');
  await sleep(60);
  assert.deepEqual(applied, [[20, 20], [150, 50]]);
  r.request(1, 1);
  r.close();
  await sleep(60);
  assert.deepEqual(applied.at(-1), [150, 50], 'nothing fires after close');
});

test('output batching: full chunks at once, the tail after one turn, order kept, nothing after close', async () => {
  const { OutputBatcher } = await import('../../workers/output-batcher.js');
  const out: Buffer[] = [];
  const b = new OutputBatcher((c) => out.push(Buffer.from(c)), 10);
  b.push(Buffer.from('abcdef'));
  assert.equal(out.length, 0, 'a short tail waits');
  b.push(Buffer.from('ghijklmnopqrstuvw'));
  assert.deepEqual(out.map(String), ['abcdefghij', 'klmnopqrst']);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(out.map(String), ['abcdefghij', 'klmnopqrst', 'uvw']);
  b.push(Buffer.from('xyz'));
  b.close();
  b.push(Buffer.from('late'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(out.map(String), ['abcdefghij', 'klmnopqrst', 'uvw', 'xyz']);
});
