/**
 * What every scenario gets: parsed options, the process set, the sandbox, and helpers to run a
 * gateway variant from start to stop with a readiness wait and a settle check.
 */
import type { Agent } from '../lib/agents.js';
import { startAgents } from '../lib/agents.js';
import { type ChildSet, poll } from '../lib/children.js';
import { type GatewayHandle, type SandboxHandle, startGateway } from '../lib/cluster.js';
import { metric } from '../lib/metrics.js';
import type { ScenarioResult } from '../lib/results.js';
import type { Conn, Target } from '../load/session.js';

export interface BenchOptions {
  sessions: number[];
  typists: number[];
  durationS: number;
  /** The gateway's worker count for the "podterm" variant (0 is the "podterm-w0" variant). */
  workers: number;
  variants: Set<string>;
  agents: number | undefined;
  /** Total bytes per throughput run (split over the sessions). */
  bytes: number;
  shellBytes: number;
  kubectlMax: number;
  concurrency: number;
  rate: number;
  phaseS: number;
  boundMb: number;
  readBps: number;
  holdMs: number;
  /** churn: rounds the sessions are split into (residue is read after each). */
  rounds: number;
  /** churn-resume: the soak's --detach-grace-ms, idle sessions per cost variant, bytes echoed to fill a ring, resumes timed, parts run. */
  graceMs: number;
  idleSessions: number;
  fillBytes: number;
  resumes: number;
  parts: Set<string>;
  /** churn-resume soak: the fraction of sessions watched through a share link (observer-driver.ts). */
  watchRate: number;
  /** churn: seconds of quiet before each counted drift probe. */
  settleS: number;
  gatewayArgs: string[];
  clinic: { tool: 'heapprofiler' | 'doctor'; dest: string } | undefined;
  /** Extra node flags for every gateway (profiling). */
  gatewayNodeArgs: string[];
}

export interface Ctx {
  children: ChildSet;
  opts: BenchOptions;
  sandbox: SandboxHandle;
  log(msg: string): void;
}

export type ScenarioBody = Pick<ScenarioResult, 'tables' | 'targets' | 'notes' | 'params'>;
export type Scenario = (ctx: Ctx) => Promise<ScenarioBody>;

// The container is named, as the page's picker does: without it the gateway reads the pod first.
export const ECHO: Target = { namespace: 'load', pod: 'echo', container: 'main' };
export const flood = (bytes: number): Target => ({ namespace: 'load', pod: 'flood', container: 'main', command: ['flood', String(bytes)] });
export const shellOutput = (bytes: number): Target => ({
  namespace: 'default',
  pod: 'shell',
  container: 'main',
  command: ['sh', '-c', `head -c ${bytes} /dev/zero | tr '\\0' a`],
});

export function podtermConn(gw: GatewayHandle): Conn {
  return { kind: 'podterm', wsUrl: gw.wsUrl, token: gw.token };
}

/** Gateway variants in this run: [label, workers]. */
export function gatewayVariants(opts: BenchOptions): [string, number][] {
  const out: [string, number][] = [];
  if (opts.variants.has('podterm')) out.push([`podterm --workers ${opts.workers}`, opts.workers]);
  if (opts.variants.has('podterm-w0') && opts.workers !== 0) out.push(['podterm --workers 0', 0]);
  return out;
}

