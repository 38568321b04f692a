/**
 * What one feature costs, side by side in one run, with the same gateway build, sandbox and load
 * generator, the feature switched off and on by its flag:
 * - recording-cost (issue 11): `--record-dir` (target: one flood on ≥ 85 % of off);
 * - resume-cost (issue 10): `--detach-grace-ms 300000` against `0` (target: one flood within 10 %).
 * Each measures one flooding session (load/flood): MB/s delivered to the client and gateway CPU s/GB;
 * and N idle sessions (load/echo) on a second fresh gateway: RSS per session (target: on within 5 % of off),
 * then N more on the same gateway: RSS per session at the margin, without the feature's one-time
 * costs per process, which the first N carry (same target).
 * Off and on alternate for `--rounds` rounds (a fresh gateway each time) and the medians are
 * compared, so drift of a shared machine falls on both sides. Recordings go to a temporary
 * folder, deleted at the end.
 *
 * For a feature that writes to disk, a plain writer (page-cache.ts) first writes as many bytes as a
 * flood into the page cache, twice: what the kernel charges here for a GB of buffered writes, which
 * the flood with the feature on pays on top of the feature's own work (on this VM 0.3 s/GB, or up to
 * 3 s/GB when the page cache grows into memory the host has to fault in again).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../lib/agents.js';
import { heapUsageAfterGc, metric } from '../lib/metrics.js';
import { scratchWrite } from '../lib/page-cache.js';
import { rssBytes } from '../lib/procfs.js';
import type { Cell, TargetCheck } from '../lib/results.js';
import { KiB, median, round } from '../lib/stats.js';
import { openSpread } from './capacity.js';
import { type Ctx, type ScenarioBody, flood, gatewaySettled, podtermConn, sleep, withGateway } from './context.js';
import { floodRun } from './throughput.js';

type Mode = 'off' | 'on';

interface Feature {
  /** As the tables name it. */
  name: string;
  /** The gateway's flags for `mode`; `dir` is a fresh empty folder for this gateway. */
  args(mode: Mode, dir: string): string[];
  /** One flood with the feature on must reach this share of off. */
  floodShare: number;
  /** It writes about as many bytes to disk as a flood delivers (the plain-writer table). */
  writesDisk: boolean;
  notes: string[];
}

const RECORDING: Feature = {
  name: 'recording',
  args: (mode, dir) => (mode === 'on' ? ['--record-dir', dir] : []),
  floodShare: 0.85,
  writesDisk: true,
  notes: ['The recording dir is a temporary folder on the machine\'s disk; with recording on, every idle session keeps a parked .cast writer in its actor (its file closed after 1 s without output).'],
};

const RESUME: Feature = {
  name: 'resume',
  args: (mode) => ['--detach-grace-ms', mode === 'on' ? '300000' : '0'],
  floodShare: 0.9,
  writesDisk: false,
  notes: ['Resume on: every session keeps its replay ring (--replay-bytes, default 256 KiB at most) and outlives its socket for the grace; off: `--detach-grace-ms 0`, no ring, the session ends with its socket.'],
};

export const recordingCost = (ctx: Ctx): Promise<ScenarioBody> => featureCost(ctx, RECORDING);
export const resumeCost = (ctx: Ctx): Promise<ScenarioBody> => featureCost(ctx, RESUME);

