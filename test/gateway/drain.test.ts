/** Graceful drain (what SIGTERM does) and the CLI's ready line, signal handling and exit code. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, assertNoResidue, startStack } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';

test('drain: readyz false, new sessions refused, open ones closed with 1001 after the grace', async (t) => {
  const stack = await startStack(t, { workers: 1 });
  const params = { namespace: 'load', pod: 'echo', container: 'main' };
  const open = await TermClient.connect(stack.url, params, { token: ADMIN_TOKEN });
  t.after(() => open.terminate());
  await open.started;
  const started = Date.now();
  const draining = stack.gateway.drain(600);
  assert.equal((await fetch(`${stack.url}/readyz`)).status, 503);
  assert.equal((await fetch(`${stack.url}/healthz`)).status, 200);
  const late = await TermClient.connect(stack.url, params, { token: ADMIN_TOKEN });
  t.after(() => late.terminate());
  assert.equal((await late.failed).code, 'ServerShuttingDown');
  assert.equal((await late.closed).code, 1001);
  // Still served during the grace period.
  open.stdin('during-grace\n');
  await open.waitFor(/during-grace/);
  await draining;
  assert.ok(Date.now() - started >= 550, 'the grace period was honoured');
  assert.equal((await open.failed).code, 'ServerShuttingDown');
  assert.equal((await open.closed).code, 1001);
  await assertNoResidue(stack);
  assert.match(await stack.gateway.metricsText(), /^podterm_sessions_total\{outcome="shutdown"\} 1$/m);
});

test('podterm serve --sandbox prints one ready line, serves, and exits 0 on SIGTERM', async (t) => {
  const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', `const m = await import(${JSON.stringify(main)}); await m.main(process.argv.slice(1), process.env);`, 'serve', '--sandbox', '--listen', '127.0.0.1:0', '--workers', '1', '--token', 'cli-token-123', '--drain-grace-ms', '200'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PODTERM_TOKEN: '' } },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
  });
  // A token given with --token is never printed (issue 8, item 4): the URL comes without it.
  const m = /^podterm: open (http:\/\/127\.0\.0\.1:\d+)\/ \(sign in with the token from --token\)$/.exec(first);
  assert.ok(m, first);
  const url = m[1] as string;
  assert.ok(!stderr.includes('cli-token-123'), 'the token is never logged');
  const c = await TermClient.connect(url, { namespace: 'default', pod: 'shell', container: 'main', command: ['sh', '-c', 'sleep 0.3; exit 7'] }, { token: 'cli-token-123' });
  t.after(() => c.terminate());
  assert.equal((await c.exited).exitCode, 7);
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.ok(!stderr.includes('cli-token-123'), 'the token is never logged');
  // The sandbox records by default into a temporary folder it names and leaves to the user: the
  // session is there, and the test removes the folder (each run used to leave one behind).
  const dir = /"recordDir":"([^"]+)"/.exec(stderr)?.[1];
  assert.ok(dir, `the sandbox says where it records: ${stderr}`);
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.ok((await readdir(dir)).some((f) => f.endsWith('.cast')), 'the session was recorded');
});

test('an actor that misses its close deadline on a thread that answers is counted and waited for; its worker is not recycled', async (t) => {
  // A 1 ms deadline is shorter than any real close (the exec close handshake alone takes longer),
  // so this drives the overdue path with the real code and a real worker: the miss is counted, the
  // thread answers its probe, so the actor gets more deadlines instead of its thread being ended
  // (which would end every other session on it); recycling a thread that does not answer is
  // covered in test/supervisor/session-close.test.ts.
  const stack = await startStack(t, { workers: 1, closeDeadlineMs: 1 });
  const c = await TermClient.connect(stack.url, { namespace: 'load', pod: 'echo', container: 'main' }, { token: ADMIN_TOKEN });
  t.after(() => c.terminate());
  await c.started;
  c.terminate();
  await assertNoResidue(stack);
  const stats = await stack.gateway.stats();
  assert.ok(stats.closeDeadlineMisses >= 1, `misses: ${stats.closeDeadlineMisses}`);
  assert.match(await stack.gateway.metricsText(), /^podterm_close_deadline_misses_total [1-9]/m);
  assert.match(await stack.gateway.metricsText(), /^podterm_worker_recycles_total 0$/m);
  // The same worker serves the next session.
  const next = await TermClient.connect(stack.url, { namespace: 'load', pod: 'echo', container: 'main', command: ['true'] }, { token: ADMIN_TOKEN });
  t.after(() => next.terminate());
  await next.started;
  assert.equal(stats.workers, 1);
});
