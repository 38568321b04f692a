/**
 * latency: keystroke echo through load/echo with T concurrent typists at `rate` keys/s each:
 * p50/p99/p99.9 from the client's send to the echoed byte's arrival. Side by side: --workers 0,
 * kubectl per session (up to --kubectl-max typists) and the no-gateway floor.
 */
import { type Agent, split } from '../lib/agents.js';
import type { Cell, TargetCheck } from '../lib/results.js';
import { type MetricSet, metric } from '../lib/metrics.js';
import { cpuSeconds, systemBusySeconds } from '../lib/procfs.js';
import { round, summarize } from '../lib/stats.js';
import type { TypistResult } from '../load/drivers.js';
import type { Conn } from '../load/session.js';
import { type Ctx, ECHO, type ScenarioBody, gatewayVariants, podtermConn, withAgents, withGateway } from './context.js';

interface OpenReply { opened: number; failed: number; errors: string[] }

/** One typing run: the table row, with p50 and p99 (ms) unrounded beside it. */
export async function typeRun(ctx: Ctx, agents: Agent[], conn: Conn, typists: number, gwPid: number | null, gwMetrics?: () => Promise<MetricSet>): Promise<Cell[] & { p50?: number; p99?: number }> {
  const parts = split(typists, agents.length);
  const durationMs = ctx.opts.durationS * 1000;
  const used = agents.filter((_, i) => (parts[i] as number) > 0);
  // Open first, type second: the CPU figures cover the typing only, not the session setup.
  const opened = await Promise.all(
    used.map((a, i) => a.call<OpenReply>('open', { conn, target: ECHO, count: parts[i], concurrency: ctx.opts.concurrency, timeoutMs: 120000 }, 150000)),
  );
  const m0 = await gwMetrics?.();
  const gw0 = gwPid ? cpuSeconds(gwPid) : 0;
  const sys0 = systemBusySeconds();
  const rs = await Promise.all(used.map((a) => a.call<TypistResult>('typeHeld', { rate: ctx.opts.rate, durationMs }, durationMs + 60000)));
  const gwCpu = gwPid ? cpuSeconds(gwPid) - gw0 : NaN;
  const sysCpu = systemBusySeconds() - sys0;
  const m1 = await gwMetrics?.();
  await Promise.all(used.map((a) => a.call('close', { timeoutMs: 30000 }, 60000)));
  const s = summarize(rs.flatMap((r) => r.latenciesMs));
  const sent = rs.reduce((n, r) => n + r.sent, 0);
  const unanswered = rs.reduce((n, r) => n + r.unanswered, 0);
  const failed = opened.reduce((n, r) => n + r.failed, 0) + rs.reduce((n, r) => n + r.warmupFailed, 0);
  const errors = opened.flatMap((r) => r.errors);
  if (errors.length) ctx.log(`  errors: ${errors.slice(0, 3).join('; ')}`);
  ctx.log(`  ${typists} typists: p50 ${round(s.p50, 2)} p99 ${round(s.p99, 2)} ms, ${sent} keys, ${unanswered} unanswered`);
  const perK = (cpu: number): number | null => (Number.isFinite(cpu) && sent > 0 ? round((cpu * 1e6) / sent, 1) : null);
  const row: Cell[] & { p50?: number; p99?: number } = [typists, sent, round(s.p50, 2), round(s.p99, 2), round(s.p999, 2), round(s.max, 1), unanswered, failed, perK(gwCpu), perK(sysCpu), gcCell(m0, m1)];
  row.p50 = s.p50;
  row.p99 = s.p99;
  return row;
}

/**
 * The gateway's GC pauses while typing (its /metrics, per thread kind): `main; workers`, each as
 * pauses ≥ 10 ms / all pauses / seconds paused. Empty for the baselines (no gateway).
 */
