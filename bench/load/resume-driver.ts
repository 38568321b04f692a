/**
 * Drivers for sessions that outlive their socket (issue 10; docs/protocol.md, Additions), run by a
 * load agent against a gateway started with `--detach-grace-ms G > 0`:
 * - runResumeChurn: sessions with random fates — ended by the owner, dropped and resumed (one to
 *   three times), dropped for good (the grace ends them), dropped and resumed too late (SessionGone),
 *   dropped during setup — so the gateway sees every path through attached ⇄ detached → closed;
 *   a random share of them is watched through a share link, and some links are revoked while
 *   watched (observer-driver.ts).
 * - openIdle: idle sessions that printed a prompt (an echoed line), held until `close`.
 * - resumeLatency: one session with a full replay ring, dropped and resumed `times` times: the time
 *   from the resume's socket to its first replay frame.
 */
import { performance } from 'node:perf_hooks';
import { type PodtermSession, openPodterm } from './podterm-client.js';
import type { BenchSession, Target } from './session.js';
import { within } from './drivers.js';
import { type SessionWatch, type WatchStats, maybeWatch, noWatchStats } from './observer-driver.js';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface ResumeConn {
  wsUrl: string;
  token: string;
}

export interface ResumeChurnArgs {
  conn: ResumeConn;
  target: Target;
  count: number;
  concurrency: number;
  maxHoldMs: number;
  /** The gateway's --detach-grace-ms: "too late" waits past it. */
  graceMs: number;
  /** The fraction of sessions watched through a share link (observer-driver.ts). */
  watchRate: number;
  timeoutMs: number;
}

export interface ResumeChurnResult extends WatchStats {
  opened: number;
  started: number;
  /** Fates. */
  ended: number;
  resumedSessions: number;
  resumes: number;
  expired: number;
  late: number;
  droppedBeforeStart: number;
  /** Resumes that did not come back with `resumed: true`; late resumes that were not SessionGone. */
  resumeFailed: number;
  lateNotGone: number;
  /**
   * Sessions ended by the gateway with Internal (1011) at any step: collateral of a worker recycled
   * because another actor missed its close deadline (supervisor.ts). Counted apart from the above.
   */
  internal: number;
  /** Echo checks after a resume that got no answer. */
  echoLost: number;
  failed: number;
  notEnded: number;
  errors: string[];
  /** The first watcher failures (observer-driver.ts), apart from the owners'. */
  watcherErrors: string[];
  wallMs: number;
}

async function ends(s: PodtermSession): Promise<boolean> {
  return within(s.ended.then(() => true), 15000, false);
}

/** Drop the owner's socket the ways a browser does: no handshake (a dead link) or 1001 (a reload). */
function drop(s: PodtermSession): void {
  if (Math.random() < 0.5) s.close(true);
  else s.closeWith(1001);
}

export async function runResumeChurn(a: ResumeChurnArgs): Promise<ResumeChurnResult> {
  const r: ResumeChurnResult = {
    opened: 0, started: 0, ended: 0, resumedSessions: 0, resumes: 0, expired: 0, late: 0, droppedBeforeStart: 0,
    resumeFailed: 0, lateNotGone: 0, internal: 0, echoLost: 0, failed: 0, notEnded: 0, errors: [], watcherErrors: [], wallMs: 0, ...noWatchStats(),
  };
  const fail = (why: string): void => {
    if (r.errors.length < 5) r.errors.push(why);
  };
  const internal = (why: string): boolean => why.includes('Internal:');
  const open = (resume?: string): PodtermSession => openPodterm(a.conn.wsUrl, a.conn.token, a.target, resume);
  const t0 = performance.now();
  const deadline = t0 + a.timeoutMs;
  const watches: SessionWatch[] = [];
  const watchPlan = { conn: a.conn, target: a.target, maxHoldMs: a.maxHoldMs, hardCapMs: a.timeoutMs, rate: a.watchRate, stats: r, fail: (why: string) => r.watcherErrors.length < 5 && r.watcherErrors.push(why) };
  let next = 0;
  const step = async (): Promise<void> => {
    r.opened++;
    let s = open();
    if (Math.random() < 0.1) {
      await sleep(Math.random() * 5);
      r.droppedBeforeStart++;
      s.close(true);
      if (!(await ends(s))) r.notEnded++;
      return;
    }
    const info = await within(s.info.then((i) => i, (e: Error) => e), 30000, new Error('setup timed out'));
    if (info instanceof Error) {
      if (internal(info.message)) r.internal++;
      else r.failed++;
      fail(info.message);
      s.close(true);
      if (!(await ends(s))) r.notEnded++;
      return;
    }
    r.started++;
    const token = info.resumeToken;
    if (token === undefined) {
      r.failed++;
      fail('no resume token: is --detach-grace-ms > 0?');
      s.close(true);
      await ends(s);
      return;
    }
    if (Math.random() < 0.5) s.write(Uint8Array.of(120));
    // Watchers come and go on their own from here; the driver tells them before it ends the session.
    const watch = maybeWatch(watchPlan, info.session);
    if (watch) watches.push(watch);
    await sleep(Math.random() * a.maxHoldMs);
    const fate = Math.random();
    if (fate < 0.25) {
      r.ended++;
      watch?.ending();
      s.closeWith(1000);
      if (!(await ends(s))) r.notEnded++;
      return;
    }
    if (fate >= 0.6) watch?.ending(a.graceMs); // dropped for good: the grace ends it
    drop(s);
    if (!(await ends(s))) r.notEnded++;
    if (fate < 0.6) {
      r.resumedSessions++;
      const cycles = 1 + Math.floor(Math.random() * 3);
      for (let c = 0; c < cycles; c++) {
        await sleep(Math.random() * Math.min(a.maxHoldMs, a.graceMs / 2));
        s = open(token);
        r.resumes++;
        const again = await within(s.info.then((i) => i, (e: Error) => e), 30000, new Error('resume timed out'));
        if (again instanceof Error || again.resumed !== true) {
          if (again instanceof Error && internal(again.message)) r.internal++;
          else r.resumeFailed++;
          fail(`${again instanceof Error ? `resume: ${again.message}` : 'resume: Started without resumed: true'}${watch ? ` (${watch.describe()})` : ''}`);
          watch?.ending(a.graceMs);
          s.close(true);
          await ends(s);
          return;
        }
        // Input works again: one byte, echoed by the target.
        const echoed = new Promise<boolean>((resolve) => {
          s.onData = (chunk) => chunk.includes(121) && resolve(true);
        });
        s.write(Uint8Array.of(121));
        if (!(await within(echoed, 10000, false))) r.echoLost++;
        if (c < cycles - 1) {
          drop(s);
          if (!(await ends(s))) r.notEnded++;
        }
      }
      watch?.ending();
      s.closeWith(1000);
      if (!(await ends(s))) r.notEnded++;
      return;
    }
    if (fate < 0.9) {
      r.expired++; // never comes back: the grace ends it
      return;
    }
    // Too late: the grace has ended it, so the token is refused with SessionGone (4411).
    r.late++;
    await sleep(a.graceMs + 500);
    s = open(token);
    const end = await within(s.ended, 15000, { exitCode: null, error: 'no end' });
    if (end.closeCode !== 4411) {
      if (end.closeCode === 1011) r.internal++;
      else r.lateNotGone++;
      fail(`late resume: close ${end.closeCode} ${end.error ?? ''}`);
      s.close(true);
    }
  };
  const lane = async (): Promise<void> => {
    while (next < a.count && performance.now() < deadline) {
      next++;
      await step();
    }
  };
  await Promise.all(Array.from({ length: Math.min(a.concurrency, a.count) }, lane));
  r.wallMs = performance.now() - t0;
  // The last watchers of sessions left to their grace end with it.
  await Promise.all(watches.map((w) => w.done));
  return r;
}

