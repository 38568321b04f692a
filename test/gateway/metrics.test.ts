/**
 * /metrics through prom-client (issue 8 re-layout and item 17): one registry per gateway, the
 * default process metrics, the session counters after a session, the live gauges probed from the
 * actors, and `podterm_session_failures_total{code}` for a failed open. Plus the session log lines.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/log/logger.js';
import { outcomeOfEnd } from '../../src/supervisor/metrics.js';
import { ADMIN_TOKEN, assertNoResidue, startGatewayFor, startStack } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';

function sample(text: string, series: string): number | undefined {
  const escaped = series.replace(/[{}"=]/g, (c) => `\\${c}`);
  const m = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

test('/metrics: default process metrics, session counters, live gauges, failures by code, session log lines', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
  const stack = await startStack(t, { workers: 1, logger });
  const scrape = async (): Promise<string> => {
    const r = await fetch(`${stack.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return r.text();
  };

  const before = await scrape();
  for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'nodejs_heap_size_total_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds_count', 'nodejs_version_info']) {
    assert.match(before, new RegExp(`^# TYPE ${name.replace(/_count$/, '')} `, 'm'), name);
  }
  assert.equal(sample(before, 'podterm_sessions_active'), 0);
  assert.equal(sample(before, 'podterm_workers'), 1);
  assert.equal(sample(before, 'podterm_sessions_total{outcome="exited"}'), 0);
  assert.equal(sample(before, 'podterm_sessions_total{outcome="idle_timeout"}'), 0);
  assert.equal(sample(before, 'podterm_session_failures_total{code="NotFound"}'), 0);

  // A live session shows in the gauges the workers report.
  const c = await TermClient.connect(stack.url, { namespace: 'default', pod: 'shell', container: 'main', command: ['sh', '-c', 'read x; echo got $x'] }, { token: ADMIN_TOKEN });
  t.after(() => c.terminate());
  await c.started;
  const during = await scrape();
  assert.equal(sample(during, 'podterm_sessions_active'), 1);
  assert.equal(sample(during, 'podterm_actors_active'), 1);
  assert.equal(sample(during, 'podterm_exec_streams_active'), 1);
  c.stdin('hello\n');
  assert.equal((await c.exited).exitCode, 0);
  await c.closed;
  await assertNoResidue(stack);

  // A failed open: the pod does not exist.
  const missing = await TermClient.connect(stack.url, { namespace: 'default', pod: 'nope', container: 'main' }, { token: ADMIN_TOKEN });
  t.after(() => missing.terminate());
  assert.equal((await missing.failed).code, 'NotFound');
  await missing.closed;
  await assertNoResidue(stack);

  const after = await scrape();
  assert.equal(sample(after, 'podterm_sessions_total{outcome="exited"}'), 1);
  assert.equal(sample(after, 'podterm_session_failures_total{code="NotFound"}'), 1);
  assert.equal(sample(after, 'podterm_session_failures_total{code="Internal"}'), 0);
  assert.ok((sample(after, 'podterm_bytes_total{direction="in"}') ?? 0) > 0);
  assert.ok((sample(after, 'podterm_bytes_total{direction="out"}') ?? 0) > 0);
  assert.equal(sample(after, 'podterm_sessions_active'), 0);

  // One start and one end line per session: who, where, how long, outcome, bytes; never a token.
  const starts = lines.filter((l) => l.msg === 'session start');
  const ends = lines.filter((l) => l.msg === 'session end');
  assert.equal(starts.length, 2);
  assert.equal(ends.length, 2);
  const ok = ends.find((l) => l.pod === 'shell') as Record<string, unknown>;
  assert.equal(ok.outcome, 'exited');
  assert.equal(ok.closeCode, 1000);
  assert.equal(ok.namespace, 'default');
  assert.equal(typeof ok.who, 'string');
  assert.equal(typeof ok.durationMs, 'number');
  assert.ok((ok.bytesIn as number) > 0 && (ok.bytesOut as number) > 0);
  const failed = ends.find((l) => l.pod === 'nope') as Record<string, unknown>;
  assert.equal(failed.outcome, 'error');
  assert.equal(failed.code, 'NotFound');
  assert.equal(failed.closeCode, 4404);
  assert.ok(!JSON.stringify(lines).includes(ADMIN_TOKEN));
});

test('/metrics: GC pauses of the main thread and of the worker threads (nodejs_gc_duration_seconds sees only the main thread)', async (t) => {
  const stack = await startStack(t, { workers: 2 });
  const scrape = async (): Promise<string> => (await fetch(`${stack.url}/metrics`)).text();
  const first = await scrape();
  // A forced GC in every thread (the tests run with --expose-gc): each worker observes its own.
  await stack.gateway.heapAfterGc();
  await new Promise((r) => setTimeout(r, 100));
  const text = await scrape();
  for (const thread of ['main', 'workers']) {
    const pauses = sample(text, `podterm_gc_pauses_total{thread="${thread}"}`) ?? 0;
    assert.ok(pauses > (sample(first, `podterm_gc_pauses_total{thread="${thread}"}`) ?? 0), `${thread}: pauses counted (${pauses})`);
    // Both workers' forced full GCs are in the sum: at least 2 pauses beyond the first scrape.
    if (thread === 'workers') assert.ok(pauses - (sample(first, 'podterm_gc_pauses_total{thread="workers"}') ?? 0) >= 2, `both workers: ${pauses}`);
    assert.ok((sample(text, `podterm_gc_pause_seconds_total{thread="${thread}"}`) ?? 0) > 0, `${thread}: pause time`);
    assert.ok((sample(text, `podterm_gc_pause_max_seconds{thread="${thread}"}`) ?? 0) > 0, `${thread}: longest pause`);
    assert.notEqual(sample(text, `podterm_gc_pauses_over_10ms_total{thread="${thread}"}`), undefined);
  }
  await assertNoResidue(stack);
});

test('two gateways in one process keep separate counters', async (t) => {
  const stack = await startStack(t, { workers: 0 });
  const other = await startGatewayFor(t, stack.sandbox, { workers: 0 });
  const c = await TermClient.connect(stack.url, { namespace: 'default', pod: 'nope', container: 'main' }, { token: ADMIN_TOKEN });
  t.after(() => c.terminate());
  await c.closed;
  assert.equal(sample(await stack.gateway.metricsText(), 'podterm_session_failures_total{code="NotFound"}'), 1);
  assert.equal(sample(await other.metricsText(), 'podterm_session_failures_total{code="NotFound"}'), 0);
  await assertNoResidue(stack);
});

test('an idle timeout is its own outcome, not an error', () => {
  assert.equal(outcomeOfEnd(4408, 'IdleTimeout'), 'idle_timeout');
  assert.equal(outcomeOfEnd(1000, 'exited'), 'exited');
  assert.equal(outcomeOfEnd(1001, 'ServerShuttingDown'), 'shutdown');
  assert.equal(outcomeOfEnd(4404, 'NotFound'), 'error');
});
