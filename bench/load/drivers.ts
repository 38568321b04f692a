/**
 * Load drivers: the work one load-agent process does against a set of sessions. They are bounded in
 * time (every wait has a deadline) and return raw samples; the coordinator aggregates.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { BenchSession, EndInfo } from './session.js';

export type Opener = () => BenchSession;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves with the value, or with `fallback` after ms (the timer never outlives the race). */
export async function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<T>((r) => (timer = setTimeout(() => r(fallback), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

export interface OpenResult {
  sessions: BenchSession[];
  setupMs: number[];
  failed: number;
  errors: string[];
  wallMs: number;
  /** ms from the start to the last session that did start: the setup rate's denominator. */
  lastOkMs: number;
}

/**
 * Runs `step` `count` times over at most `concurrency` lanes, each lane taking the next index as it
 * finishes the last, until the count or the deadline is reached.
 */
async function runLanes(count: number, concurrency: number, deadline: number, step: () => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count && performance.now() < deadline) {
      next++;
      await step();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

/** true once the session started, else the error it failed with (or a timeout). */
function awaitStart(s: BenchSession, ms: number): Promise<true | Error> {
  return within(s.started.then(() => true as const, (e: Error) => e), Math.max(0, ms), new Error('setup timed out'));
}

/** Opens `count` sessions, at most `concurrency` in setup at once; keeps those that started. */
export async function openMany(open: Opener, count: number, concurrency: number, timeoutMs: number): Promise<OpenResult> {
  const out: OpenResult = { sessions: [], setupMs: [], failed: 0, errors: [], wallMs: 0, lastOkMs: 0 };
  const t0 = performance.now();
  const deadline = t0 + timeoutMs;
  await runLanes(count, concurrency, deadline, async () => {
    const s0 = performance.now();
    const s = open();
    const ok = await awaitStart(s, deadline - s0);
    if (ok === true) {
      out.setupMs.push(performance.now() - s0);
      out.sessions.push(s);
      out.lastOkMs = performance.now() - t0;
    } else {
      out.failed++;
      if (out.errors.length < 5) out.errors.push(ok.message);
      s.close(true);
    }
  });
  out.wallMs = performance.now() - t0;
  return out;
}

/** Closes sessions and waits (bounded) for each to end. */
export async function closeAll(sessions: readonly BenchSession[], timeoutMs: number): Promise<{ ended: number; notEnded: number }> {
  for (const s of sessions) s.close();
  const done = await Promise.all(sessions.map((s) => within(s.ended.then(() => true), timeoutMs, false)));
  const ended = done.filter(Boolean).length;
  return { ended, notEnded: sessions.length - ended };
}

export interface TypistResult {
  latenciesMs: number[];
  sent: number;
  unanswered: number;
  warmupFailed: number;
}

const LETTERS = Array.from({ length: 26 }, (_, i) => 97 + i);

/**
 * Each session is a typist pressing one key every 1000/rate ms (random phase) for durationMs. The
 * latency of a key is the time until its byte first comes back; keys cycle a..z so a duplicate echo
 * (terminal echo plus program echo) never matches the next key.
 */
export async function runTypists(sessions: readonly BenchSession[], rate: number, durationMs: number): Promise<TypistResult> {
  const res: TypistResult = { latenciesMs: [], sent: 0, unanswered: 0, warmupFailed: 0 };
  // Warm-up: one key each, answered, proves the remote end is there (kubectl has no start signal).
  const warm = await Promise.all(
    sessions.map(async (s) => {
      const echoed = new Promise<boolean>((resolve) => {
        s.onData = (c) => c.includes(122) && resolve(true);
      });
      s.write(Uint8Array.of(122));
      return within(echoed, 15000, false);
    }),
  );
  const live = sessions.filter((_, i) => warm[i]);
  res.warmupFailed = sessions.length - live.length;
  await sleep(200); // let stray warm-up echoes drain
  const interval = 1000 / rate;
  const timers: NodeJS.Timeout[] = [];
  const pendings: { b: number; t: number }[][] = [];
  live.forEach((s, idx) => {
    const pending: { b: number; t: number }[] = [];
    pendings.push(pending);
    let k = idx % 26;
    s.onData = (chunk) => {
      const now = performance.now();
      for (let i = 0; i < chunk.length && pending.length > 0; i++) {
        const head = pending[0] as { b: number; t: number };
        if (chunk[i] === head.b) {
          res.latenciesMs.push(now - head.t);
          pending.shift();
        }
      }
    };
    const press = (): void => {
      const b = LETTERS[k++ % 26] as number;
      pending.push({ b, t: performance.now() });
      res.sent++;
      s.write(Uint8Array.of(b));
    };
    const start = setTimeout(() => {
      press();
      timers.push(setInterval(press, interval));
    }, Math.random() * interval);
    timers.push(start);
  });
  await sleep(durationMs);
  for (const t of timers) clearInterval(t);
  await sleep(Math.min(2000, 500 + durationMs / 10)); // late echoes still count
  for (const p of pendings) res.unanswered += p.length;
  for (const s of live) s.onData = () => {};
  return res;
}

export interface ReadPlan {
  /** 'fast': read everything at once; 'slow': at most rateBps during phaseMs; 'stall': nothing during phaseMs. */
  mode: 'fast' | 'slow' | 'stall';
  rateBps?: number;
  phaseMs?: number;
}

export interface FloodResult {
  bytes: number;
  /** ms from the session's start to its first and last output byte. */
  firstMs: number;
  lastMs: number;
  /** Bytes received before the slow/stall phase ended. */
  bytesInPhase: number;
  sha256?: string;
  end: EndInfo;
}

/** Reads one session's output to its end following `plan`; hashes it when asked. */
export async function drainSession(s: BenchSession, plan: ReadPlan, hash: boolean, timeoutMs: number): Promise<FloodResult> {
  const h = hash ? createHash('sha256') : undefined;
  const t0 = performance.now();
  const r: FloodResult = { bytes: 0, firstMs: NaN, lastMs: NaN, bytesInPhase: 0, end: { exitCode: null } };
  let phase = plan.mode !== 'fast';
  let resumeTimer: NodeJS.Timeout | undefined;
  const phaseTimer = phase
    ? setTimeout(() => {
        phase = false;
        clearTimeout(resumeTimer);
        s.resumeReading();
      }, plan.phaseMs ?? 10000)
    : undefined;
  s.onData = (chunk) => {
    const now = performance.now();
    if (r.bytes === 0) r.firstMs = now - t0;
    r.lastMs = now - t0;
    r.bytes += chunk.length;
    h?.update(chunk);
    if (!phase) return;
    r.bytesInPhase += chunk.length;
    if (plan.mode === 'slow') {
      const allowed = ((plan.rateBps ?? 10240) * (now - t0)) / 1000;
      if (r.bytesInPhase > allowed) {
        s.pauseReading();
        clearTimeout(resumeTimer);
        resumeTimer = setTimeout(() => phase && s.resumeReading(), ((r.bytesInPhase - allowed) * 1000) / (plan.rateBps ?? 10240));
      }
    }
  };
  if (plan.mode === 'stall') s.pauseReading();
  r.end = await within(s.ended, timeoutMs, { exitCode: null, error: `no end within ${timeoutMs} ms` });
  clearTimeout(phaseTimer);
  clearTimeout(resumeTimer);
  if (r.end.error?.startsWith('no end')) s.close(true);
  if (h) r.sha256 = h.digest('hex');
  return r;
}

export interface ChurnResult {
  opened: number;
  started: number;
  droppedBeforeStart: number;
  droppedAbrupt: number;
  failed: number;
  notEnded: number;
  errors: string[];
  wallMs: number;
}

/**
 * Opens `count` sessions (at most `concurrency` alive at once) and drops each at a random moment:
 * some during setup, the rest after a random hold, a third of those without a close handshake.
 */
export async function runChurn(open: Opener, count: number, concurrency: number, maxHoldMs: number, timeoutMs: number, clean = false): Promise<ChurnResult> {
  const r: ChurnResult = { opened: 0, started: 0, droppedBeforeStart: 0, droppedAbrupt: 0, failed: 0, notEnded: 0, errors: [], wallMs: 0 };
  const t0 = performance.now();
  const deadline = t0 + timeoutMs;
  await runLanes(count, concurrency, deadline, async () => {
    r.opened++;
    const s = open();
    // A drop detaches a session on a gateway with a detach grace (it lives on): `clean` never drops.
    const early = !clean && Math.random() < 0.15;
    const abrupt = !clean && Math.random() < 0.33;
    if (early) {
      await sleep(Math.random() * 5);
      r.droppedBeforeStart++;
    } else {
      const ok = await awaitStart(s, 30000);
      if (ok === true) {
        r.started++;
        if (Math.random() < 0.5) s.write(Uint8Array.of(120));
        await sleep(Math.random() * maxHoldMs);
      } else {
        r.failed++;
        if (r.errors.length < 5) r.errors.push(ok.message);
      }
    }
    if (abrupt) r.droppedAbrupt++;
    s.close(abrupt);
    const ended = await within(s.ended.then(() => true), 15000, false);
    if (!ended) r.notEnded++;
  });
  r.wallMs = performance.now() - t0;
  return r;
}