/** Idle sessions that each printed a line (the echo target returns it): the ring holds it. */
export async function openIdle(conn: ResumeConn, target: Target, count: number, concurrency: number, held: BenchSession[]): Promise<{ opened: number; failed: number; errors: string[] }> {
  const out = { opened: 0, failed: 0, errors: [] as string[] };
  const prompt = Buffer.from('user@pod:~$ \r\n');
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next++;
      const s = openPodterm(conn.wsUrl, conn.token, target);
      const ok = await within<true | Error>(s.info.then(() => true as const, (e: Error) => e), 60000, new Error('setup timed out'));
      if (ok !== true) {
        out.failed++;
        if (out.errors.length < 5) out.errors.push(ok.message);
        s.close(true);
        continue;
      }
      let got = 0;
      const echoed = new Promise<boolean>((resolve) => {
        s.onData = (c) => (got += c.length) >= prompt.length && resolve(true);
      });
      s.write(prompt);
      await within(echoed, 10000, false);
      s.onData = () => {};
      held.push(s);
      out.opened++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return out;
}

export interface ResumeLatency {
  /** Per resume: ms from creating the socket to its Started frame and to its first replay frame. */
  startedMs: number[];
  firstReplayMs: number[];
  replayBytes: number[];
  errors: string[];
}

/**
 * One session whose ring is full (`fillBytes` echoed through it, more than --replay-bytes), then
 * `times` × (drop, wait until the gateway has seen the drop, resume): each resume's latency to its
 * first replay frame, and the bytes it replayed. The session is ended with 1000 at the end.
 */
export async function resumeLatency(conn: ResumeConn, target: Target, fillBytes: number, times: number): Promise<ResumeLatency> {
  const res: ResumeLatency = { startedMs: [], firstReplayMs: [], replayBytes: [], errors: [] };
  let s = openPodterm(conn.wsUrl, conn.token, target);
  const info = await s.info;
  const token = info.resumeToken;
  if (token === undefined) throw new Error('no resume token: is --detach-grace-ms > 0?');
  let got = 0;
  const filled = new Promise<void>((resolve) => {
    s.onData = (c) => (got += c.length) >= fillBytes && resolve();
  });
  const line = Buffer.from(`${'0123456789abcdef'.repeat(4)}\r\n`);
  for (let sent = 0; sent < fillBytes; sent += line.length) s.write(line);
  await within(filled, 60000, undefined);
  if (got < fillBytes) res.errors.push(`the ring was filled with ${got} of ${fillBytes} bytes`);
  for (let i = 0; i < times; i++) {
    s.close(true);
    await within(s.ended, 15000, { exitCode: null });
    await sleep(200); // the gateway sees the drop (a dead TCP link closes at once on loopback)
    s = openPodterm(conn.wsUrl, conn.token, target, token);
    let bytes = 0;
    s.onData = (c) => (bytes += c.length);
    try {
      const again = await s.info;
      if (again.resumed !== true) throw new Error('Started without resumed: true');
      res.startedMs.push(performance.now() - s.openedAt);
      const first = await within(s.firstOutput, 10000, NaN);
      if (Number.isNaN(first)) throw new Error('no replay frame within 10 s');
      res.firstReplayMs.push(first - s.openedAt);
      await sleep(300);
      res.replayBytes.push(bytes);
    } catch (err) {
      res.errors.push((err as Error).message);
      break;
    }
  }
  s.closeWith(1000);
  await within(s.ended, 15000, { exitCode: null });
  return res;
}