function gcCell(m0: MetricSet | undefined, m1: MetricSet | undefined): Cell {
  if (!m0 || !m1) return null;
  const d = (name: string, thread: string): number => (metric(m1, `${name}{thread="${thread}"}`) || 0) - (metric(m0, `${name}{thread="${thread}"}`) || 0);
  const parts: string[] = [];
  for (const thread of ['main', 'workers']) {
    if (Number.isNaN(metric(m1, `podterm_gc_pauses_total{thread="${thread}"}`))) continue;
    parts.push(`${thread} ${d('podterm_gc_pauses_over_10ms_total', thread)}/${d('podterm_gc_pauses_total', thread)}/${round(d('podterm_gc_pause_seconds_total', thread), 2)} s`);
  }
  return parts.join('; ');
}

export async function latency(ctx: Ctx): Promise<ScenarioBody> {
  const { opts } = ctx;
  const rows: Cell[][] = [];
  const p99 = new Map<string, number>();
  const agentsFor = (t: number): number => opts.agents ?? (t >= 500 ? 2 : 1);
  const maxT = Math.max(...opts.typists);

  for (const [label, workers] of gatewayVariants(opts)) {
    ctx.log(`latency: ${label}`);
    await withGateway(ctx, workers, agentsFor(maxT), async (gw, agents) => {
      for (const t of opts.typists) {
        const r = await typeRun(ctx, agents.slice(0, agentsFor(t)), podtermConn(gw), t, gw.pid, gw.metrics);
        rows.push([label, ...r]);
        p99.set(`${workers}/${t}`, r.p99 ?? NaN);
      }
    });
  }
  const baselines: [string, Conn, number][] = [];
  if (opts.variants.has('kubectl')) baselines.push(['kubectl exec -it per session', { kind: 'kubectl', kubeconfig: ctx.sandbox.kubeconfig }, opts.kubectlMax]);
  if (opts.variants.has('floor')) baselines.push(['floor: client-node Exec, no gateway', { kind: 'floor', kubeconfig: ctx.sandbox.kubeconfig }, Infinity]);
  for (const [label, conn, cap] of baselines) {
    ctx.log(`latency: ${label}`);
    const ts = opts.typists.filter((t) => t <= cap);
    if (ts.length === 0) continue;
    await withAgents(ctx, agentsFor(Math.max(...ts)), async (agents) => {
      for (const t of ts) rows.push([label, ...(await typeRun(ctx, agents.slice(0, agentsFor(t)), conn, t, null))]);
    });
  }

  const targets: TargetCheck[] = [];
  const top = p99.get(`${opts.workers}/${maxT}`);
  if (top !== undefined) targets.push({ name: `keystroke echo p99, ${maxT} typists at ${opts.rate} keys/s`, target: '≤ 2 ms', measured: `${round(top, 2)} ms`, met: top <= 2 });
  return {
    params: { typists: opts.typists, rate: opts.rate, durationS: opts.durationS, kubectlMax: opts.kubectlMax },
    tables: [{ title: `keystroke echo (load/echo, ${opts.rate} keys/s per typist, ${opts.durationS} s)`, columns: ['variant', 'typists', 'keys', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'unanswered', 'failed sessions', 'gateway CPU µs/key', 'system CPU µs/key', 'gateway GC pauses ≥ 10 ms / all / s paused while typing'], rows }],
    targets,
    notes: [
      'Latency = time from the client sending one key to the first arrival of that byte, measured in the load generator (its own scheduling delay on this 2-core machine is included, for every variant alike).',
      'CPU µs/key: CPU seconds while typing (after every session is open; one warm-up key per typist included) / keys sent; gateway = its /proc utime+stime, system = every process on the machine.',
      `kubectl runs only up to ${opts.kubectlMax} typists: each is a real kubectl process.`,
      'GC pauses: the gateway\'s podterm_gc_pauses_over_10ms_total / podterm_gc_pauses_total / podterm_gc_pause_seconds_total while typing, main thread and worker threads apart (wall time of each pause, so a thread waiting for a CPU makes it longer).',
    ],
  };
}
