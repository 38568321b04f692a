/**
 * slow-reader: S sessions flood while half their clients read at readBps and half read nothing,
 * for phaseS seconds; then all catch up. The gateway's RSS must stay under a stated bound during the
 * phase, and every byte must arrive in the end (count and SHA-256 against a reference read of the
 * same `flood N` straight from the sandbox).
 */
import type { Agent } from '../lib/agents.js';
import { metric } from '../lib/metrics.js';
import { rssBytes } from '../lib/procfs.js';
import type { Cell, TargetCheck } from '../lib/results.js';
import { MiB, round } from '../lib/stats.js';
import type { FloodResult, ReadPlan } from '../load/drivers.js';
import { type Ctx, type ScenarioBody, flood, gatewayVariants, podtermConn, sleep, withAgents, withGateway } from './context.js';

export async function slowReader(ctx: Ctx): Promise<ScenarioBody> {
  const { opts } = ctx;
  const sessions = opts.sessions[0] ?? 100;
  const per = Math.floor(opts.bytes / sessions);
  const target = flood(per);
  const phaseMs = opts.phaseS * 1000;
  ctx.log(`slow-reader: reference read of flood ${per} from the sandbox`);
  const ref = await withAgents(ctx, 1, async ([a]) =>
    (a as Agent).call<FloodResult[]>('flood', { conn: { kind: 'floor', kubeconfig: ctx.sandbox.kubeconfig }, target, count: 1, concurrency: 1, timeoutMs: 120000, plan: { mode: 'fast' }, hash: true }, 150000),
  );
  const refSha = ref[0]?.sha256;
  const rows: Cell[][] = [];
  const targets: TargetCheck[] = [];
  const notes: string[] = [];
  for (const [label, workers] of gatewayVariants(opts)) {
    // Control: the same floods read at full speed on a fresh gateway, to tell the memory that
    // lagging readers cost from the memory that moving this much data costs anyway.
    ctx.log(`slow-reader: ${label}, control: ${sessions} sessions × ${per} bytes read at full speed`);
    const control = await withGateway(ctx, workers, 1, async (gw, [a]) => {
      await sleep(500);
      const rss0 = rssBytes(gw.pid);
      let peak = rss0;
      const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(gw.pid))), 250);
      const t0 = Date.now();
      const res = await (a as Agent).call<FloodResult[]>('flood', { conn: podtermConn(gw), target, count: sessions, concurrency: sessions, timeoutMs: 300000, plan: { mode: 'fast' }, hash: true }, 330000);
      clearInterval(sampler);
      return { rss0, peak, seconds: (Date.now() - t0) / 1000, ok: res.filter((x) => x.bytes === per && x.sha256 === refSha && !x.end.error).length };
    });
    rows.push([label, `${sessions} at full speed (control)`, null, `${control.ok}/${sessions}`, round(control.rss0 / MiB, 0), round(control.peak / MiB, 0), round(control.seconds, 1), null]);
    ctx.log(`slow-reader: ${label}, ${sessions} sessions × ${per} bytes, ${opts.phaseS} s slow phase`);
    const r = await withGateway(ctx, workers, 1, async (gw, [a]) => {
      await sleep(500);
      const rss0 = rssBytes(gw.pid);
      let peak = rss0;
      const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(gw.pid))), 250);
      const half = Math.ceil(sessions / 2);
      const run = (count: number, plan: ReadPlan): Promise<FloodResult[]> =>
        (a as Agent).call<FloodResult[]>('flood', { conn: podtermConn(gw), target, count, concurrency: count, timeoutMs: phaseMs + 300000, plan, hash: true }, phaseMs + 330000);
      const t0 = Date.now();
      const both = Promise.all([run(half, { mode: 'slow', rateBps: opts.readBps, phaseMs }), run(sessions - half, { mode: 'stall', phaseMs })]);
      await sleep(phaseMs - 1000);
      // Where the lagging memory lives, near the end of the phase (main thread only; workers show in RSS).
      const mLag = await gw.metrics();
      const steady = { rss: rssBytes(gw.pid), heap: metric(mLag, 'process_heap_bytes'), external: metric(mLag, 'nodejs_external_memory_bytes') };
      await sleep(1000);
      clearInterval(sampler);
      const peakInPhase = peak;
      const [slow, stalled] = await both;
      const m = await gw.metrics();
      return { rss0, peakInPhase, steady, slow, stalled, catchUpS: (Date.now() - t0 - phaseMs) / 1000, pauses: metric(m, 'podterm_backpressure_pauses_total') };
    });
    const check = (rs: FloodResult[]): { ok: number; bytes: number; inPhase: number } => ({
      ok: rs.filter((x) => x.bytes === per && x.sha256 === refSha && !x.end.error).length,
      bytes: rs.reduce((s, x) => s + x.bytes, 0),
      inPhase: rs.reduce((s, x) => s + x.bytesInPhase, 0),
    });
    const slow = check(r.slow);
    const stalled = check(r.stalled);
    const growth = r.peakInPhase - r.rss0;
    rows.push([label, `${r.slow.length} at ${round(opts.readBps / 1024, 0)} KiB/s`, round(slow.inPhase / 1e6, 2), `${slow.ok}/${r.slow.length}`, round(r.rss0 / MiB, 0), round(r.peakInPhase / MiB, 0), round(r.catchUpS, 1), r.pauses]);
    rows.push([label, `${r.stalled.length} not reading`, round(stalled.inPhase / 1e6, 2), `${stalled.ok}/${r.stalled.length}`, null, null, null, null]);
    targets.push({ name: `${label}: gateway RSS growth while ${sessions} clients lag`, target: `≤ ${opts.boundMb} MiB`, measured: `${round(growth / MiB, 1)} MiB`, met: growth <= opts.boundMb * MiB });
    notes.push(`${label}: 1 s before the phase ended: gateway RSS ${round(r.steady.rss / MiB, 0)} MiB, main-thread V8 heap ${round(r.steady.heap / MiB, 1)} MiB, main-thread external (ArrayBuffers held for uWS and ports) ${round(r.steady.external / MiB, 1)} MiB; control run (everyone reading at full speed) peaked ${round((control.peak - control.rss0) / MiB, 1)} MiB above its start.`);
    const allOk = slow.ok + stalled.ok;
    targets.push({ name: `${label}: every byte delivered after catching up`, target: `${sessions}/${sessions} sessions with ${per} bytes and the reference SHA-256`, measured: `${allOk}/${sessions}`, met: allOk === sessions });
    const bad = [...r.slow, ...r.stalled].filter((x) => x.bytes !== per || x.sha256 !== refSha).slice(0, 3);
    if (bad.length) notes.push(`${label}: e.g. ${bad.map((x) => `${x.bytes} bytes, ${x.end.error ?? 'exit ' + x.end.exitCode}`).join('; ')}`);
  }
  notes.push(`Reference: one fast read of the same \`flood ${per}\` with client-node straight from the sandbox: ${ref[0]?.bytes} bytes, sha256 ${refSha?.slice(0, 16)}…`);
  return {
    params: { sessions, bytesPerSession: per, phaseS: opts.phaseS, readBps: opts.readBps, boundMb: opts.boundMb },
    tables: [{ title: `slow readers (${sessions} sessions × flood ${per}, ${opts.phaseS} s lagging, then catch up)`, columns: ['variant', 'clients', 'MB read while lagging', 'complete + checksum ok', 'gateway RSS before MiB', 'gateway RSS peak MiB', 'catch-up s (control: total s)', 'backpressure pauses'], rows }],
    targets,
    notes,
  };
}
