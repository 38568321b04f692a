/**
 * churn-resume: the churn soak with resume on (issue 10, "Tests" and "Cost"), in one run:
 * - soak: N sessions on a gateway with `--detach-grace-ms G` (G small, so expiries happen within the
 *   run), each with a random fate — ended by its owner, dropped and resumed one to three times,
 *   dropped for good (the grace ends it), resumed too late (SessionGone), dropped in setup — see
 *   bench/load/resume-driver.ts; about 30 % of them are watched through a share link by one or two
 *   watchers that join and leave at random (some links revoked while watched), each watcher's end
 *   checked — see bench/load/observer-driver.ts. Residue after each round, once the grace has passed: sessions, actors, exec
 *   sockets, replay rings, timers (against the warmed-up baseline), sandbox exec streams and
 *   processes, and the main-thread heap after a forced GC (as churn reads it).
 * - cost, side by side: a gateway with `--detach-grace-ms 300000` and one with `0`: gateway RSS per
 *   idle session (each echoed one prompt line, so a resumable one holds a ring segment), one flood's
 *   MB/s, and (resume on only) a resume of a session whose ring is full: ms to its first replay frame.
 */
import { type Agent, split } from '../lib/agents.js';
import { poll } from '../lib/children.js';
import type { GatewayHandle } from '../lib/cluster.js';
import { heapAfterGc, metric } from '../lib/metrics.js';
import { rssBytes } from '../lib/procfs.js';
import type { Cell, Table, TargetCheck } from '../lib/results.js';
import { KiB, MiB, round, summarize } from '../lib/stats.js';
import type { FloodResult } from '../load/drivers.js';
import type { ResumeChurnResult, ResumeLatency } from '../load/resume-driver.js';
import { type Ctx, ECHO, type ScenarioBody, flood, sandboxResidue, sandboxSettled, sleep, withGateway } from './context.js';

interface Residue { sessions: number; actors: number; execStreams: number; replayBuffers: number; timers: number }

async function residue(gw: GatewayHandle): Promise<Residue> {
  const m = await gw.metrics();
  return {
    sessions: metric(m, 'podterm_sessions_active'), actors: metric(m, 'podterm_actors_active'), execStreams: metric(m, 'podterm_exec_streams_active'),
    replayBuffers: metric(m, 'podterm_replay_buffers_active'), timers: metric(m, 'podterm_timers_active'),
  };
}

/** Waits until nothing of a session is left and the timers are back to `timers0`; returns the last reading. */
async function settled(gw: GatewayHandle, timers0: number, timeoutMs: number): Promise<Residue> {
  let last = await residue(gw);
  const clean = (r: Residue): boolean => r.sessions === 0 && r.actors === 0 && !(r.execStreams > 0) && r.replayBuffers === 0 && r.timers <= timers0;
  try {
    return await poll('the gateway to drain', async () => ((last = await residue(gw)), clean(last) ? last : undefined), timeoutMs, 200);
  } catch {
    return last;
  }
}

const conn = (gw: GatewayHandle): { wsUrl: string; token: string } => ({ wsUrl: gw.wsUrl, token: gw.token });

