/**
 * capacity: N idle sessions on one gateway. Setup rate, gateway RSS per session (whole process, all
 * threads, /proc VmRSS), main-thread responsiveness; beside it, in the same run, the floor (one bare
 * TLS WebSocket client connection, RSS delta / N in one process) and kubectl-per-session RSS.
 */
import { type Agent, split } from '../lib/agents.js';
import { heapUsageAfterGc, metric } from '../lib/metrics.js';
import { HealthProbe } from '../lib/probe.js';
import { cpuSeconds, fdCount, nofile, rssBytes, sumRss, systemBusySeconds } from '../lib/procfs.js';
import type { Cell, TargetCheck } from '../lib/results.js';
import { KiB, round, summarize } from '../lib/stats.js';
import { type Ctx, ECHO, type ScenarioBody, gatewayVariants, podtermConn, sleep, withAgents, withGateway } from './context.js';

/**
 * The gateway's monitorEventLoopDelay runs at a 20 ms resolution and its samples include that
 * interval (an idle gateway reads ~20 ms), so the table shows max − 20 ms.
 */
const LAG_RESOLUTION_MS = 20;

interface OpenReply { opened: number; failed: number; errors: string[]; setupMs: number[]; wallMs: number; lastOkMs: number }

export async function openSpread(agents: Agent[], conn: unknown, n: number, concurrency: number): Promise<{ opened: number; failed: number; errors: string[]; wallMs: number; setup: ReturnType<typeof summarize> }> {
  const parts = split(n, agents.length);
  const replies = await Promise.all(
    agents.map((a, i) => a.call<OpenReply>('open', { conn, target: ECHO, count: parts[i], concurrency, timeoutMs: 90000 }, 120000)),
  );
  return {
    opened: replies.reduce((s, r) => s + r.opened, 0),
    failed: replies.reduce((s, r) => s + r.failed, 0),
    errors: replies.flatMap((r) => r.errors).slice(0, 5),
    // Rate over the sessions that opened: a few that hang until the setup timeout (at the
    // open-files limit) must not turn 10,000 fast setups into a slow average.
    wallMs: Math.max(...replies.map((r) => r.lastOkMs)),
    setup: summarize(replies.flatMap((r) => r.setupMs)),
  };
}

