/**
 * The session table: admits sessions within the limits, places each on an actor, and knows when
 * every one of them has ended. Drain and close go through here.
 */
import { randomUUID } from 'node:crypto';
import { ERRORS, PodtermError, type ErrorCode } from '../protocol/errors.js';
import type { ExecParams } from '../protocol/index.js';
import type { ActorPool } from '../actor-link/actor-pool.js';
import type { ActAs } from '../kube/act-as.js';
import { collectGarbage } from '../actor-link/collect-garbage.js';
import { gcPauses, sumPauses, watchGcPauses, type GcPauses } from '../actor-link/gc-pauses.js';
import { pendingTimers } from '../actor-link/pending-timers.js';
import { ACK_DELAY_MS, type RecordingSettings } from '../actor-link/actor-messages.js';
import type { AuditEventName, AuditFields, AuditLog } from '../audit/audit-log.js';
import type { Metrics } from './metrics.js';
import type { ResumeClaims } from '../auth/resume-token.js';
import { Session, type Attachment, type ClientLink, type FlowLimits, type LogFn, type SessionDeps, type SessionInfo, type SessionSummary } from './session.js';
import { actorInit } from './actor-init.js';
import { AckSweep } from './ack-sweep.js';
import { SessionShares, type IssuedShare, type ShareTokenSigner } from './session-shares.js';
import { waiter, type Waiter } from '../lib/waiter.js';

export interface SupervisorLimits extends FlowLimits {
  maxSessions: number;
  maxSessionsPerToken: number;
  idleTimeoutMs: number;
  maxSessionAgeMs: number;
  /** `--kill-on-close` (default true). */
  killOnClose?: boolean;
  /** How long a session whose owner has no socket lives on; 0 = it ends with its socket. */
  detachGraceMs: number;
  /** Replay ring per session (bytes); 0 = off. */
  replayBytes: number;
}

/** Whose session it is, as the audit log and the recording name them. */
export interface SessionPerson {
  user: string;
  groups: string[];
  via: string;
}

/** Where the request came from (audit only). */
export interface SessionClient {
  remoteAddress?: string;
  userAgent?: string;
}

/** Recording and audit, both optional (`--record-dir`, `--audit-log`). */
export interface SessionRecords {
  replica: string;
  /** The actor threads have the same settings (ActorPool): sessions carry only their owner. */
  recording?: RecordingSettings;
  audit?: AuditLog;
}

/** Signs and checks resume tokens (src/auth/resume-token.ts). */
export interface ResumeTokenSigner {
  issue(claims: ResumeClaims): string;
  verify(token: string): ResumeClaims | undefined;
}

export interface SessionIdentity {
  replicaId: string;
  tokens: ResumeTokenSigner;
  /** Share tokens (read-only links); without it nobody can share or observe. */
  shares?: ShareTokenSigner;
}

/** Who watches (audit only; any signed-in person may, with a share token). */
export interface SessionViewer {
  user: string;
  client?: SessionClient;
}

/** A resume token without max session age still expires (a leaked one is not good forever). */
const RESUME_TOKEN_MAX_S = 30 * 24 * 60 * 60;

export interface SessionRequest extends ExecParams {
  /** Who owns the session, for the per-person limit: the username (never a token). */
  ownerKey: string;
  context: string | undefined;
  person: SessionPerson;
  client?: SessionClient;
  /** The person the actor acts as (ActorInit.as). */
  as?: ActAs | undefined;
}

export interface SupervisorStats {
  sessionsActive: number;
  actorsActive: number;
  execSocketsOpen: number;
  recordingsOpen: number;
  recordingSlotsInUse: number;
  recordingStops: number;
  replayBuffers: number;
  /** Timers pending on the main thread and on every worker (ref'd ones: pending-timers.ts). */
  timers: number;
  workers: number;
  /** Heap used per thread (main thread first), after a GC when asked. */
  heapUsed: number[];
  /** GC pauses of the main thread, and of the worker threads together (none without workers). */
  gc: { main: GcPauses; workers: GcPauses | undefined };
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
  readonly #acks = new AckSweep(ACK_DELAY_MS / 2);
  /** Sessions that still hold a per-owner slot (not yet closing). */
  readonly #holdingSlot = new Set<string>();
  /** Resolves when the table becomes empty (drain waits on it instead of polling). */
  #emptied: Waiter | undefined;
  #closing: Promise<void> | undefined;
  readonly #recycling = new Set<number>();
  readonly #aliveProbes = new Map<number, Promise<boolean>>();

