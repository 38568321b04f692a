import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResizeCoalescer } from '../../src/actor/resize-coalescer.js';

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
  const { OutputBatcher } = await import('../../src/actor/output-batcher.js');
  const out: Buffer[] = [];
  const b = new OutputBatcher((c) => out.push(Buffer.from(c)), 10, 0);
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

test('output batching: a small write with nothing held goes at once', async () => {
  const { OutputBatcher } = await import('../../src/actor/output-batcher.js');
  const out: string[] = [];
  const b = new OutputBatcher((c) => out.push(String(c)), 10, 4);
  b.push(Buffer.from('x'));
  assert.deepEqual(out, ['x'], 'a keystroke echo is not held');
  b.push(Buffer.from('abcdef'));
  assert.deepEqual(out, ['x'], 'a larger tail is held for one turn');
  b.push(Buffer.from('y'));
  assert.deepEqual(out, ['x'], 'small writes queue behind held bytes, keeping order');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(out, ['x', 'abcdefy']);
  b.close();
});