export async function capacity(ctx: Ctx): Promise<ScenarioBody> {
  const { opts } = ctx;
  const rows: Cell[][] = [];
  const notes: string[] = [];
  const targets: TargetCheck[] = [];
  const floorPerSession = new Map<number, number>();
  const podtermPerSession = new Map<number, number>();
  const rates = new Map<number, number>();

  for (const n of opts.sessions) {
    // Agents: at most ~5,000 sockets each (fd limit, and one core's worth of client work).
    const agentCount = opts.agents ?? Math.max(1, Math.ceil(n / 5000));
    if (opts.variants.has('floor')) {
      ctx.log(`capacity: floor, ${n} bare TLS WebSocket connections from one process`);
      const r = await withAgents(ctx, 1, async ([a]) => {
        const agent = a as Agent;
        const before = await agent.call<number>('rss', {}, 30000);
        const o = await openSpread([agent], { kind: 'tls-ws', kubeconfig: ctx.sandbox.kubeconfig }, n, opts.concurrency);
        await sleep(1000);
        const after = await agent.call<number>('rss', {}, 30000);
        await agent.call('close', { timeoutMs: 30000 }, 60000);
        return { ...o, perSession: (after - before) / Math.max(1, o.opened) };
      });
      floorPerSession.set(n, r.perSession);
      rows.push(['floor: bare TLS WebSocket (ws)', n, r.opened, r.failed, round(r.opened / (r.wallMs / 1000), 0), round(r.setup.p50, 1), round(r.setup.p99, 1), round(r.perSession / KiB, 1), null, null, null, null, null]);
      if (r.errors.length) notes.push(`floor ${n}: errors: ${r.errors.join('; ')}`);
    }
    for (const [label, workers] of gatewayVariants(opts)) {
      ctx.log(`capacity: ${label}, ${n} idle sessions, ${agentCount} agent(s)`);
      const r = await withGateway(ctx, workers, agentCount, async (gw, agents) => {
        await sleep(1000);
        const inspector = gw.inspectorUrl;
        if (!inspector) throw new Error('bench: the gateway did not print its inspector URL');
        const beforeNoGc = rssBytes(gw.pid);
        // Read after a full GC of every thread, as the floor's agent reads its own (agent.ts gcRss):
        // otherwise each thread's young generation, full of the setup's garbage, counts as sessions.
        await heapUsageAfterGc(inspector, 30000, true);
        const before = rssBytes(gw.pid);
        // Each scrape resets the gateway's event-loop delay histogram: the next one covers one window.
        await gw.metrics();
        const probe = new HealthProbe(gw.httpUrl, gw.httpAgent).start();
        // CPU spent by each party while the sessions are set up: where the setup time goes.
        const parties = { gateway: [gw.pid], sandbox: [ctx.sandbox.child.pid], 'load generator': agents.map((a) => a.pid) };
        const cpu0 = Object.values(parties).map((ps) => ps.reduce((t, p) => t + cpuSeconds(p), 0));
        const sys0 = systemBusySeconds();
        const o = await openSpread(agents, podtermConn(gw), n, opts.concurrency);
        const cpuMs = Object.values(parties).map((ps, i) => ((ps.reduce((t, p) => t + cpuSeconds(p), 0) - (cpu0[i] as number)) * 1000) / Math.max(1, o.opened));
        const sysMs = ((systemBusySeconds() - sys0) * 1000) / Math.max(1, o.opened);
        const setupProbe = probe.stop();
        const mSetup = await gw.metrics();
        await sleep(2000);
        await gw.metrics();
        const idleProbe = new HealthProbe(gw.httpUrl, gw.httpAgent).start();
        await sleep(3000);
        const idle = idleProbe.stop();
        const afterNoGc = rssBytes(gw.pid);
        await heapUsageAfterGc(inspector, 30000, true);
        const after = rssBytes(gw.pid);
        const fds = { gateway: fdCount(gw.pid), sandbox: fdCount(ctx.sandbox.child.pid) };
        const m = await gw.metrics();
        const sb = await ctx.sandbox.metrics();
        const lag = {
          setupMean: metric(mSetup, 'nodejs_eventloop_lag_seconds') * 1000,
          setupMax: metric(mSetup, 'nodejs_eventloop_lag_max_seconds') * 1000,
          idleMean: metric(m, 'nodejs_eventloop_lag_seconds') * 1000,
          idleMax: metric(m, 'nodejs_eventloop_lag_max_seconds') * 1000,
        };
        for (const a of agents) await a.call('close', { timeoutMs: 60000 }, 90000);
        return {
          ...o,
          before,
          after,
          perSession: (after - before) / Math.max(1, o.opened),
          perSessionNoGc: (afterNoGc - beforeNoGc) / Math.max(1, o.opened),
          active: metric(m, 'podterm_sessions_active'),
          actors: metric(m, 'podterm_actors_active'),
          sandboxExec: metric(sb, 'sandbox_exec_active'),
          lag,
          fds,
          cpuText: Object.keys(parties).map((k, i) => `${k} ${round(cpuMs[i] as number, 2)}`).join(', ') + `, whole machine ${round(sysMs, 2)}`,
          setupProbe,
          idle,
        };
      }, { nodeArgs: ['--inspect=127.0.0.1:0'] });
      podtermPerSession.set(n, Math.max(podtermPerSession.get(n) ?? 0, workers === opts.workers ? r.perSession : 0));
      if (workers === opts.workers) rates.set(n, r.opened / (r.wallMs / 1000));
      rows.push([label, n, r.opened, r.failed, round(r.opened / (r.wallMs / 1000), 0), round(r.setup.p50, 1), round(r.setup.p99, 1), round(r.perSession / KiB, 1), round(r.after / 2 ** 20, 0), round(r.lag.setupMax - LAG_RESOLUTION_MS, 1), round(r.setupProbe.p99, 1), round(r.idle.p99, 1), round(r.perSessionNoGc / KiB, 1)]);
      notes.push(`${label} at ${n}: gateway RSS ${round(r.before / 2 ** 20, 1)} → ${round(r.after / 2 ** 20, 1)} MiB; metrics with all open: sessions_active ${r.active}, actors_active ${r.actors}, sandbox_exec_active ${r.sandboxExec}; event-loop delay (gateway metric) during setup mean ${round(r.lag.setupMean, 2)} / max ${round(r.lag.setupMax, 1)} ms, idle mean ${round(r.lag.idleMean, 2)} / max ${round(r.lag.idleMax, 1)} ms; /healthz p50 during setup ${round(r.setupProbe.p50, 1)} ms; CPU ms per session set up: ${r.cpuText}; open fds with all sessions open: gateway ${r.fds.gateway}, sandbox ${r.fds.sandbox} (RLIMIT_NOFILE ${nofile()}).`);
      if (r.errors.length) notes.push(`${label} at ${n}: ${r.failed} failed, e.g. ${r.errors.join('; ')}`);
    }
  }

  if (opts.variants.has('kubectl')) {
    const m = Math.min(opts.kubectlMax, Math.max(...opts.sessions));
    ctx.log(`capacity: kubectl per session, ${m} idle kubectl exec -it processes`);
    const r = await withAgents(ctx, 1, async ([a]) => {
      const agent = a as Agent;
      const o = await openSpread([agent], { kind: 'kubectl', kubeconfig: ctx.sandbox.kubeconfig }, m, 10);
      await sleep(3000); // kubectl connects after discovery; let every one reach its steady state
      const pids = await agent.call<number[]>('pids', {}, 10000);
      const total = sumRss(pids);
      await agent.call('close', { timeoutMs: 30000 }, 60000);
      return { ...o, perSession: total / Math.max(1, pids.length) };
    });
    rows.push(['kubectl exec -it per session', m, r.opened, r.failed, round(r.opened / (r.wallMs / 1000), 0), null, null, round(r.perSession / KiB, 1), null, null, null, null, null]);
    notes.push('kubectl: memory per session is the sum of the kubectl processes\' RSS / sessions (the PTY host process not counted); setup rate counts process start only.');
  }

  for (const n of opts.sessions) {
    const floor = floorPerSession.get(n);
    const pt = podtermPerSession.get(n);
    if (floor !== undefined && pt !== undefined && pt > 0) {
      targets.push({ name: `memory per idle session, ${n} sessions`, target: `≤ 1.15 × floor (${round((1.15 * floor) / KiB, 1)} KiB)`, measured: `${round(pt / KiB, 1)} KiB (${round(pt / floor, 2)} × floor)`, met: pt <= 1.15 * floor });
    }
    const rate = rates.get(n);
    if (rate !== undefined) targets.push({ name: `setup rate, ${n} sessions`, target: '≥ 500 sessions/s', measured: `${round(rate, 0)} sessions/s`, met: rate >= 500 });
  }
  notes.push('RSS per session = (gateway VmRSS with all sessions open and idle − VmRSS before) / sessions opened, each read after a full GC of every thread (the gateway runs with --inspect; workers through the NodeWorker domain), as the floor\'s agent reads its own after gc(); the last column reads the gateway without the forced GCs (how this table was measured before 2026-12-01b), when each thread\'s young generation still held the setup\'s garbage; /healthz columns are answer times of a probe run during setup and during idle.');
  return {
    params: { sessions: opts.sessions, concurrency: opts.concurrency, kubectlMax: opts.kubectlMax },
    tables: [{ title: 'idle sessions', columns: ['variant', 'sessions', 'opened', 'failed', 'setup /s', 'setup p50 ms', 'setup p99 ms', 'RSS / session KiB', 'gateway RSS MiB', 'event-loop delay max in setup ms (metric − 20)', '/healthz p99 in setup ms', '/healthz p99 idle ms', 'RSS / session KiB, no forced GC'], rows }],
    targets,
    notes,
  };
}