  readonly #identity: SessionIdentity;
  readonly #records: SessionRecords;
  /** Per live session, what its end line in the audit log repeats. */
  readonly #auditBase = new Map<string, AuditFields>();
  readonly #shares: SessionShares | undefined;
  /** Observers attached now, with what their observe.end line says. */
  readonly #watching = new Map<Attachment, { since: number; audit: AuditFields }>();

  constructor(pool: ActorPool, metrics: Metrics, limits: SupervisorLimits, log: LogFn, identity: SessionIdentity, records: SessionRecords = { replica: 'podterm' }) {
    watchGcPauses();
    this.#identity = identity;
    this.#records = records;
    this.#shares = identity.shares ? new SessionShares(identity.shares, identity.replicaId) : undefined;
    this.#pool = pool;
    this.#metrics = metrics;
    this.#limits = limits;
    this.#deps = {
      pool,
      metrics,
      flow: limits,
      log,
      onClosing: (s) => this.#releaseSlot(s),
      onDone: (s, summary) => {
        this.#audited(summary);
        this.#forget(s);
      },
      onLeave: (_s, a, code) => this.#observerLeft(a, code),
      threadAlive: (threadId) => this.#threadAlive(threadId),
      recycle: (threadId) => this.#recycle(threadId),
      acks: this.#acks,
    };
  }

  get draining(): boolean {
    return this.#state !== 'running';
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Starts a session with `link` as its owner's first socket, or says why not (ServerShuttingDown, TooManySessions). */
  open(req: SessionRequest, link: ClientLink): Attachment | PodtermError {
    if (this.#state !== 'running') return new PodtermError('ServerShuttingDown');
    if (this.#sessions.size >= this.#limits.maxSessions) return new PodtermError('TooManySessions', 'The server has reached its session limit.');
    const owned = this.#perOwner.get(req.ownerKey) ?? 0;
    if (owned >= this.#limits.maxSessionsPerToken) return new PodtermError('TooManySessions', 'You have reached your session limit; close a tab and try again.');
    const id = randomUUID();
    const maxAgeS = this.#limits.maxSessionAgeMs > 0 ? Math.ceil(this.#limits.maxSessionAgeMs / 1000) : RESUME_TOKEN_MAX_S;
    const resumeToken = this.#identity.tokens.issue({ session: id, owner: req.ownerKey, replica: this.#identity.replicaId, expires: Math.floor(Date.now() / 1000) + maxAgeS + 60 });
    this.#holdingSlot.add(id);
    this.#perOwner.set(req.ownerKey, owned + 1);
    if (this.#records.audit) {
      const base: AuditFields = {
        user: req.person.user,
        groups: req.person.groups,
        via: req.person.via,
        session: id,
        namespace: req.namespace,
        pod: req.pod,
        ...(req.container ? { container: req.container } : {}),
        ...(req.command ? { command: req.command } : {}),
        replica: this.#records.replica,
        ...(req.client?.remoteAddress ? { remoteAddress: req.client.remoteAddress } : {}),
        ...(req.client?.userAgent ? { userAgent: req.client.userAgent } : {}),
      };
      this.#auditBase.set(id, base);
      this.#records.audit.write('session.start', base);
    }
    this.#deps.log('info', 'session start', { session: id, who: req.ownerKey, namespace: req.namespace, pod: req.pod, container: req.container });
    const session = new Session(
      actorInit(id, req, this.#limits, this.#records, resumeToken),
      { key: req.ownerKey, link },
      this.#deps,
    );
    this.#sessions.set(id, session);
    return session.opener;
  }

  /**
   * Attaches `link` to the session a resume token names, as its owner. Anything else is
   * SessionGone: a token that is forged, expired or for another replica, a session that ended, or
   * one that belongs to someone else (which is not told apart, so nobody learns what exists).
   */
  resume(token: string, ownerKey: string, link: ClientLink, client?: SessionClient): Attachment | PodtermError {
    if (this.#state !== 'running') return new PodtermError('ServerShuttingDown');
    const claims = this.#identity.tokens.verify(token);
    const session = claims && claims.replica === this.#identity.replicaId ? this.#sessions.get(claims.session) : undefined;
    if (!claims || !session || claims.owner !== ownerKey || session.ownerKey !== ownerKey) return new PodtermError('SessionGone');
    const attached = session.attach(link, 'owner', ownerKey);
    if (!attached) return new PodtermError('SessionGone');
    this.auditSession('session.resume', session.id, client);
    return attached;
  }

  /**
   * One audit line about a live session: its start line's who and where (user, groups, via,
   * namespace, pod, container, command, replica), this request's client, and `extra`. For the
   * events that happen to a session after it started (resume, observers, shares).
   */
  auditSession(event: AuditEventName, session: string, client?: SessionClient, extra: AuditFields = {}): void {
    const base = this.#auditBase.get(session);
    if (!base || !this.#records.audit) return;
    const { remoteAddress: _a, userAgent: _u, ...who } = base;
    this.#records.audit.write(event, {
      ...who,
      ...(client?.remoteAddress ? { remoteAddress: client.remoteAddress } : {}),
      ...(client?.userAgent ? { userAgent: client.userAgent } : {}),
      ...extra,
    });
  }

  /**
   * Attaches `link` read-only to the session a share token names (`?observe=TOKEN`): anyone signed
   * in who holds it. Anything else is SessionGone: a token that is forged, expired, revoked or for
   * another replica, or a session that ended.
   */
  observe(token: string, viewer: SessionViewer, link: ClientLink): Attachment | PodtermError {
    if (this.#state !== 'running') return new PodtermError('ServerShuttingDown');
    const id = this.#shares?.sessionOf(token);
    const session = id === undefined ? undefined : this.#sessions.get(id);
    const a = session?.attach(link, 'observer', viewer.user);
    if (!session || !a) return new PodtermError('SessionGone');
    const base = this.#auditBase.get(session.id);
    if (base && this.#records.audit) {
      const audit: AuditFields = {
        ...base, observer: viewer.user,
        remoteAddress: viewer.client?.remoteAddress, userAgent: viewer.client?.userAgent,
      };
      this.#watching.set(a, { since: Date.now(), audit });
      this.#records.audit.write('session.observe.start', audit);
    }
    this.#deps.log('info', 'observer joined', { session: session.id, who: viewer.user });
    return a;
  }

  /** A read-only link to one of the owner's live sessions; undefined when it has none by that id. */
  share(ownerKey: string, id: string, ttlSeconds: number): IssuedShare | undefined {
    const s = this.#sessions.get(id);
    if (!this.#shares || !s || s.ownerKey !== ownerKey || !s.live) return undefined;
    const issued = this.#shares.issue(id, ttlSeconds);
    const base = this.#auditBase.get(id);
    if (base) this.#records.audit?.write('session.share.create', { ...base, expiresAt: issued.expiresAt });
    return issued;
  }

  /**
   * Revokes every share of one of the owner's sessions: links made so far are refused, and the
   * watchers attached now get SessionGone. false when the owner has no live session by that id.
   */
  revokeShares(ownerKey: string, id: string): boolean {
    const s = this.#sessions.get(id);
    if (!this.#shares || !s || s.ownerKey !== ownerKey || !s.live) return false;
    this.#shares.revoke(id);
    const base = this.#auditBase.get(id);
    if (base) this.#records.audit?.write('session.share.revoke', base);
    s.endObservers('The owner stopped sharing this session.');
    return true;
  }

  #observerLeft(a: Attachment, code: number): void {
    const w = this.#watching.get(a);
    if (!w) return;
    this.#watching.delete(a);
    this.#records.audit?.write('session.observe.end', { ...w.audit, outcome: closeOutcome(code), durationMs: Date.now() - w.since });
  }

  /** The caller's live sessions on this replica (GET /api/v1/sessions). */
  sessionsOf(ownerKey: string): SessionInfo[] {
    return [...this.#sessions.values()].filter((s) => s.ownerKey === ownerKey && s.live).map((s) => s.info());
  }

  /** The owner ends one of its sessions (DELETE /api/v1/sessions/{id}); false when it has none by that id. */
  endSession(ownerKey: string, id: string): boolean {
    const s = this.#sessions.get(id);
    if (!s || s.ownerKey !== ownerKey || !s.live) return false;
    s.end();
    return true;
  }

  countRefused(code: ErrorCode): void {
    this.#metrics.countSession('refused');
    this.#metrics.countFailure(code);
  }

  /**
   * A session's owner slot is free as soon as it stops serving its owner (its socket closed or it
   * ended): the actor's teardown may finish later, and a quick reconnect must not be refused for it.
   */
  #releaseSlot(s: Session): void {
    if (!this.#holdingSlot.delete(s.id)) return;
    const left = (this.#perOwner.get(s.ownerKey) ?? 1) - 1;
    if (left <= 0) this.#perOwner.delete(s.ownerKey);
    else this.#perOwner.set(s.ownerKey, left);
  }

  #forget(s: Session): void {
    this.#releaseSlot(s);
    this.#shares?.forget(s.id);
    if (!this.#sessions.delete(s.id)) return;
    if (this.#sessions.size === 0 && this.#emptied) {
      this.#emptied.resolve();
      this.#emptied = undefined;
    }
  }

  /** The last resort for an actor that missed its close deadline: end its worker, once per thread. */
  /** One probe at a time per thread, however many of its sessions are overdue. */
  #threadAlive(threadId: number): Promise<boolean> {
    let answer = this.#aliveProbes.get(threadId);
    if (!answer) {
      answer = this.#pool.alive(threadId).finally(() => this.#aliveProbes.delete(threadId));
      this.#aliveProbes.set(threadId, answer);
    }
    return answer;
  }

  #recycle(threadId: number): void {
    if (this.#recycling.has(threadId)) return;
    this.#recycling.add(threadId);
    const cost = [...this.#sessions.values()].filter((s) => s.threadId === threadId && s.state !== 'closed').length;
    this.#metrics.countRecycle(cost);
    this.#deps.log('warn', 'recycling a worker thread', { threadId, sessions: cost });
    void this.#pool.recycle(threadId).finally(() => this.#recycling.delete(threadId));
  }

  #audited(summary: SessionSummary): void {
    const base = this.#auditBase.get(summary.session);
    if (!base) return;
    this.#auditBase.delete(summary.session);
    this.#records.audit?.write('session.end', {
      ...base,
      outcome: summary.code ?? summary.outcome,
      ...(summary.exitCode !== undefined ? { exitCode: summary.exitCode } : {}),
      bytesIn: summary.bytesIn,
      bytesOut: summary.bytesOut,
      durationMs: summary.durationMs,
      ...(this.#records.recording ? { recording: summary.session } : {}),
    });
  }

  #whenEmpty(): Promise<void> {
    if (this.#sessions.size === 0) return Promise.resolve();
    this.#emptied ??= waiter();
    return this.#emptied.promise;
  }

  async stats(gc = false): Promise<SupervisorStats> {
    const reports = await this.#pool.probe(gc);
    if (gc) await collectGarbage();
    return {
      sessionsActive: this.#sessions.size,
      actorsActive: reports.reduce((n, r) => n + r.actors, 0),
      execSocketsOpen: reports.reduce((n, r) => n + r.execs, 0),
      recordingsOpen: reports.reduce((n, r) => n + r.recordings, 0),
      recordingSlotsInUse: reports.reduce((n, r) => n + r.recordingSlots, 0),
      recordingStops: reports.reduce((n, r) => n + r.recordingStops, 0),
      replayBuffers: reports.reduce((n, r) => n + r.replayBuffers, 0),
      // Without workers the one report is the main thread's own.
      timers: (this.#pool.workers > 0 ? pendingTimers() : 0) + reports.reduce((n, r) => n + r.timers, 0),
      workers: this.#pool.workers,
      heapUsed: [mainMemory(), ...(this.#pool.workers > 0 ? reports.map((r) => r.heapUsed) : [])],
      gc: { main: gcPauses(), workers: this.#pool.workers > 0 ? sumPauses(reports.map((r) => r.gc)) : undefined },
    };
  }

  async metricsText(): Promise<string> {
    const s = await this.stats();
    return this.#metrics.render(s);
  }

  /**
   * Refuse new sessions, give open ones `graceMs` to end by themselves, then close the rest with
   * ServerShuttingDown (1001). Bounded whatever state sessions are in: after the grace, actors get
   * one close deadline to end, and those that cannot be reached by then are abandoned (counted),
   * never waited on. So SIGTERM exits within grace + close deadline.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.#state === 'running') this.#state = 'draining';
    await within(this.#whenEmpty(), graceMs);
    await this.#endAll(this.#limits.closeDeadlineMs);
  }

  /** Asks every session to shut down, waits up to `ms`, then abandons what is left. */
  async #endAll(ms: number): Promise<void> {
    const sessions = [...this.#sessions.values()];
    for (const s of sessions) s.shutdown();
    await within(this.#whenEmpty(), ms);
    for (const s of [...this.#sessions.values()]) s.abandon();
  }

  /** Idempotent: later callers await the first close. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closed';
      await this.#endAll(this.#limits.closeDeadlineMs);
      await this.#pool.close();
      this.#acks.close();
      this.#metrics.close();
    })();
    return this.#closing;
  }

  /** Test hook: ends one worker thread; its sessions end with Internal (1011). */
  terminateWorker(): Promise<void> {
    return this.#pool.terminateOne();
  }
}

/**
 * What an observe.end line says of a close code: our error code for the 4000-range codes we send (and
 * 1011), else `left` (the watcher closed, reloaded or dropped; 1001 is a browser's too).
 */
function closeOutcome(code: number): string {
  if (code < 4000 && code !== ERRORS.Internal.close) return 'left';
  for (const [name, spec] of Object.entries(ERRORS)) if (spec.close === code) return name;
  return 'left';
}

/** Waits for `p`, at most `ms` (the timer never outlives the wait). */
async function within(p: Promise<void>, ms: number): Promise<void> {
  if (ms <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function mainMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
