/**
 * The API server's audit log at level Metadata, one `audit.k8s.io/v1` Event per JSON line
 * (staging/src/k8s.io/apiserver/pkg/apis/audit/v1/types.go, field order as Go encodes it): who
 * (`user`, and `impersonatedUser` when impersonating), what (`verb`, `objectRef` from RequestInfo,
 * `subresource: exec` for exec), the outcome (`responseStatus`). Long-running requests (an exec
 * upgrade) log stage ResponseStarted at the 101 and ResponseComplete when the stream ends; others
 * log ResponseComplete only (the stages a policy with `omitStages: [RequestReceived]` keeps).
 *
 * The writer is an append stream with a bounded buffer: when the disk falls behind by more than
 * MAX_BUFFERED_BYTES, events are dropped and counted rather than held in memory without limit.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Principal } from './auth.js';
import type { UserInfo } from './identity.js';
import type { RequestInfo } from './request-info.js';

const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** close() waits this long for requests still in flight (exec streams being ended) to complete. */
const CLOSE_WAIT_MS = 3000;

export type AuditStage = 'ResponseStarted' | 'ResponseComplete';

export interface ResponseFacts {
  readonly code: number;
  /** From the Status body of a failure, when there is one. */
  readonly status?: { readonly status?: string; readonly message?: string; readonly reason?: string };
}

/** metav1.MicroTime: RFC 3339 with six fractional digits. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function userOf(u: UserInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { username: u.username };
  if (u.uid !== undefined) out.uid = u.uid;
  out.groups = u.groups;
  if (u.extra !== undefined) out.extra = u.extra;
  return out;
}

function sourceIPs(req: IncomingMessage): string[] {
  const forwarded = (req.headers['x-forwarded-for'] ?? '')
    .toString()
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const remote = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  return remote === '' || forwarded.includes(remote) ? forwarded : [...forwarded, remote];
}

/** One request's audit record; stages are written as they happen. */
export class AuditRecord {
  readonly #received = new Date();
  readonly #id: string;
  /** Read at the start: a socket closed by the time the request completes no longer has its address. */
  readonly #sourceIPs: string[];
  #done = false;
  readonly completed: Promise<void>;
  #resolveCompleted!: () => void;

  constructor(
    private readonly log: AuditLog,
    private readonly req: IncomingMessage,
    private readonly info: RequestInfo,
    private readonly principal: () => Principal | null,
  ) {
    // The API server honours a client-sent Audit-ID header, else makes one (filters/with_audit_init.go).
    const sent = req.headers['audit-id'];
    this.#id = typeof sent === 'string' && sent !== '' ? sent : randomUUID();
    this.#sourceIPs = sourceIPs(req);
    this.completed = new Promise((resolve) => (this.#resolveCompleted = resolve));
  }

  started(code: number): void {
    if (!this.#done) this.log.write(this.#event('ResponseStarted', { code }));
  }

  complete(facts: ResponseFacts): void {
    if (this.#done) return;
    this.#done = true;
    this.log.write(this.#event('ResponseComplete', facts));
    this.#resolveCompleted();
  }

  #event(stage: AuditStage, facts: ResponseFacts): Record<string, unknown> {
    const p = this.principal();
    const e: Record<string, unknown> = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: this.#id,
      stage,
      requestURI: this.req.url ?? '/',
      verb: this.info.verb,
      // A request that never authenticated is logged with an empty user, as the API server does.
      user: p ? userOf(p.impersonator ?? p.userInfo) : {},
    };
    if (p?.impersonator) e.impersonatedUser = userOf(p.userInfo);
    e.sourceIPs = this.#sourceIPs;
    const ua = this.req.headers['user-agent'];
    if (ua !== undefined) e.userAgent = ua;
    if (this.info.isResourceRequest) {
      const ref: Record<string, unknown> = { resource: this.info.resource };
      if (this.info.namespace !== '') ref.namespace = this.info.namespace;
      if (this.info.name !== '') ref.name = this.info.name;
      if (this.info.apiGroup !== '') ref.apiGroup = this.info.apiGroup;
      ref.apiVersion = this.info.apiVersion;
      if (this.info.subresource !== '') ref.subresource = this.info.subresource;
      e.objectRef = ref;
    }
    const status: Record<string, unknown> = { metadata: {} };
    if (facts.code >= 400) {
      status.status = facts.status?.status ?? 'Failure';
      if (facts.status?.message !== undefined) status.message = facts.status.message;
      if (facts.status?.reason !== undefined) status.reason = facts.status.reason;
    }
    status.code = facts.code;
    e.responseStatus = status;
    e.requestReceivedTimestamp = microTime(this.#received);
    e.stageTimestamp = microTime(new Date());
    return e;
  }
}

export class AuditLog {
  readonly #stream: WriteStream;
  readonly #inflight = new Set<AuditRecord>();
  #state: 'open' | 'closing' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  /** Events not written because the buffer was full or the file failed. */
  dropped = 0;
  written = 0;

  private constructor(stream: WriteStream, private readonly onError: (err: Error) => void) {
    this.#stream = stream;
    stream.on('error', (err) => {
      this.#state = 'closed';
      onError(err);
    });
  }

  /** Opens FILE for appending; fails (and leaves nothing open) when it cannot be opened. */
  static async open(file: string, onError: (err: Error) => void = () => {}): Promise<AuditLog> {
    const stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => {
        stream.off('error', reject);
        resolve();
      });
      stream.once('error', reject);
    });
    return new AuditLog(stream, onError);
  }

  /** Starts a record; it leaves the in-flight set when completed. */
  begin(req: IncomingMessage, info: RequestInfo, principal: () => Principal | null): AuditRecord {
    const r = new AuditRecord(this, req, info, principal);
    this.#inflight.add(r);
    void r.completed.then(() => this.#inflight.delete(r));
    return r;
  }

  write(event: Record<string, unknown>): void {
    if (this.#state === 'closed' || this.#stream.writableLength > MAX_BUFFERED_BYTES) {
      this.dropped++;
      return;
    }
    this.written++;
    this.#stream.write(`${JSON.stringify(event)}\n`);
  }

  /** Waits (bounded) for in-flight requests to complete, then flushes and closes the file. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closing';
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...this.#inflight].map((r) => r.completed)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS))),
      ]);
      clearTimeout(timer);
      if (this.#stream.destroyed) return;
      await new Promise<void>((resolve) => {
        this.#stream.once('close', () => resolve());
        this.#stream.end();
      });
      this.#state = 'closed';
    })();
    return this.#closing;
  }
}
