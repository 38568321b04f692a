/** Resize coalescing under a flood, on mocked timers: at most 10/s, the last size always delivered. */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { RESIZE_INTERVAL_MS, ResizeCoalescer } from '../../src/actor/resize-coalescer.js';

test('1,000 resizes over 2 s reach Kubernetes at most 10 times a second, the last size last', (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  t.after(() => mock.timers.reset());
  assert.ok(RESIZE_INTERVAL_MS >= 100, 'at most 10 resizes a second');
  const applied: Array<{ at: number; size: [number, number] }> = [];
  const c = new ResizeCoalescer((cols, rows) => applied.push({ at: Date.now(), size: [cols, rows] }));
  c.start();
  for (let i = 0; i < 1000; i++) {
    c.request(20 + i, 10 + (i % 7));
    mock.timers.tick(2);
  }
  mock.timers.tick(RESIZE_INTERVAL_MS);
  // 2 s of flood: the leading one plus one per interval, plus the trailing one.
  assert.ok(applied.length <= 2000 / RESIZE_INTERVAL_MS + 2, `${applied.length} resizes`);
  assert.ok(applied.length >= 2000 / RESIZE_INTERVAL_MS - 1, `${applied.length} resizes`);
  for (let i = 1; i < applied.length; i++) {
    const gap = (applied[i]?.at ?? 0) - (applied[i - 1]?.at ?? 0);
    assert.ok(gap >= RESIZE_INTERVAL_MS, `gap ${gap} ms`);
  }
  assert.deepEqual(applied[0]?.size, [20, 10], 'the first goes at once');
  assert.deepEqual(applied.at(-1)?.size, [1019, 10 + (999 % 7)], 'the last size always arrives');
  // Quiet afterwards: nothing pending, nothing repeated.
  const n = applied.length;
  mock.timers.tick(10 * RESIZE_INTERVAL_MS);
  assert.equal(applied.length, n);
  c.close();
});

test('sizes before start() are held, and close() drops a pending one', (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  t.after(() => mock.timers.reset());
  const applied: Array<[number, number]> = [];
  const c = new ResizeCoalescer((cols, rows) => applied.push([cols, rows]));
  c.request(10, 10);
  c.request(11, 11);
  assert.deepEqual(applied, []);
  c.start();
  assert.deepEqual(applied, [[11, 11]]);
  c.request(12, 12);
  c.close();
  mock.timers.tick(RESIZE_INTERVAL_MS * 2);
  assert.deepEqual(applied, [[11, 11]]);
});
