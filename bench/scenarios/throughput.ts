/**
 * throughput: 1 and 50 sessions running `flood N` (load/flood), and 1 session of pty shell output
 * (`head -c B /dev/zero | tr '\0' a` in default/shell). MB/s delivered to the clients (first byte to
 * last byte), gateway CPU seconds per GB and the whole machine's, side by side with --workers 0,
 * kubectl-per-session and the no-gateway floor (client-node Exec straight to the sandbox).
 */
import type { Agent } from '../lib/agents.js';
import { cpuSeconds, systemBusySeconds } from '../lib/procfs.js';
import type { Cell, TargetCheck } from '../lib/results.js';
import { round } from '../lib/stats.js';
import type { FloodResult } from '../load/drivers.js';
import type { Conn, Target } from '../load/session.js';
import { type Ctx, type ScenarioBody, flood, gatewayVariants, podtermConn, shellOutput, withAgents, withGateway } from './context.js';

export interface Run {
  bytes: number;
  expected: number;
  mbps: number;
  sysCpuPerGb: number;
  gwCpuPerGb: number | null;
  failed: number;
  errors: string[];
}

/** Error text as one short line (kubectl's carries the tail of its terminal output). */
function oneLine(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
}

export async function floodRun(ctx: Ctx, agent: Agent, conn: Conn, target: Target, sessions: number, expected: number, gwPid: number | null): Promise<Run> {
  const sys0 = systemBusySeconds();
  const gw0 = gwPid ? cpuSeconds(gwPid) : 0;
  const res = await agent.call<FloodResult[]>('flood', { conn, target, count: sessions, concurrency: sessions, timeoutMs: 180000, plan: { mode: 'fast' }, hash: false }, 200000);
  const sys = systemBusySeconds() - sys0;
  const gw = gwPid ? cpuSeconds(gwPid) - gw0 : 0;
  const bytes = res.reduce((s, r) => s + r.bytes, 0);
  const first = Math.min(...res.map((r) => r.firstMs).filter(Number.isFinite));
  const last = Math.max(...res.map((r) => r.lastMs).filter(Number.isFinite));
  const bad = res.filter((r) => r.end.error || (r.end.exitCode !== 0 && r.end.exitCode !== null) || r.bytes < expected / sessions);
  const gb = bytes / 1e9;
  ctx.log(`  ${sessions} × ${target.pod}: ${round(bytes / 1e6, 1)} MB in ${round((last - first) / 1000, 2)} s`);
  return {
    bytes,
    expected,
    mbps: bytes / 1e6 / ((last - first) / 1000),
    sysCpuPerGb: gb > 0 ? sys / gb : NaN,
    gwCpuPerGb: gwPid && gb > 0 ? gw / gb : null,
    failed: bad.length,
    errors: bad.slice(0, 3).map((r) => `${oneLine(r.end.error ?? `exit ${r.end.exitCode}`)} after ${r.bytes} of ${expected / sessions} bytes`),
  };
}