async function soak(ctx: Ctx, tables: Table[], targets: TargetCheck[], notes: string[]): Promise<void> {
  const { opts } = ctx;
  const n = opts.sessions[0] ?? 10000;
  const grace = opts.graceMs;
  const agentCount = opts.agents ?? (n >= 2000 ? 2 : 1);
  const label = `podterm --workers ${opts.workers} --detach-grace-ms ${grace}`;
  const watching = `${round(opts.watchRate * 100, 0)} % watched`;
  ctx.log(`churn-resume: soak, ${label}, ${n} sessions`);
  const rows: Cell[][] = [];
  const rounds = await withGateway(ctx, opts.workers, agentCount, async (gw, agents) => {
    const inspector = gw.inspectorUrl;
    if (!inspector) throw new Error('bench: the gateway did not print its inspector URL');
    const call = (a: Agent, count: number, concurrency: number, timeoutMs: number): Promise<ResumeChurnResult> =>
      a.call<ResumeChurnResult>('resumeChurn', { conn: conn(gw), target: ECHO, count, concurrency, maxHoldMs: opts.holdMs, graceMs: grace, watchRate: opts.watchRate, timeoutMs }, timeoutMs + 60000);
    // Warm up every path (resume, expiry, late) before the baseline, so the residue is growth.
    await Promise.all(agents.map((a) => call(a, Math.min(60, n), 10, 120000)));
    const base = await settled(gw, Number.POSITIVE_INFINITY, grace + 30000);
    await sandboxSettled(ctx, 20000);
    await sleep(500);
    const timers0 = (await residue(gw)).timers;
    let heap = await heapAfterGc(inspector);
    let rss = rssBytes(gw.pid);
    let m0 = await gw.metrics();
    const out = [];
    for (let round = 1; round <= opts.rounds; round++) {
      const parts = split(Math.ceil(n / opts.rounds), agents.length);
      const res = await Promise.all(agents.map((a, i) => call(a, parts[i] as number, Math.ceil(opts.concurrency / agents.length), 1800000)));
      const t = Date.now();
      const g = await settled(gw, timers0, grace + 60000);
      const s = await sandboxResidue(ctx, 30000);
      const settleMs = Date.now() - t;
      await sleep(500);
      const heap1 = await heapAfterGc(inspector);
      const rss1 = rssBytes(gw.pid);
      const m1 = await gw.metrics();
      // The last resort (supervisor.ts): an actor that misses its close deadline gets its worker
      // recycled, and the other sessions on that worker end with Internal. Counted apart.
      const grew = (k: string): number => metric(m1, k) - metric(m0, k);
      const misses = grew('podterm_close_deadline_misses_total');
      const recycles = grew('podterm_worker_recycles_total');
      const recycled = grew('podterm_worker_recycle_sessions_total');
      m0 = m1;
      const sum = (k: keyof ResumeChurnResult): number => res.reduce((x, r) => x + (r[k] as number), 0);
      out.push({
        round, res, sum, g, s, settleMs, misses, recycles, recycled, heap0: heap, heap1, rss0: rss, rss1, timers0,
        wallMs: Math.max(...res.map((x) => x.wallMs)), errors: res.flatMap((x) => x.errors).slice(0, 5), watcherErrors: res.flatMap((x) => x.watcherErrors).slice(0, 5),
      });
      heap = heap1;
      rss = rss1;
    }
    notes.push(`soak: after the warm-up the gateway read ${JSON.stringify(base)}; timers baseline ${timers0} (ref'd timers only: unref()'d ones are not listed by Node).`);
    return out;
  }, { nodeArgs: ['--inspect=127.0.0.1:0'], extraArgs: ['--detach-grace-ms', String(grace)] });
  for (const r of rounds) {
    const f = r.sum;
    rows.push([`round ${r.round}/${rounds.length}`, f('opened'), f('started'), f('ended'), f('resumedSessions'), f('resumes'), f('expired'), f('late'), f('droppedBeforeStart'), f('failed') + f('resumeFailed') + f('lateNotGone'), f('internal'), r.recycles, f('echoLost'),
      f('shares'), f('revokes'), f('watchers'), f('watchersJoined'), f('watchersExpected'), f('watchersRevoked'), f('watcherFailures'), f('watcherTyped'), round(f('opened') / (r.wallMs / 1000), 0),
      r.g.sessions, r.g.actors, r.g.execStreams, r.g.replayBuffers, `${r.g.timers}/${r.timers0}`, r.s.exec, r.s.processes, round(r.heap0 / MiB, 2), round(r.heap1 / MiB, 2), round((r.rss1 - r.rss0) / MiB, 1)]);
    notes.push(`soak round ${r.round}: ${r.misses} actors missed their close deadline (5 s), ${r.recycles} worker recycles ending ${r.recycled} sessions with Internal (the failures below are those); ${f('watcherInternal')} watchers ended with Internal (counted apart from watcher failures); ${f('watcherGoneNoFrame')} watchers closed with 4411 without a SessionGone error frame first (among the watcher failures).`);
    notes.push(`soak round ${r.round}: residue read ${round(r.settleMs / 1000, 1)} s after the last session's end (the grace is ${grace} ms); ${f('notEnded')} client sockets did not see their end within 15 s; wall ${round(r.wallMs / 1000, 1)} s.`);
    if (r.errors.length) notes.push(`soak round ${r.round}: failures, e.g. ${r.errors.join('; ')}`);
    if (r.watcherErrors.length) notes.push(`soak round ${r.round}: watcher failures, e.g. ${r.watcherErrors.join('; ')}`);
  }
  tables.push({
    title: `churn-resume soak (${n} sessions to load/echo, ${label}, ≤ ${opts.concurrency} alive, hold 0–${opts.holdMs} ms, ${watching})`,
    columns: ['round', 'opened', 'started', 'ended by owner', 'resumed (sessions)', 'resumes', 'left to expire', 'resumed too late', 'dropped in setup', 'failed', 'ended with Internal (worker recycled)', 'worker recycles', 'echo lost after resume',
      'shares made', 'links revoked while watched', 'watchers (joins tried)', 'watchers joined', 'watchers ended as expected', 'of those cut by a revoke (4411)', 'watcher failures', 'watcher keystrokes that reached the pod', 'sessions/s',
      'sessions left', 'actors left', 'exec sockets left', 'replay rings left', 'timers now/baseline', 'sandbox exec streams left', 'sandbox processes left', 'main heap before MiB', 'main heap after MiB', 'RSS growth in round MiB'],
    rows,
  });
  const first = rounds[0];
  const last = rounds[rounds.length - 1];
  if (!first || !last) return;
  const total = rounds.reduce((t, r) => t + r.sum('opened'), 0);
  const g = last.g;
  const zero = g.sessions === 0 && g.actors === 0 && !(g.execStreams > 0) && g.replayBuffers === 0 && g.timers <= last.timers0 && last.s.exec === 0 && last.s.processes === 0;
  targets.push({ name: `resume soak: residue after ${total} sessions`, target: '0 sessions/actors/exec sockets/replay rings, timers at baseline, 0 sandbox exec streams/processes', measured: `${g.sessions}/${g.actors}/${g.execStreams}/${g.replayBuffers}, timers ${g.timers} (baseline ${last.timers0}), ${last.s.exec}/${last.s.processes}`, met: zero });
  const bad = rounds.reduce((t, r) => t + r.sum('failed') + r.sum('resumeFailed') + r.sum('lateNotGone'), 0);
  const collateral = rounds.reduce((t, r) => t + r.sum('internal'), 0);
  targets.push({ name: 'resume soak: every resume in grace came back, every late one was SessionGone', target: '0 failures (sessions ended by a worker recycle counted apart)', measured: `${bad} (and ${collateral} ended with Internal by ${rounds.reduce((t, r) => t + r.recycles, 0)} worker recycles)`, met: bad === 0 });
  const watched = (k: keyof ResumeChurnResult): number => rounds.reduce((t, r) => t + r.sum(k), 0);
  targets.push({
    name: 'resume soak: every watcher ended as expected (left, SessionGone after a revoke or the session\'s end, Exited); none could type',
    target: '0 watcher failures, 0 keystrokes through',
    measured: `${watched('watcherFailures')} failures (${watched('watcherTyped')} keystrokes through) of ${watched('watchers')} watchers on ${watched('shares')} links (${watched('watchersJoined')} joined, ${watched('revokes')} links revoked while watched)`,
    met: watched('watcherFailures') === 0 && (watched('watchers') > 0 || opts.watchRate === 0),
  });
  const growth = last.heap1 - first.heap0;
  targets.push({ name: 'resume soak: main-thread heap after GC', target: 'within 5 MB of the start', measured: `${round(growth / 1e6, 2)} MB`, met: Math.abs(growth) <= 5e6 });
}

