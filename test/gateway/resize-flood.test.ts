/**
 * Issue 8 item 9: a flood of resizes reaches the process in the pod at most 10 times a second, and
 * the last size arrives. Counted where it lands: the process in the pod counts SIGWINCH (the pty
 * sends one per size change, and every size in the flood differs from the one before).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN_TOKEN, assertNoResidue, startStack } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';

// Counts SIGWINCH until it reads a line, then prints the count and the final size.
const COUNTER = [
  'import os, signal, sys',
  'n = 0',
  'def on(s, f):',
  '    global n',
  '    n += 1',
  'signal.signal(signal.SIGWINCH, on)',
  'print("ready", flush=True)',
  'sys.stdin.readline()',
  's = os.get_terminal_size(0)',
  'print("winch=%d size=%dx%d" % (n, s.columns, s.lines), flush=True)',
].join('\n');

test('1,000 resizes over 2 s reach the pod at most ~10 times a second; the last size wins', async (t) => {
  const stack = await startStack(t, { workers: 1 });
  const c = await TermClient.connect(stack.url, { namespace: 'default', pod: 'shell', container: 'main', command: ['/usr/bin/python3', '-c', COUNTER] }, { token: ADMIN_TOKEN });
  t.after(() => c.terminate());
  await c.waitFor(/ready/);
  const started = Date.now();
  let last: [number, number] = [0, 0];
  for (let batch = 0; batch < 100; batch++) {
    for (let i = 0; i < 10; i++) {
      const k = batch * 10 + i;
      last = [40 + (k % 200), 10 + Math.floor(k / 200)];
      c.resize(last[0], last[1]);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const floodMs = Date.now() - started;
  await new Promise((r) => setTimeout(r, 500));
  c.stdin('\n');
  await c.waitFor(/winch=\d+ size=\d+x\d+/);
  const m = /winch=(\d+) size=(\d+)x(\d+)/.exec(c.text) as RegExpExecArray;
  const winches = Number(m[1]);
  t.diagnostic(`${winches} resizes reached the pod during a ${floodMs} ms flood of 1,000`);
  // At most one per 100 ms, plus the leading and the trailing one and the exec's initial size (load only slows it).
  assert.ok(winches <= Math.ceil(floodMs / 100) + 3, `${winches} resizes in ${floodMs} ms`);
  assert.ok(winches >= 2, `${winches} resizes`);
  assert.deepEqual([Number(m[2]), Number(m[3])], last, 'the last size arrived');
  await c.exited;
  await assertNoResidue(stack);
});
