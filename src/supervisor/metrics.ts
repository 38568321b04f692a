/**
 * The metrics behind /metrics (docs/protocol.md "Metrics every podterm exposes"), kept by
 * prom-client in one Registry per gateway: never the global registry, since tests run several
 * gateways in one process. The default Node.js process metrics are registered there too (they
 * describe the process, so two gateways in one process report the same values).
 *
 * Live gauges (sessions, actors, exec streams, workers) are not kept here: they are read at scrape
 * time through `watch(probe)`, one probe per scrape shared by every gauge, because the actors are
 * counted by the workers themselves.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { GcPauses } from '../actor-link/gc-pauses.js';
import { ERRORS, type ErrorCode } from '../protocol/errors.js';

export type SessionOutcome = 'exited' | 'error' | 'client_closed' | 'shutdown' | 'worker_lost' | 'refused' | 'idle_timeout';
const OUTCOMES: readonly SessionOutcome[] = ['exited', 'error', 'client_closed', 'shutdown', 'worker_lost', 'refused', 'idle_timeout'];

/**
 * The outcome of a session the actor ended with this close code and reason (the `end` message):
 * an idle timeout is its own outcome, not an error.
 */
export function outcomeOfEnd(closeCode: number, reason: string): SessionOutcome {
  if (closeCode === 1000) return 'exited';
  if (closeCode === ERRORS.ServerShuttingDown.close) return 'shutdown';
  if (reason === 'IdleTimeout') return 'idle_timeout';
  // The owner ended a session, or left it detached past the grace: the client's doing, no failure.
  if (reason === 'SessionGone') return 'client_closed';
  return 'error';
}

/** Error codes that end a session normally (a limit or a drain), so they are not failures. */
const NOT_FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['IdleTimeout', 'SessionExpired', 'ServerShuttingDown', 'SessionGone']);

export function isFailure(code: ErrorCode): boolean {
  return !NOT_FAILURES.has(code);
}

export interface LiveCounts {
  sessionsActive: number;
  actorsActive: number;
  execSocketsOpen: number;
  workers: number;
  recordingsOpen?: number;
  recordingStops?: number;
  replayBuffers?: number;
  timers?: number;
  gc?: { main: GcPauses; workers: GcPauses | undefined };
}

