/**
 * The session table: admits sessions within the limits, places each on an actor, and knows when
 * every one of them has ended. Drain and close go through here.
 */
import { randomUUID } from 'node:crypto';
import { PodtermError } from '../protocol/errors.js';
import type { ExecParams } from '../protocol/index.js';
import type { ActorPool } from '../actor-link/actor-pool.js';
import { collectGarbage } from '../actor-link/collect-garbage.js';
import type { Metrics } from './metrics.js';
import { Session, type ClientLink, type FlowLimits, type SessionDeps } from './session.js';

export interface SupervisorLimits extends FlowLimits {
  maxSessions: number;
  maxSessionsPerToken: number;
  idleTimeoutMs: number;
  maxSessionAgeMs: number;
}

export interface SessionRequest extends ExecParams {
  /** Who owns the session, for the per-token limit (never the token itself). */
  ownerKey: string;
  context: string | undefined;
}

export interface SupervisorStats {
  sessionsActive: number;
  actorsActive: number;
  execSocketsOpen: number;
  workers: number;
  /** Heap used per thread (main thread first), after a GC when asked. */
  heapUsed: number[];
}

type SupervisorState = 'running' | 'draining' | 'closed';

export class Supervisor {
  #state: SupervisorState = 'running';
  readonly #sessions = new Map<string, Session>();
  readonly #perOwner = new Map<string, number>();
  readonly #pool: ActorPool;
  readonly #metrics: Metrics;
  readonly #limits: SupervisorLimits;
  readonly #deps: SessionDeps;

  constructor(pool: ActorPool, metrics: Metrics, limits: SupervisorLimits, log: SessionDeps['log']) {
    this.#pool = pool;
    this.#metrics = metrics;
    this.#limits = limits;
    this.#deps = { pool, metrics, flow: limits, log, onDone: (s) => this.#forget(s) };
  }

  get draining(): boolean {
    return this.#state !== 'running';
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Starts a session, or says why not (ServerShuttingDown, TooManySessions). */
  open(req: SessionRequest, link: ClientLink): Session | PodtermError {
    if (this.#state !== 'running') return new PodtermError('ServerShuttingDown');
    if (this.#sessions.size >= this.#limits.maxSessions) return new PodtermError('TooManySessions', 'The server has reached its session limit.');
    const owned = this.#perOwner.get(req.ownerKey) ?? 0;
    if (owned >= this.#limits.maxSessionsPerToken) return new PodtermError('TooManySessions', 'You have reached your session limit; close a tab and try again.');
    const id = randomUUID();
    const session = new Session(
      {
        session: id,
        namespace: req.namespace,
        pod: req.pod,
        container: req.container,
        command: req.command,
        cols: req.cols,
        rows: req.rows,
        context: req.context,
        idleTimeoutMs: this.#limits.idleTimeoutMs,
        maxSessionAgeMs: this.#limits.maxSessionAgeMs,
      },
      req.ownerKey,
      link,
      this.#deps,
    );
    this.#sessions.set(id, session);
    this.#perOwner.set(req.ownerKey, owned + 1);
    return session;
  }

  countRefused(): void {
    this.#metrics.countSession('refused');
  }

  #forget(s: Session): void {
    if (!this.#sessions.delete(s.id)) return;
    const left = (this.#perOwner.get(s.ownerKey) ?? 1) - 1;
    if (left <= 0) this.#perOwner.delete(s.ownerKey);
    else this.#perOwner.set(s.ownerKey, left);
  }

  async stats(gc = false): Promise<SupervisorStats> {
    const reports = await this.#pool.probe(gc);
    if (gc) await collectGarbage();
    return {
      sessionsActive: this.#sessions.size,
      actorsActive: reports.reduce((n, r) => n + r.actors, 0),
      execSocketsOpen: reports.reduce((n, r) => n + r.execs, 0),
      workers: this.#pool.workers,
      heapUsed: [mainMemory(), ...(this.#pool.workers > 0 ? reports.map((r) => r.heapUsed) : [])],
    };
  }

  async metricsText(): Promise<string> {
    const s = await this.stats();
    return this.#metrics.render(s);
  }

  /**
   * Refuse new sessions, give open ones `graceMs` to end by themselves, then close the rest with
   * ServerShuttingDown (1001) and wait until every actor has ended.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.#state === 'running') this.#state = 'draining';
    const deadline = Date.now() + graceMs;
    while (this.#sessions.size > 0 && Date.now() < deadline) await delay(Math.min(100, deadline - Date.now()));
    await this.#endAll();
  }

  async #endAll(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    for (const s of sessions) s.shutdown();
    await Promise.allSettled(sessions.map((s) => s.finished));
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await this.#endAll();
    await this.#pool.close();
    this.#metrics.close();
  }

  /** Test hook: ends one worker thread; its sessions end with Internal (1011). */
  terminateWorker(): Promise<void> {
    return this.#pool.terminateOne();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

function mainMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