interface CostRun { grace: number; idle: { opened: number; failed: number; perSession: number; rings: number }; flood: { mbps: number; bytes: number }; resume: ResumeLatency | undefined }

async function cost(ctx: Ctx, tables: Table[], targets: TargetCheck[], notes: string[]): Promise<void> {
  const { opts } = ctx;
  const idleN = opts.idleSessions;
  const runs: CostRun[] = [];
  // A-B-B-A: each variant once early and once late in the run, so a machine that gets busier or
  // quieter while it runs (this one is shared) does not favour either side.
  for (const grace of [0, 300000, 300000, 0]) {
    ctx.log(`churn-resume: cost, --detach-grace-ms ${grace}: ${idleN} idle sessions, one flood of ${opts.bytes} bytes${grace > 0 ? ', resumes of a full ring' : ''}`);
    runs.push(await withGateway(ctx, opts.workers, 1, async (gw, [agent]) => {
      const a = agent as Agent;
      await sleep(1000);
      const before = rssBytes(gw.pid);
      const o = await a.call<{ opened: number; failed: number; errors: string[] }>('openIdle', { conn: conn(gw), target: ECHO, count: idleN, concurrency: Math.min(50, opts.concurrency) }, 600000);
      await sleep(2000);
      const after = rssBytes(gw.pid);
      const rings = metric(await gw.metrics(), 'podterm_replay_buffers_active');
      await a.call('close', { timeoutMs: 60000 }, 90000);
      // The flood starts on a quiet gateway: 1,000 closes (each with its kill-on-close exec) take a while.
      const t0 = Date.now();
      const g = await settled(gw, Number.POSITIVE_INFINITY, 60000);
      const s = await sandboxResidue(ctx, 30000);
      // The flood is measured on a quiet gateway only if this settled: say what was left when not.
      const left = `gateway ${JSON.stringify(g)}, sandbox ${JSON.stringify(s)}, after ${Date.now() - t0} ms`;
      ctx.log(`churn-resume: cost, --detach-grace-ms ${grace}: after the idle sessions closed: ${left}`);
      if (g.sessions + g.actors + g.replayBuffers + (g.execStreams || 0) + s.exec + s.processes > 0) notes.push(`cost, grace ${grace}: the flood started before everything had settled: ${left}`);
      await sleep(1000);
      if (o.errors.length) notes.push(`cost, grace ${grace}: idle sessions failed: ${o.errors.join('; ')}`);
      const f = (await a.call<FloodResult[]>('flood', { conn: { kind: 'podterm', wsUrl: gw.wsUrl, token: gw.token }, target: flood(opts.bytes), count: 1, concurrency: 1, timeoutMs: 300000, plan: { mode: 'fast' }, hash: false }, 320000))[0]!;
      if (f.end.error || f.bytes < opts.bytes) notes.push(`cost, grace ${grace}: the flood got ${f.bytes} of ${opts.bytes} bytes (${f.end.error ?? `exit ${f.end.exitCode}`})`);
      const resume = grace > 0 ? await a.call<ResumeLatency>('resumeLatency', { conn: conn(gw), target: ECHO, fillBytes: opts.fillBytes, times: opts.resumes }, 300000) : undefined;
      return { grace, idle: { opened: o.opened, failed: o.failed, perSession: (after - before) / Math.max(1, o.opened), rings }, flood: { mbps: f.bytes / 1e6 / ((f.lastMs - f.firstMs) / 1000), bytes: f.bytes }, resume };
    }, { extraArgs: ['--detach-grace-ms', String(grace)] }));
  }
  const mean = (grace: number, pick: (r: CostRun) => number): number => {
    const xs = runs.filter((r) => r.grace === grace).map(pick);
    return xs.reduce((t, x) => t + x, 0) / xs.length;
  };
  const off = { idle: { perSession: mean(0, (r) => r.idle.perSession) }, flood: { mbps: mean(0, (r) => r.flood.mbps) } };
  const on = { idle: { perSession: mean(300000, (r) => r.idle.perSession) }, flood: { mbps: mean(300000, (r) => r.flood.mbps) } };
  const rows: Cell[][] = runs.map((r, i) => [`${i + 1}. --detach-grace-ms ${r.grace}`, r.idle.opened, r.idle.failed, round(r.idle.perSession / KiB, 2), r.idle.rings, round(r.flood.bytes / 1e6, 1), round(r.flood.mbps, 1)]);
  rows.push(['mean, --detach-grace-ms 0', null, null, round(off.idle.perSession / KiB, 2), null, null, round(off.flood.mbps, 1)]);
  rows.push(['mean, --detach-grace-ms 300000', null, null, round(on.idle.perSession / KiB, 2), null, null, round(on.flood.mbps, 1)]);
  tables.push({ title: `cost of resume, side by side (--workers ${opts.workers})`, columns: ['variant', 'idle sessions', 'failed', 'gateway RSS / idle session KiB', 'replay rings with all open', 'flood MB', 'one flood MB/s'], rows });
  const memRatio = on.idle.perSession / off.idle.perSession;
  targets.push({ name: 'memory per idle session, resume on vs off', target: 'within 5 %', measured: `${round(on.idle.perSession / KiB, 2)} vs ${round(off.idle.perSession / KiB, 2)} KiB (${round((memRatio - 1) * 100, 1)} %)`, met: Math.abs(memRatio - 1) <= 0.05 });
  const floodRatio = on.flood.mbps / off.flood.mbps;
  targets.push({ name: 'one flood, resume on vs off', target: 'within 10 %', measured: `${round(on.flood.mbps, 1)} vs ${round(off.flood.mbps, 1)} MB/s (${round((floodRatio - 1) * 100, 1)} %)`, met: floodRatio >= 0.9 });
  const withResume = runs.filter((r) => r.resume !== undefined).map((r) => r.resume as ResumeLatency);
  const lat: ResumeLatency | undefined = withResume.length === 0 ? undefined : {
    startedMs: withResume.flatMap((x) => x.startedMs), firstReplayMs: withResume.flatMap((x) => x.firstReplayMs),
    replayBytes: withResume.flatMap((x) => x.replayBytes), errors: withResume.flatMap((x) => x.errors),
  };
  if (lat && lat.firstReplayMs.length > 0) {
    const first = summarize(lat.firstReplayMs);
    const started = summarize(lat.startedMs);
    tables.push({
      title: `resume of a session with a full replay ring (${opts.fillBytes} bytes echoed; --replay-bytes default), ${lat.firstReplayMs.length} resumes`,
      columns: ['measure', 'p50 ms', 'p99 ms', 'max ms'],
      rows: [['socket created → Started', round(started.p50, 1), round(started.p99, 1), round(started.max, 1)], ['socket created → first replay frame', round(first.p50, 1), round(first.p99, 1), round(first.max, 1)]],
    });
    notes.push(`resume: bytes replayed per resume ${[...new Set(lat.replayBytes)].join(', ')}; the time includes the TCP connect, the upgrade with its token check and the Started frame.${lat.errors.length ? ` Errors: ${lat.errors.join('; ')}` : ''}`);
    targets.push({ name: 'resume with a full replay ring: first replay frame', target: '≤ 50 ms (p99 of the resumes)', measured: `p50 ${round(first.p50, 1)} ms, p99 ${round(first.p99, 1)} ms, max ${round(first.max, 1)} ms`, met: first.p99 <= 50 });
  } else {
    targets.push({ name: 'resume with a full replay ring: first replay frame', target: '≤ 50 ms', measured: `not measured: ${lat?.errors.join('; ') ?? 'no run'}`, met: null });
  }
  notes.push('cost: RSS per idle session = (gateway VmRSS with all idle sessions open − before) / sessions, whole process; RSS moves with the allocator, so a few % either way is within its noise at this size.');
}

export async function churnResume(ctx: Ctx): Promise<ScenarioBody> {
  const { opts } = ctx;
  const tables: Table[] = [];
  const targets: TargetCheck[] = [];
  const notes: string[] = [];
  if (opts.parts.has('soak')) await soak(ctx, tables, targets, notes);
  if (opts.parts.has('cost')) await cost(ctx, tables, targets, notes);
  return {
    params: { sessions: opts.sessions[0], rounds: opts.rounds, concurrency: opts.concurrency, maxHoldMs: opts.holdMs, graceMs: opts.graceMs, idleSessions: opts.idleSessions, floodBytes: opts.bytes, fillBytes: opts.fillBytes, resumes: opts.resumes, workers: opts.workers, parts: [...opts.parts] },
    tables,
    targets,
    notes,
  };
}
