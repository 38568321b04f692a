/**
 * Teardown proofs: sessions that drop their TCP connection at random moments leave nothing behind
 * (sessions, actors, exec sockets, sandbox processes, heap), and a worker killed under load ends
 * only its own sessions, with 1011.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN_TOKEN, assertNoResidue, startStack, type Stack } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** Opens a session and drops its TCP connection at a random moment (before, during, after output). */
async function dropAtRandom(stack: Stack, i: number): Promise<void> {
  const kind = i % 20 === 0 ? 'shell' : i % 2 === 0 ? 'flood' : 'echo';
  const params: Record<string, string | string[]> =
    kind === 'shell'
      ? { namespace: 'default', pod: 'shell', container: 'main', command: ['sh', '-c', 'yes podterm | head -c 200000; sleep 30'] }
      : kind === 'flood'
        ? { namespace: 'load', pod: 'flood', container: 'main', command: ['flood'] }
        : { namespace: 'load', pod: 'echo', container: 'main' };
  const c = await TermClient.connect(stack.url, params, { token: ADMIN_TOKEN });
  const when = Math.random();
  if (when < 0.2) {
    c.terminate(); // before the exec is even open
    return;
  }
  await Promise.race([c.started, c.closed]);
  if (kind === 'echo') c.stdin('hello\n');
  await sleep(Math.floor(Math.random() * 30)); // mid-output for flood and shell
  c.terminate();
}

async function runPool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

test('1,000 sessions dropped at random moments leave no residue and no heap growth', async (t) => {
  const stack = await startStack(t, { workers: 2 });
  // Warm-up so the baseline includes module init, TLS session setup and JIT.
  await runPool(60, 20, (i) => dropAtRandom(stack, i));
  await assertNoResidue(stack, 5000);
  const before = await stack.gateway.heapAfterGc();
  const started = Date.now();
  await runPool(1000, 50, (i) => dropAtRandom(stack, i));
  const dropped = Date.now();
  await assertNoResidue(stack, 5000);
  const settledMs = Date.now() - dropped;
  const after = await stack.gateway.heapAfterGc();
  const growth = sum(after) - sum(before);
  t.diagnostic(`1000 sessions in ${dropped - started} ms; residue gone ${settledMs} ms after the last drop; heap+external ${sum(before)} -> ${sum(after)} (${growth} bytes)`);
  assert.ok(growth < 6 * 1024 * 1024, `heap grew ${growth} bytes (${before.join(',')} -> ${after.join(',')})`);
  const metrics = await stack.gateway.metricsText();
  assert.match(metrics, /^podterm_close_deadline_misses_total 0$/m);
});

test('a worker killed under load ends its sessions with 1011; the others carry on', async (t) => {
  const stack = await startStack(t, { workers: 2 });
  const clients: TermClient[] = [];
  for (let i = 0; i < 16; i++) {
    const c = await TermClient.connect(stack.url, { namespace: 'load', pod: 'echo', container: 'main' }, { token: ADMIN_TOKEN });
    t.after(() => c.terminate());
    clients.push(c);
  }
  await Promise.all(clients.map((c) => c.started));
  const stats = await stack.gateway.stats();
  assert.equal(stats.actorsActive, 16);
  await stack.gateway.terminateWorker();
  const results = await Promise.all(
    clients.map(async (c) => {
      const r = await Promise.race([c.closed, sleep(1500).then(() => undefined)]);
      return r;
    }),
  );
  const killed = clients.filter((_, i) => results[i] !== undefined);
  const alive = clients.filter((_, i) => results[i] === undefined);
  t.diagnostic(`${killed.length} sessions ended with the worker, ${alive.length} carried on`);
  assert.ok(killed.length > 0, 'some sessions lived on the killed worker');
  assert.ok(alive.length > 0, 'some sessions lived on the other worker');
  for (const c of killed) {
    assert.equal((await c.closed).code, 1011);
    assert.equal((await c.failed).code, 'Internal');
  }
  for (const [i, c] of alive.entries()) {
    c.stdin(`still-here-${i}\n`);
    await c.waitFor(new RegExp(`still-here-${i}`));
  }
  // New sessions work on the replacement worker too.
  const fresh = await TermClient.connect(stack.url, { namespace: 'load', pod: 'echo', container: 'main' }, { token: ADMIN_TOKEN });
  t.after(() => fresh.terminate());
  await fresh.started;
  for (const c of [...alive, fresh]) c.ws.close(1000);
  await assertNoResidue(stack, 5000);
});