export async function throughput(ctx: Ctx): Promise<ScenarioBody> {
  const { opts } = ctx;
  const floodRows: Cell[][] = [];
  const shellRows: Cell[][] = [];
  const notes: string[] = [];
  const mbps = new Map<string, number>();
  const counts = [1, 50];
  const row = (label: string, n: number, r: Run): Cell[] => [label, n, round(r.bytes / 1e6, 1), round(r.mbps, 1), r.gwCpuPerGb === null ? null : round(r.gwCpuPerGb, 2), round(r.sysCpuPerGb, 2), r.failed];
  const note = (label: string, r: Run): void => {
    if (r.errors.length) notes.push(`${label}: ${r.failed} session(s) short or failed: ${r.errors.join('; ')}`);
  };

  for (const [label, workers] of gatewayVariants(opts)) {
    ctx.log(`throughput: ${label}`);
    await withGateway(ctx, workers, 1, async (gw, [a]) => {
      for (const n of counts) {
        const per = Math.floor(opts.bytes / n);
        const r = await floodRun(ctx, a as Agent, podtermConn(gw), flood(per), n, per * n, gw.pid);
        floodRows.push(row(label, n, r));
        mbps.set(`${label}/${n}`, r.mbps);
        note(`${label} flood ×${n}`, r);
      }
      if (workers === opts.workers) {
        const r = await floodRun(ctx, a as Agent, podtermConn(gw), shellOutput(opts.shellBytes), 1, opts.shellBytes, gw.pid);
        shellRows.push(row(label, 1, r));
        mbps.set('shell/podterm', r.mbps);
        note(`${label} shell`, r);
      }
    });
  }
  const baselines: [string, string, Conn][] = [];
  if (opts.variants.has('kubectl')) baselines.push(['kubectl exec -it per session', 'kubectl', { kind: 'kubectl', kubeconfig: ctx.sandbox.kubeconfig }]);
  if (opts.variants.has('floor')) baselines.push(['floor: client-node Exec, no gateway', 'floor', { kind: 'floor', kubeconfig: ctx.sandbox.kubeconfig }]);
  for (const [label, key, conn] of baselines) {
    ctx.log(`throughput: ${label}`);
    await withAgents(ctx, 1, async ([a]) => {
      for (const n of counts) {
        const per = Math.floor(opts.bytes / n);
        const r = await floodRun(ctx, a as Agent, conn, flood(per), n, per * n, null);
        floodRows.push(row(label, n, r));
        mbps.set(`${key}/${n}`, r.mbps);
        note(`${label} flood ×${n}`, r);
      }
      const r = await floodRun(ctx, a as Agent, conn, shellOutput(opts.shellBytes), 1, opts.shellBytes, null);
      shellRows.push(row(label, 1, r));
      mbps.set(`shell/${key}`, r.mbps);
      note(`${label} shell`, r);
    });
  }

  const targets: TargetCheck[] = [];
  const main = `podterm --workers ${opts.workers}`;
  const one = mbps.get(`${main}/1`);
  if (one !== undefined) targets.push({ name: 'one flooding session, whole path', target: '≥ 180 MB/s', measured: `${round(one, 1)} MB/s`, met: one >= 180 });
  const floor1 = mbps.get('floor/1');
  if (one !== undefined && floor1 !== undefined) targets.push({ name: 'one flooding session vs no-gateway floor', target: '≥ 50 %', measured: `${round((100 * one) / floor1, 0)} % (${round(floor1, 1)} MB/s floor)`, met: one >= floor1 / 2 });
  const sp = mbps.get('shell/podterm');
  const sk = mbps.get('shell/kubectl');
  if (sp !== undefined && sk !== undefined) targets.push({ name: 'pty shell output vs kubectl per session', target: '≥ 1.5 ×', measured: `${round(sp / sk, 2)} × (${round(sp, 1)} vs ${round(sk, 1)} MB/s)`, met: sp >= 1.5 * sk });
  const w = mbps.get(`${main}/50`);
  const w0 = mbps.get('podterm --workers 0/50');
  if (w !== undefined && w0 !== undefined) targets.push({ name: `--workers ${opts.workers} vs --workers 0, 50 sessions`, target: 'faster', measured: `${round(w, 1)} vs ${round(w0, 1)} MB/s (${round(w / w0, 2)} ×)`, met: w > w0 });
  if (notes.some((n) => n.startsWith('kubectl'))) {
    notes.push('kubectl sessions that end short with exit 0 lost the tail in the PTY host, not in kubectl: node-pty destroys its PTY socket 200 ms after the child exits (DESTROY_SOCKET_TIMEOUT_MS in node-pty 1.1.0), and with every kubectl busy the host had not read it all by then. The same 50 kubectl execs under script(1) delivered every byte.');
  }
  notes.push('MB/s = bytes delivered to the client(s) / (last byte − first byte); CPU s/GB: gateway = its utime+stime (/proc/PID/stat, all threads), system = busy time of the whole machine (load generator, sandbox and pod processes included).');
  const columns = ['variant', 'sessions', 'MB delivered', 'MB/s', 'gateway CPU s/GB', 'system CPU s/GB', 'failed'];
  return {
    params: { bytes: opts.bytes, shellBytes: opts.shellBytes, sessions: counts, workers: opts.workers },
    tables: [
      { title: `flood (load/flood, ${round(opts.bytes / 1e6, 0)} MB per run split over the sessions)`, columns, rows: floodRows },
      { title: `pty shell output (default/shell: head -c ${opts.shellBytes} /dev/zero | tr '\\0' a)`, columns, rows: shellRows },
    ],
    targets,
    notes,
  };
}
