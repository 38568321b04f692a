/** The counters behind /metrics (Prometheus text format, written by hand: no extra dependency). */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export type SessionOutcome = 'exited' | 'error' | 'idle_timeout' | 'client_closed' | 'shutdown' | 'worker_lost' | 'refused';

export class Metrics {
  sessionsTotal = new Map<SessionOutcome, number>();
  bytesIn = 0;
  bytesOut = 0;
  backpressurePauses = 0;
  closeDeadlineMisses = 0;
  /** Failed opens and failed sessions, by error code (NotFound, ContainerNotRunning, NoShell...). */
  failures = new Map<string, number>();
  workerRecycles = 0;
  /** Sessions that were on a worker when it was recycled: what the last resort cost. */
  recycledSessions = 0;
  abandonedSessions = 0;
  readonly #loop: IntervalHistogram;

  constructor() {
    this.#loop = monitorEventLoopDelay({ resolution: 20 });
    this.#loop.enable();
  }

  countSession(outcome: SessionOutcome): void {
    this.sessionsTotal.set(outcome, (this.sessionsTotal.get(outcome) ?? 0) + 1);
  }

  countFailure(code: string): void {
    this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
  }

  render(live: { sessionsActive: number; actorsActive: number; execSocketsOpen: number; workers: number }): string {
    const mem = process.memoryUsage();
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: Array<[string, number]>): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    metric('podterm_sessions_active', 'gauge', 'Sessions open (including ones still closing).', [['', live.sessionsActive]]);
    const outcomes: SessionOutcome[] = ['exited', 'error', 'idle_timeout', 'client_closed', 'shutdown', 'worker_lost', 'refused'];
    metric('podterm_sessions_total', 'counter', 'Sessions ended, by outcome.', outcomes.map((o) => [`{outcome="${o}"}`, this.sessionsTotal.get(o) ?? 0]));
    metric('podterm_actors_active', 'gauge', 'Session actors alive, counted by the workers themselves.', [['', live.actorsActive]]);
    metric('podterm_exec_streams_active', 'gauge', 'Exec sockets to the API server that are open.', [['', live.execSocketsOpen]]);
    metric('podterm_workers', 'gauge', 'Worker threads running actors (0: the main thread).', [['', live.workers]]);
    metric('podterm_bytes_total', 'counter', 'Bytes of WebSocket payload moved.', [
      ['{direction="in"}', this.bytesIn],
      ['{direction="out"}', this.bytesOut],
    ]);
    metric('podterm_backpressure_pauses_total', 'counter', 'Times a browser socket passed its high-water mark.', [['', this.backpressurePauses]]);
    metric('podterm_close_deadline_misses_total', 'counter', 'Actors that did not finish closing in time.', [['', this.closeDeadlineMisses]]);
    metric('podterm_session_failures_total', 'counter', 'Failed opens and failed sessions, by error code.', [...this.failures].map(([c, n]) => [`{code="${c}"}`, n]));
    metric('podterm_worker_recycles_total', 'counter', 'Worker threads ended because an actor missed its close deadline.', [['', this.workerRecycles]]);
    metric('podterm_worker_recycle_sessions_total', 'counter', 'Sessions that were on a recycled worker.', [['', this.recycledSessions]]);
    metric('podterm_sessions_abandoned_total', 'counter', 'Sessions given up because their actor could not be reached.', [['', this.abandonedSessions]]);
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', [['', mem.rss]]);
    metric('process_heap_bytes', 'gauge', 'V8 heap used by the main thread, in bytes.', [['', mem.heapUsed]]);
    metric('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap size of the main thread, in bytes.', [['', mem.heapTotal]]);
    metric('nodejs_external_memory_bytes', 'gauge', 'Memory of C++ objects bound to JS objects, in bytes.', [['', mem.external]]);
    const cpu = process.cpuUsage();
    metric('process_cpu_seconds_total', 'counter', 'User and system CPU time, in seconds.', [['', (cpu.user + cpu.system) / 1e6]]);
    metric('nodejs_eventloop_lag_seconds', 'gauge', 'Mean event loop delay since the last scrape, in seconds.', [['', Number.isNaN(this.#loop.mean) ? 0 : this.#loop.mean / 1e9]]);
    metric('nodejs_eventloop_lag_max_seconds', 'gauge', 'Max event loop delay since the last scrape, in seconds.', [['', this.#loop.max / 1e9]]);
    this.#loop.reset();
    return lines.join('\n') + '\n';
  }

  close(): void {
    this.#loop.disable();
  }
}
