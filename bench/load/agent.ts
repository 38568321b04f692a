/**
 * A load-agent process. The coordinator (bench/run.js) forks one or more of these and drives them
 * over IPC; each request runs one driver and answers with raw numbers. Agents keep no per-message
 * work beyond the protocol itself, so they stay cheap on a 2-core machine. When the coordinator
 * goes away (IPC disconnect) the agent drops every session and kills every kubectl it started.
 */
import { openFloorExec, openTlsWs, tlsOptions } from './floor-client.js';
import { openKubectl, removeKubectlCache } from './kubectl-client.js';
import { openPodterm } from './podterm-client.js';
import { type Opener, closeAll, drainSession, openMany, runChurn, runTypists, type ReadPlan } from './drivers.js';
import type { BenchSession, Conn, Target } from './session.js';
import { openIdle, resumeLatency, runResumeChurn, type ResumeChurnArgs, type ResumeConn } from './resume-driver.js';

export interface OpenArgs { conn: Conn; target: Target; count: number; concurrency: number; timeoutMs: number }
export interface FloodArgs extends OpenArgs { plan: ReadPlan; hash: boolean }
export interface ChurnArgs extends OpenArgs {
  maxHoldMs: number;
  /** Every session ends with a 1000 close (no drops in setup, none abrupt): a warm-up that leaves nothing behind on a gateway with a detach grace. */
  clean?: boolean;
}

export interface AgentRequest { id: number; op: string; args: unknown }
export interface AgentReply { id: number; ok: boolean; result?: unknown; error?: string }

const held: BenchSession[] = [];

async function opener(conn: Conn, target: Target): Promise<Opener> {
  switch (conn.kind) {
    case 'podterm':
      return () => openPodterm(conn.wsUrl, conn.token, target);
    case 'floor':
      return () => openFloorExec(conn.kubeconfig, target);
    case 'tls-ws': {
      const tls = await tlsOptions(conn.kubeconfig);
      return () => openTlsWs(conn.kubeconfig, tls, target);
    }
    case 'kubectl':
      return () => openKubectl(conn.kubeconfig, target);
  }
}

function gcRss(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage().rss;
}

const ops: Record<string, (args: never) => Promise<unknown>> = {
  async open(a: OpenArgs) {
    const r = await openMany(await opener(a.conn, a.target), a.count, a.concurrency, a.timeoutMs);
    held.push(...r.sessions);
    return { opened: r.sessions.length, failed: r.failed, errors: r.errors, setupMs: r.setupMs, wallMs: r.wallMs, lastOkMs: r.lastOkMs };
  },
  async close(a: { timeoutMs: number }) {
    const all = held.splice(0);
    return closeAll(all, a.timeoutMs);
  },
  async rss() {
    return gcRss();
  },
  async pids() {
    return held.map((s) => s.pid).filter((p): p is number => p !== undefined);
  },
  /** Typists on the sessions opened before with `open` (so setup is outside the measured window). */
  async typeHeld(a: { rate: number; durationMs: number }) {
    return runTypists(held, a.rate, a.durationMs);
  },
  async flood(a: FloodArgs) {
    const open = await opener(a.conn, a.target);
    const results = await Promise.all(
      Array.from({ length: a.count }, () => {
        const s = open();
        if (a.plan.mode === 'stall') void s.started.then(() => s.pauseReading(), () => {});
        return drainSession(s, a.plan, a.hash, a.timeoutMs);
      }),
    );
    return results;
  },
  async churn(a: ChurnArgs) {
    return runChurn(await opener(a.conn, a.target), a.count, a.concurrency, a.maxHoldMs, a.timeoutMs, a.clean ?? false);
  },
  /** Sessions with random detach, resume and grace expiry (resume-driver.ts). */
  async resumeChurn(a: ResumeChurnArgs) {
    return runResumeChurn(a);
  },
  /** Idle sessions that printed a line, held until `close`. */
  async openIdle(a: { conn: ResumeConn; target: Target; count: number; concurrency: number }) {
    return openIdle(a.conn, a.target, a.count, a.concurrency, held);
  },
  async resumeLatency(a: { conn: ResumeConn; target: Target; fillBytes: number; times: number }) {
    return resumeLatency(a.conn, a.target, a.fillBytes, a.times);
  },
};

process.on('message', (msg: AgentRequest) => {
  const op = ops[msg.op];
  const reply = (r: Omit<AgentReply, 'id'>): void => {
    if (process.connected) process.send?.({ id: msg.id, ...r });
  };
  if (!op) {
    reply({ ok: false, error: `unknown op ${msg.op}` });
    return;
  }
  op(msg.args as never).then(
    (result) => reply({ ok: true, result }),
    (err: unknown) => reply({ ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
});

/** The coordinator left (IPC closed) or stops us: drop every session, kill every kubectl, go. */
function shutdown(): void {
  for (const s of held.splice(0)) s.close(true);
  removeKubectlCache();
  // Give node-pty a moment to deliver the kills, then go.
  setTimeout(() => process.exit(0), 200).unref();
}
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);
