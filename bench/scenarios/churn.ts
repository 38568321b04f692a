/**
 * churn: N sessions opened and dropped at random moments (during setup, after a random hold, with
 * and without a close handshake). Sessions/s, and the residue once it is over: gateway sessions and
 * actors, sandbox exec streams and processes, and the gateway's main-thread heap after a forced GC
 * (read through the V8 inspector, so it needs nothing from the gateway).
 */
import { type Agent, split } from '../lib/agents.js';
import { heapAfterGc, metric } from '../lib/metrics.js';
import { rssBytes } from '../lib/procfs.js';
import type { Cell, TargetCheck } from '../lib/results.js';
import { MiB, round } from '../lib/stats.js';
import type { ChurnResult } from '../load/drivers.js';
import { type Ctx, ECHO, type ScenarioBody, gatewaySettled, gatewayVariants, podtermConn, sandboxSettled, sleep, withGateway } from './context.js';

export async function churn(ctx: Ctx): Promise<ScenarioBody> {
  const { opts } = ctx;
  const n = opts.sessions[0] ?? 10000;
  const rows: Cell[][] = [];
  const notes: string[] = [];
  const targets: TargetCheck[] = [];
  const agentCount = opts.agents ?? (n >= 2000 ? 2 : 1);
  for (const [label, workers] of gatewayVariants(opts)) {
    ctx.log(`churn: ${label}, ${n} sessions`);
    const r = await withGateway(ctx, workers, agentCount, async (gw, agents) => {
      if (!gw.inspectorUrl) throw new Error('bench: the gateway did not print its inspector URL');
      // Warm up (lazy allocations, JIT) before the baseline, so the residue is growth, not first use.
      await Promise.all(agents.map((a) => a.call('churn', { conn: podtermConn(gw), target: ECHO, count: 50, concurrency: 10, maxHoldMs: 50, timeoutMs: 60000 }, 90000)));
      await gatewaySettled(gw, 20000);
      await sandboxSettled(ctx, 20000);
      const heap0 = await heapAfterGc(gw.inspectorUrl);
      const rss0 = rssBytes(gw.pid);
      const m0 = await gw.metrics();
      const parts = split(n, agents.length);
      const res = await Promise.all(
        agents.map((a: Agent, i) => a.call<ChurnResult>('churn', { conn: podtermConn(gw), target: ECHO, count: parts[i], concurrency: Math.ceil(opts.concurrency / agents.length), maxHoldMs: opts.holdMs, timeoutMs: 600000 }, 660000)),
      );
      const settleStart = Date.now();
      const g = await gatewaySettled(gw, 30000);
      const s = await sandboxSettled(ctx, 30000).catch(async () => {
        const m = await ctx.sandbox.metrics();
        return { exec: metric(m, 'sandbox_exec_active'), processes: metric(m, 'sandbox_processes_active') };
      });
      const settleMs = Date.now() - settleStart;
      await sleep(500);
      const heap1 = await heapAfterGc(gw.inspectorUrl);
      const rss1 = rssBytes(gw.pid);
      const m1 = await gw.metrics();
      const sum = (k: keyof ChurnResult): number => res.reduce((t, x) => t + (x[k] as number), 0);
      return {
        opened: sum('opened'), started: sum('started'), early: sum('droppedBeforeStart'), abrupt: sum('droppedAbrupt'),
        failed: sum('failed'), notEnded: sum('notEnded'), errors: res.flatMap((x) => x.errors).slice(0, 5),
        wallMs: Math.max(...res.map((x) => x.wallMs)), g, s, settleMs, heap0, heap1, rss0, rss1,
        total: metric(m1, 'podterm_sessions_total') - metric(m0, 'podterm_sessions_total'),
      };
    }, { nodeArgs: ['--inspect=127.0.0.1:0'] });
    const heapGrowth = r.heap1 - r.heap0;
    rows.push([label, r.opened, r.started, r.early, r.abrupt, r.failed, round(r.opened / (r.wallMs / 1000), 0), r.g.sessions, r.g.actors, r.g.execStreams, r.s.exec, r.s.processes, round(r.heap0 / MiB, 2), round(r.heap1 / MiB, 2), round((r.rss1 - r.rss0) / MiB, 1)]);
    notes.push(`${label}: residue read ${round(r.settleMs / 1000, 1)} s after the last drop; podterm_sessions_total grew by ${r.total}; ${r.notEnded} client sockets did not see their end within 15 s.`);
    if (r.errors.length) notes.push(`${label}: failures, e.g. ${r.errors.join('; ')}`);
    const zero = r.g.sessions === 0 && r.g.actors === 0 && r.g.execStreams === 0 && r.s.exec === 0 && r.s.processes === 0;
    targets.push({ name: `${label}: residue after ${n} sessions`, target: '0 sessions/actors/gateway exec sockets/sandbox exec streams/sandbox processes', measured: `${r.g.sessions}/${r.g.actors}/${r.g.execStreams}/${r.s.exec}/${r.s.processes}`, met: zero });
    targets.push({ name: `${label}: main-thread heap after GC`, target: 'within 5 MB of the start', measured: `${round(heapGrowth / 1e6, 2)} MB`, met: Math.abs(heapGrowth) <= 5e6 });
  }
  return {
    params: { sessions: n, concurrency: opts.concurrency, maxHoldMs: opts.holdMs },
    tables: [{ title: `churn (${n} sessions to load/echo, ≤ ${opts.concurrency} alive, hold 0–${opts.holdMs} ms)`, columns: ['variant', 'opened', 'started', 'dropped in setup', 'dropped abruptly', 'failed', 'sessions/s', 'sessions left', 'actors left', 'gateway exec sockets left', 'sandbox exec streams left', 'sandbox processes left', 'heap start MiB', 'heap end MiB', 'RSS growth MiB'], rows }],
    targets,
    notes: [...notes, 'About 15 % of sessions are dropped during setup (0–5 ms after connecting), a third of all drops have no close handshake; heap = V8 used heap of the main thread after two forced GCs (inspector HeapProfiler.collectGarbage).'],
  };
}
