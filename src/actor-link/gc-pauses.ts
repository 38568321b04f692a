/**
 * This thread's garbage-collection pauses, from perf_hooks `gc` entries (issue 13: find the pauses
 * behind keystroke tails). prom-client's default `nodejs_gc_duration_seconds` sees the main thread
 * only; every actor host reports these in its probe, so /metrics shows the workers' pauses too.
 * Cumulative since the thread started (counters), plus the longest pause.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';

export interface GcPauses {
  /** Pauses observed. */
  count: number;
  /** Their total, in seconds. */
  seconds: number;
  /** Pauses of 10 ms or more (each one a keystroke echo that waited at least that long). */
  over10ms: number;
  /** The longest pause, in milliseconds. */
  maxMs: number;
  /** Scavenges (young generation) and full mark-compacts, counted apart. */
  minor: number;
  major: number;
}

const totals: GcPauses = { count: 0, seconds: 0, over10ms: 0, maxMs: 0, minor: 0, major: 0 };
let observer: PerformanceObserver | undefined;

/**
 * Starts counting this thread's pauses (idempotent): called where a thread starts hosting sessions,
 * since a pause before it is not seen. The observer lives as long as the thread.
 */
export function watchGcPauses(): void {
  if (observer) return;
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) add(e.duration, (e as { detail?: { kind?: number } }).detail?.kind);
  });
  observer.observe({ entryTypes: ['gc'] });
}

/** What was counted so far (zeros before watchGcPauses). */
export function gcPauses(): GcPauses {
  return { ...totals };
}

/** Several threads' pauses as one: counts and times add up, the longest is the longest. */
export function sumPauses(all: readonly GcPauses[]): GcPauses {
  const s: GcPauses = { count: 0, seconds: 0, over10ms: 0, maxMs: 0, minor: 0, major: 0 };
  for (const p of all) {
    s.count += p.count;
    s.seconds += p.seconds;
    s.over10ms += p.over10ms;
    s.maxMs = Math.max(s.maxMs, p.maxMs);
    s.minor += p.minor;
    s.major += p.major;
  }
  return s;
}

function add(ms: number, kind: number | undefined): void {
  totals.count++;
  totals.seconds += ms / 1000;
  if (ms >= 10) totals.over10ms++;
  if (ms > totals.maxMs) totals.maxMs = ms;
  if (kind === constants.NODE_PERFORMANCE_GC_MINOR) totals.minor++;
  else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) totals.major++;
}