/** Runs fn with a fresh gateway and its agents; stops both afterwards whatever happens. */
export async function withGateway<T>(
  ctx: Ctx,
  workers: number,
  agentCount: number,
  fn: (gw: GatewayHandle, agents: Agent[]) => Promise<T>,
  extra: { nodeArgs?: string[]; extraArgs?: string[] } = {},
): Promise<T> {
  const gw = await startGateway(ctx.children, {
    kubeconfig: ctx.sandbox.kubeconfig,
    workers,
    // The bench opens many sessions with one token and closes them itself: lift the limits, no drain wait.
    extraArgs: ['--max-sessions', '100000', '--max-sessions-per-token', '100000', '--drain-grace-ms', '0', ...(extra.extraArgs ?? []), ...ctx.opts.gatewayArgs],
    nodeArgs: [...ctx.opts.gatewayNodeArgs, ...(extra.nodeArgs ?? [])],
    ...(ctx.opts.clinic ? { clinic: ctx.opts.clinic } : {}),
  });
  const agents = startAgents(ctx.children, agentCount);
  try {
    // Warm up: a few sessions through every worker, so lazily started threads and first-use
    // allocations are in the baseline, not in the figure being measured. Each ends with a 1000
    // close: a dropped one would stay detached for the grace on a gateway that has one.
    const warm = agents[0] as Agent;
    await warm.call('churn', { conn: podtermConn(gw), target: ECHO, count: Math.max(4, 2 * workers), concurrency: Math.max(2, workers), maxHoldMs: 20, timeoutMs: 30000, clean: true }, 45000);
    await gatewaySettled(gw, 10000);
    return await fn(gw, agents);
  } finally {
    for (const a of agents) await ctx.children.stop(a.child, 3000);
    if (ctx.opts.clinic && gw.pid !== gw.child.pid) {
      // clinic writes its report once the profiled process exits: stop the gateway itself with
      // SIGINT, then give clinic time to analyse before the usual stop.
      try {
        process.kill(gw.pid, 'SIGINT');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => gw.child.proc.kill('SIGKILL'), 180000);
      await gw.child.exited;
      clearTimeout(timer);
    }
    await ctx.children.stop(gw.child, 10000);
    await sandboxSettled(ctx, 20000).catch((e: Error) => ctx.log(`warning: ${e.message}`));
  }
}

/** Runs fn with agents only (baselines that need no gateway). */
export async function withAgents<T>(ctx: Ctx, agentCount: number, fn: (agents: Agent[]) => Promise<T>): Promise<T> {
  const agents = startAgents(ctx.children, agentCount);
  try {
    return await fn(agents);
  } finally {
    for (const a of agents) await ctx.children.stop(a.child, 3000);
    await sandboxSettled(ctx, 20000).catch((e: Error) => ctx.log(`warning: ${e.message}`));
  }
}

/** Waits until the sandbox has no exec stream and no process left; returns the last reading. */
export async function sandboxSettled(ctx: Ctx, timeoutMs: number): Promise<{ exec: number; processes: number }> {
  let last = { exec: NaN, processes: NaN };
  try {
    return await poll(
      'the sandbox to drain (sandbox_exec_active and sandbox_processes_active back to 0)',
      async () => {
        const m = await ctx.sandbox.metrics();
        last = { exec: metric(m, 'sandbox_exec_active'), processes: metric(m, 'sandbox_processes_active') };
        return last.exec === 0 && last.processes === 0 ? last : undefined;
      },
      timeoutMs,
      200,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last: exec ${last.exec}, processes ${last.processes}`);
  }
}

/** The sandbox's residue once it has drained, or what it still holds when it does not in time (the residue columns). */
export async function sandboxResidue(ctx: Ctx, timeoutMs: number): Promise<{ exec: number; processes: number }> {
  return sandboxSettled(ctx, timeoutMs).catch(async () => {
    const m = await ctx.sandbox.metrics();
    return { exec: metric(m, 'sandbox_exec_active'), processes: metric(m, 'sandbox_processes_active') };
  });
}

/** Waits until the gateway reports no session and no actor; returns the last reading. */
export async function gatewaySettled(gw: GatewayHandle, timeoutMs: number): Promise<{ sessions: number; actors: number; execStreams: number }> {
  let last = { sessions: NaN, actors: NaN, execStreams: NaN };
  try {
    return await poll(
      'the gateway to drain',
      async () => {
        const m = await gw.metrics();
        last = { sessions: metric(m, 'podterm_sessions_active'), actors: metric(m, 'podterm_actors_active'), execStreams: metric(m, 'podterm_exec_streams_active') };
        return last.sessions === 0 && last.actors === 0 && !(last.execStreams > 0) ? last : undefined;
      },
      timeoutMs,
      200,
    );
  } catch {
    return last;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
