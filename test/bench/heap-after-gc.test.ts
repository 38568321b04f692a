import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { heapAfterGc } from '../../bench/lib/metrics.js';

/** A process with an inspector, a worker that holds ~N objects, and garbage on both threads. */
const SCRIPT = `
const { Worker } = require('node:worker_threads');
const w = new Worker("globalThis.keep = []; for (let i = 0; i < 300000; i++) keep.push({ i }); for (let i = 0; i < 300000; i++) ({ i }); require('node:worker_threads').parentPort.postMessage('ready'); setInterval(() => {}, 1000)", { eval: true });
w.on('message', () => console.log('ready'));
for (let i = 0; i < 300000; i++) ({ i });
setInterval(() => {}, 1000);
`;

test('heapAfterGc: with workers it collects and counts every thread, and the reading is stable', { timeout: 60_000 }, async (t) => {
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', '-e', SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [ready] = (await once(child.stdout, 'data')) as [Buffer];
  assert.match(ready.toString(), /ready/);
  const url = /ws:\/\/\S+/.exec(err)?.[0];
  assert.ok(url, err);
  const main = await heapAfterGc(url);
  const all = await heapAfterGc(url, 15_000, true);
  // The worker keeps 300,000 small objects (at least 16 bytes each).
  assert.ok(all - main > 300_000 * 16, `worker heap counted: ${all} vs ${main}`);
  const again = await heapAfterGc(url, 15_000, true);
  assert.ok(Math.abs(again - all) < 0.01 * all, `two readings after GC agree: ${again} vs ${all}`);
  child.kill('SIGKILL');
  await once(child, 'exit');
});