async function featureCost(ctx: Ctx, feature: Feature): Promise<ScenarioBody> {
  const { opts } = ctx;
  const label = feature.name;
  const sessions = opts.sessions[0] ?? 1000;
  const dir = mkdtempSync(join(tmpdir(), `podterm-bench-${label}-`));
  const floodRows: Cell[][] = [];
  const idleRows: Cell[][] = [];
  const notes: string[] = [];
  const mbps: Record<Mode, number[]> = { off: [], on: [] };
  const cacheRows: Cell[][] = [];
  let skipped = 0;
  const perSession: Record<Mode, number[]> = { off: [], on: [] };
  const marginPerSession: Record<Mode, number[]> = { off: [], on: [] };
  const heapPerSession: Record<Mode, number[]> = { off: [], on: [] };
  try {
    if (feature.writesDisk) {
      // Into memory as the machine has it, then at once again into the pages just freed.
      for (const when of ['first', 'again at once'] as const) {
        const w = scratchWrite(dir, opts.bytes);
        cacheRows.push([when, round(opts.bytes / 1e6, 0), round(w.cpuPerGb, 2), round(opts.bytes / 1e6 / w.wallS, 0)]);
      }
    }
    for (let round_ = 1; round_ <= opts.rounds; round_++) {
      for (const mode of ['off', 'on'] as const) {
        const recDir = join(dir, `r${round_}-${mode}`);
        mkdirSync(recDir);
        const extraArgs = feature.args(mode, recDir);
        ctx.log(`${label}-cost: round ${round_}, ${label} ${mode}`);
        await withGateway(ctx, opts.workers, 1, async (gw, [a]) => {
          const agent = a as Agent;
          const f = await floodRun(ctx, agent, podtermConn(gw), flood(opts.bytes), 1, opts.bytes, gw.pid);
          // A recording that could not keep up stops at its buffer cap (best-effort): say so, the
          // rest of that flood then ran unrecorded.
          const stopped = metric(await gw.metrics(), 'podterm_recordings_stopped_total');
          // A flood whose recording stopped early ran partly unrecorded: it does not count (below).
          if (!(stopped > 0)) mbps[mode].push(f.mbps);
          else skipped++;
          floodRows.push([mode, round_, round(f.bytes / 1e6, 1), round(f.mbps, 1), f.gwCpuPerGb === null ? null : round(f.gwCpuPerGb, 2), round(f.sysCpuPerGb, 2), f.failed, Number.isNaN(stopped) ? 0 : stopped]);
          if (f.errors.length) notes.push(`flood, ${label} ${mode}, round ${round_}: ${f.errors.join('; ')}`);
        }, { extraArgs });
        // Idle memory on a gateway of its own: after a flood, how much of the flood's garbage the
        // allocator hands back during the idle phase swings the RSS delta by several KiB per session.
        await withGateway(ctx, opts.workers, 1, async (gw, [a]) => {
          const agent = a as Agent;
          const inspector = gw.inspectorUrl;
          if (!inspector) throw new Error('bench: the gateway did not print its inspector URL');
          // Every thread collected before each reading: what is left is what the sessions hold, not
          // how far each heap happened to grow before its next GC.
          await sleep(1000);
          const heapBefore = await heapUsageAfterGc(inspector, 30000, true);
          const before = rssBytes(gw.pid);
          const o = await openSpread([agent], podtermConn(gw), sessions, opts.concurrency);
          await sleep(3000);
          const heapAfter = await heapUsageAfterGc(inspector, 30000, true);
          const after = rssBytes(gw.pid);
          // A second batch as large on the same gateway: its cost per session is the margin, free of
          // what the first use of the feature costs once per process (thread-pool threads and their
          // allocator arenas, the escaper's wasm memory and slab), which the first batch carries.
          const o2 = await openSpread([agent], podtermConn(gw), sessions, opts.concurrency);
          await sleep(3000);
          await heapUsageAfterGc(inspector, 30000, true);
          const after2 = rssBytes(gw.pid);
          await agent.call('close', { timeoutMs: 60000 }, 90000);
          // Let the sessions end before the gateway is stopped (their recordings close and write sidecars).
          const left = await gatewaySettled(gw, 60000);
          if (left.sessions > 0) notes.push(`${label} ${mode}, round ${round_}: ${left.sessions} session(s) still closing 60 s after the clients left`);
          const per = (after - before) / Math.max(1, o.opened);
          perSession[mode].push(per);
          const margin = (after2 - after) / Math.max(1, o2.opened);
          marginPerSession[mode].push(margin);
          const heapPer = (heapAfter.used - heapBefore.used) / Math.max(1, o.opened);
          const heapTotalPer = (heapAfter.total - heapBefore.total) / Math.max(1, o.opened);
          heapPerSession[mode].push(heapPer);
          idleRows.push([mode, round_, o.opened, o.failed, round(per / KiB, 1), round(heapPer / KiB, 2), round(heapTotalPer / KiB, 2), round(before / 2 ** 20, 1), round(after / 2 ** 20, 1), o2.opened, round(margin / KiB, 1), round(after2 / 2 ** 20, 1)]);
          if (o.errors.length) notes.push(`idle, ${label} ${mode}, round ${round_}: ${o.failed} failed, e.g. ${o.errors.join('; ')}`);
        }, { extraArgs, nodeArgs: ['--inspect=127.0.0.1:0'] });
        rmSync(recDir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const targets: TargetCheck[] = [];
  if (skipped > 0) notes.push(`${skipped} flood(s) whose recording stopped early are left out of the flood target (the rest of such a flood ran unrecorded).`);
  const [fOff, fOn] = [median(mbps.off), median(mbps.on)];
  if (mbps.on.length === 0 || mbps.off.length === 0) {
    targets.push({ name: `one flooding session, ${label} on vs off`, target: `≥ ${Math.round(feature.floodShare * 100)} %`, measured: 'not measured: every flood of one side stopped its recording early', met: null });
  } else {
    targets.push({ name: `one flooding session, ${label} on vs off`, target: `≥ ${Math.round(feature.floodShare * 100)} %`, measured: `${round((100 * fOn) / fOff, 1)} % (${round(fOn, 1)} vs ${round(fOff, 1)} MB/s, medians of ${mbps.on.length} and ${mbps.off.length})`, met: fOn >= feature.floodShare * fOff });
  }
  const [mOff, mOn] = [median(perSession.off), median(perSession.on)];
  targets.push({ name: `memory per idle session, ${label} on vs off (${sessions} sessions)`, target: 'within 5 %', measured: `${round(mOn / KiB, 1)} vs ${round(mOff / KiB, 1)} KiB (${round((100 * (mOn - mOff)) / mOff, 1)} %, medians of ${opts.rounds})`, met: Math.abs(mOn - mOff) <= 0.05 * mOff });
  const [gOff, gOn] = [median(marginPerSession.off), median(marginPerSession.on)];
  targets.push({ name: `memory per idle session at the margin, ${label} on vs off (sessions ${sessions + 1}-${2 * sessions})`, target: 'within 5 %', measured: `${round(gOn / KiB, 1)} vs ${round(gOff / KiB, 1)} KiB (${round((100 * (gOn - gOff)) / gOff, 1)} %, medians of ${opts.rounds})`, met: Math.abs(gOn - gOff) <= 0.05 * gOff });
  const [hOff, hOn] = [median(heapPerSession.off), median(heapPerSession.on)];
  notes.push(`JS heap per idle session (all threads, after forced GCs): ${round(hOn / KiB, 2)} KiB on vs ${round(hOff / KiB, 2)} KiB off (medians).`);
  notes.push('Off and on alternate, each with a fresh gateway (warmed up) for the flood and another for the idle sessions; targets compare the medians over the rounds. MB/s = bytes delivered to the client / (last byte − first byte); RSS per session = (gateway VmRSS with the sessions open and idle − before) / sessions, each read after a full GC of every thread (inspector, NodeWorker domain); the second batch, as many sessions again on the same gateway, gives the cost at the margin (after both − after the first) / sessions.');
  if (feature.writesDisk) {
    notes.push('Plain writer: 256 KiB writes of a new file, then deleted, by the bench process before the floods; "first" grows the page cache into memory as the machine has it, "again at once" reuses the pages just freed. On this VM free memory goes back to the host a few seconds after it is freed (virtio balloon free page reporting), and a page the host has to fault in again costs the guest system time: a "first" far above "again at once" means every flood with recording on paid that too.');
  }
  if (floodRows.some((r) => r[0] === 'on' && Number(r[7]) > 0)) {
    notes.push('"recordings stopped early" > 0: that flood\'s recording reached its buffer cap (the disk or the writer did not keep up; best-effort mode stops the recording with a marker and the session goes on), so the rest of it ran unrecorded and its MB/s flatters recording.');
  }
  notes.push('System CPU counts the whole machine, which other work shared during this run.');
  notes.push(...feature.notes);
  return {
    params: { bytes: opts.bytes, sessions, rounds: opts.rounds, workers: opts.workers, concurrency: opts.concurrency },
    tables: [
      { title: `one flooding session (load/flood, ${round(opts.bytes / 1e6, 0)} MB)`, columns: [label, 'round', 'MB delivered', 'MB/s', 'gateway CPU s/GB', 'system CPU s/GB', 'failed', 'recordings stopped early'], rows: floodRows },
      ...(feature.writesDisk ? [{ title: 'plain writer, no gateway: buffered writes of a flood\'s size into the page cache', columns: ['write', 'MB', 'CPU s/GB', 'MB/s'], rows: cacheRows }] : []),
      { title: `${sessions} idle sessions (load/echo)`, columns: [label, 'round', 'opened', 'failed', 'RSS / session KiB', 'JS heap used / session KiB', 'JS heap committed / session KiB', 'gateway RSS before MiB', 'gateway RSS after MiB', 'second batch opened', 'RSS / session KiB, second batch', 'gateway RSS after both MiB'], rows: idleRows },
    ],
    targets,
    notes,
  };
}