export class Metrics {
  readonly registry = new Registry();
  readonly #sessions: Counter<'outcome'>;
  readonly #failures: Counter<'code'>;
  readonly #bytes: Counter<'direction'>;
  readonly #pauses: Counter;
  readonly #deadlineMisses: Counter;
  readonly #recycles: Counter;
  readonly #recycledSessions: Counter;
  readonly #abandoned: Counter;
  /** Sessions given up because their actor could not be reached (read by tests). */
  abandonedSessions = 0;
  // Plain mirrors of the counters, for the `x += n` / `x++` callers and for stats().
  #bytesIn = 0;
  #bytesOut = 0;
  #backpressurePauses = 0;
  #closeDeadlineMisses = 0;
  #probe: (() => Promise<LiveCounts>) | undefined;
  #scrape: Promise<LiveCounts> | undefined;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    this.#sessions = new Counter({ name: 'podterm_sessions_total', help: 'Sessions ended, by outcome.', labelNames: ['outcome'], registers });
    for (const outcome of OUTCOMES) this.#sessions.inc({ outcome }, 0);
    this.#failures = new Counter({
      name: 'podterm_session_failures_total',
      help: 'Sessions that failed to open or failed while open, by error code (docs/protocol.md).',
      labelNames: ['code'],
      registers,
    });
    for (const code of Object.keys(ERRORS) as ErrorCode[]) if (isFailure(code)) this.#failures.inc({ code }, 0);
    const metrics = this;
    // Counted per message in the plain fields below and handed to prom-client at scrape time: a
    // labelled inc() per keystroke allocated ~120 B (the label set's hash key) on the main thread.
    const sent = { in: 0, out: 0 };
    this.#bytes = new Counter({
      name: 'podterm_bytes_total',
      help: 'Bytes of WebSocket payload moved.',
      labelNames: ['direction'],
      registers,
      collect: function (this: Counter<'direction'>) {
        this.inc({ direction: 'in' }, metrics.#bytesIn - sent.in);
        this.inc({ direction: 'out' }, metrics.#bytesOut - sent.out);
        sent.in = metrics.#bytesIn;
        sent.out = metrics.#bytesOut;
      },
    });
    this.#pauses = new Counter({ name: 'podterm_backpressure_pauses_total', help: 'Times a browser socket passed its high-water mark.', registers });
    this.#deadlineMisses = new Counter({ name: 'podterm_close_deadline_misses_total', help: 'Actors that did not finish closing in time.', registers });
    this.#recycles = new Counter({ name: 'podterm_worker_recycles_total', help: 'Worker threads ended because an actor missed its close deadline and the thread did not answer a probe (the last resort).', registers });
    this.#recycledSessions = new Counter({ name: 'podterm_worker_recycle_sessions_total', help: 'Sessions that were on a worker when it was recycled: what the last resort cost.', registers });
    this.#abandoned = new Counter({ name: 'podterm_sessions_abandoned_total', help: 'Sessions given up because their actor could not be reached in time.', registers });
    const live = (name: string, help: string, pick: (c: LiveCounts) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const counts = await metrics.#probeOnce();
          if (counts) this.set(pick(counts));
        },
      });
    };
    live('podterm_sessions_active', 'Sessions open (including ones still closing).', (c) => c.sessionsActive);
    live('podterm_actors_active', 'Session actors alive, counted by the workers themselves.', (c) => c.actorsActive);
    live('podterm_exec_streams_active', 'Exec sockets to the API server that are open.', (c) => c.execSocketsOpen);
    live('podterm_workers', 'Worker threads running actors (0: the main thread).', (c) => c.workers);
    live('podterm_recordings_open', 'Session recordings of open sessions (writing, or parked with their file closed after 1 s without output).', (c) => c.recordingsOpen ?? 0);
    live('podterm_replay_buffers_active', 'Replay rings held by sessions that can be resumed.', (c) => c.replayBuffers ?? 0);
    live('podterm_timers_active', 'Timers pending in the gateway (main thread and workers, those that keep a loop alive); a residue check compares it with an idle baseline.', (c) => c.timers ?? 0);
    // Counted by the actor threads; read at scrape time and added as it grows.
    let stopsSeen = 0;
    new Counter({
      name: 'podterm_recordings_stopped_total',
      help: 'Recordings that stopped early (write error, --record-max-bytes, a disk too slow for the buffer); the log line says why.',
      registers,
      collect: async function (this: Counter) {
        const counts = await metrics.#probeOnce();
        const now = counts?.recordingStops ?? stopsSeen;
        if (now > stopsSeen) this.inc(now - stopsSeen);
        stopsSeen = Math.max(stopsSeen, now);
      },
    });

    // GC pauses per thread kind (gc-pauses.ts): the workers' are invisible to nodejs_gc_duration_seconds.
    const threads = (c: LiveCounts | undefined): Array<[string, GcPauses]> => {
      const out: Array<[string, GcPauses]> = [];
      if (c?.gc) out.push(['main', c.gc.main]);
      if (c?.gc?.workers) out.push(['workers', c.gc.workers]);
      return out;
    };
    const pauses = (name: string, help: string, pick: (p: GcPauses) => number): void => {
      const seen = new Map<string, number>();
      new Counter({
        name,
        help,
        labelNames: ['thread'],
        registers,
        collect: async function (this: Counter<'thread'>) {
          for (const [thread, p] of threads(await metrics.#probeOnce())) {
            const now = pick(p);
            const before = seen.get(thread) ?? 0;
            if (now > before) this.inc({ thread }, now - before);
            // A recycled worker starts again from zero: count from its new total on.
            seen.set(thread, now);
          }
        },
      });
    };
    pauses('podterm_gc_pauses_total', 'Garbage-collection pauses, by thread kind (main, workers).', (p) => p.count);
    pauses('podterm_gc_pause_seconds_total', 'Time spent in garbage-collection pauses, by thread kind.', (p) => p.seconds);
    pauses('podterm_gc_pauses_over_10ms_total', 'Garbage-collection pauses of 10 ms or more, by thread kind: each delays every session on that thread.', (p) => p.over10ms);
    new Gauge({
      name: 'podterm_gc_pause_max_seconds',
      help: 'The longest garbage-collection pause since the threads started, by thread kind.',
      labelNames: ['thread'],
      registers,
      async collect() {
        for (const [thread, p] of threads(await metrics.#probeOnce())) this.set({ thread }, p.maxMs / 1000);
      },
    });
  }

  /** Another gauge read at scrape time (e.g. podterm_forwards_active, src/cluster). */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({ name, help, registers: [this.registry], collect() {
      this.set(read());
    } });
  }

  /** Where the live gauges read their values at scrape time (the supervisor's stats()). */
  watch(probe: () => Promise<LiveCounts>): void {
    this.#probe = probe;
  }

  /** One probe per scrape: prom-client collects every metric at once, so they share it. */
  #probeOnce(): Promise<LiveCounts | undefined> {
    const probe = this.#probe;
    if (!probe) return Promise.resolve(undefined);
    this.#scrape ??= probe().finally(() => {
      this.#scrape = undefined;
    });
    return this.#scrape;
  }

  countSession(outcome: SessionOutcome): void {
    this.#sessions.inc({ outcome });
  }

  /** A failed open or a session that ended with this error code (see isFailure). */
  countFailure(code: ErrorCode): void {
    if (isFailure(code)) this.#failures.inc({ code });
  }

  /** A worker recycled for a missed close deadline, with the sessions it was running. */
  countRecycle(sessions: number): void {
    this.#recycles.inc();
    this.#recycledSessions.inc(sessions);
  }

  countAbandoned(): void {
    this.abandonedSessions++;
    this.#abandoned.inc();
  }

  get bytesIn(): number {
    return this.#bytesIn;
  }
  set bytesIn(v: number) {
    if (v > this.#bytesIn) this.#bytesIn = v;
  }
  get bytesOut(): number {
    return this.#bytesOut;
  }
  set bytesOut(v: number) {
    if (v > this.#bytesOut) this.#bytesOut = v;
  }
  get backpressurePauses(): number {
    return this.#backpressurePauses;
  }
  set backpressurePauses(v: number) {
    this.#pauses.inc(Math.max(0, v - this.#backpressurePauses));
    this.#backpressurePauses = v;
  }
  get closeDeadlineMisses(): number {
    return this.#closeDeadlineMisses;
  }
  set closeDeadlineMisses(v: number) {
    this.#deadlineMisses.inc(Math.max(0, v - this.#closeDeadlineMisses));
    this.#closeDeadlineMisses = v;
  }

  /** The Prometheus text. Live gauges come from the watch() probe. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Kept for Supervisor.metricsText(): `live` is ignored when a probe is watched (the gauges read
   * it themselves); without one, the gauges are set from it.
   */
  render(live: LiveCounts): Promise<string> {
    if (!this.#probe) {
      const fixed = Promise.resolve(live);
      return this.#withProbe(() => fixed);
    }
    return this.text();
  }

  async #withProbe(probe: () => Promise<LiveCounts>): Promise<string> {
    this.#probe = probe;
    try {
      return await this.text();
    } finally {
      this.#probe = undefined;
    }
  }

  /**
   * Removes every metric from the registry. (prom-client offers no way to stop the default
   * metrics' event-loop histogram and GC observer; they stay with the process.)
   */
  close(): void {
    this.registry.clear();
  }
}
