/**
 * The audit trail (`--audit-log FILE`, or `-` for stdout): one JSON object per line, written by
 * pino through an asynchronous sonic-boom destination. Every string a user or a pod can influence
 * goes through escapeText (escape.ts) on the way in, so no raw control, bidi or invisible code
 * point reaches the file; the keys and event names are ours. Never give it a token or pod output.
 *
 * Line shape: {"time":"<ISO 8601>","event":"session.start","user":…,"groups":[…],…}
 */
import { once } from 'node:events';
import { open as openCb } from 'node:fs';
import { promisify } from 'node:util';
import { pino, type Logger } from 'pino';
import { escapeText } from './escape.js';

export type AuditEventName =
  | 'session.start'
  | 'session.resume'
  | 'session.observe.start'
  | 'session.observe.end'
  | 'session.share.create'
  | 'session.share.revoke'
  | 'session.end'
  /** An exec or attach the access review refused (nothing reached the exec/attach endpoint). */
  | 'session.forbidden'
  | 'file.upload'
  | 'file.download'
  | 'debug.start'
  | 'log.view'
  | 'auth.login'
  | 'auth.logout'
  | 'auth.failed'
  | 'recording.forbidden'
  | 'recording.view';

export const AUDIT_EVENTS: readonly AuditEventName[] = [
  'session.start', 'session.resume', 'session.observe.start', 'session.observe.end', 'session.share.create',
  'session.share.revoke', 'session.end', 'session.forbidden', 'file.upload', 'file.download', 'debug.start', 'log.view', 'auth.login', 'auth.logout',
  'auth.failed', 'recording.forbidden', 'recording.view',
];

/** The fields of an audit event; all optional, unset ones are left out of the line. */
export interface AuditFields {
  user?: string;
  groups?: readonly string[];
  /** How the person signed in (`token`, `oidc`, `bearer`). */
  via?: string;
  session?: string;
  namespace?: string;
  pod?: string;
  container?: string;
  command?: readonly string[];
  replica?: string;
  remoteAddress?: string;
  userAgent?: string;
  /** session.end; `outcome` also on file.*, debug.start, log.view, recording.view: `ok`, `aborted` (the client left mid-stream) or the error code (e.g. Forbidden). */
  exitCode?: number | null;
  outcome?: string;
  bytesIn?: number;
  bytesOut?: number;
  durationMs?: number;
  recording?: string;
  /** file.upload/download: the container path and the bytes that went through. */
  path?: string;
  size?: number;
  /** debug.start */
  target?: string;
  image?: string;
  /** session.observe.*, session.share.*: the other person, the share's lifetime. */
  observer?: string;
  expiresAt?: string;
  /** auth.failed, refusals: our error code or a short reason of ours (never a token). */
  reason?: string;
}

export interface AuditLogOptions {
  /** A file path (appended to, created if missing) or `-` for stdout. */
  dest: string;
  /** Fields put on every line unless the event sets them (e.g. replica). */
  base?: Pick<AuditFields, 'replica'>;
}

const openFd = promisify(openCb);
const MAX_LIST = 64;
const CLOSE_TIMEOUT_MS = 5000;

/** The escaped, JSON-safe copy of `f`; unknown keys are dropped (a typed API, and a guard). */
export function sanitizeFields(f: AuditFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f) as Array<[keyof AuditFields, unknown]>) {
    if (!KNOWN.has(k) || v === undefined) continue;
    out[k] = sanitizeValue(v);
  }
  return out;
}

const KNOWN = new Set<string>([
  'user', 'groups', 'via', 'session', 'namespace', 'pod', 'container', 'command', 'replica', 'remoteAddress',
  'userAgent', 'exitCode', 'outcome', 'bytesIn', 'bytesOut', 'durationMs', 'recording', 'path', 'size', 'target',
  'image', 'observer', 'expiresAt', 'reason',
]);

function sanitizeValue(v: unknown): unknown {
  if (typeof v === 'string') return escapeText(v);
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean' || v === null) return v;
  if (Array.isArray(v)) {
    const items = v.slice(0, MAX_LIST).map((x) => (typeof x === 'string' ? escapeText(x) : sanitizeValue(x)));
    if (v.length > MAX_LIST) items.push(`…[+${v.length - MAX_LIST} items]`);
    return items;
  }
  return escapeText(String(v));
}

export type AuditState = 'open' | 'closing' | 'closed';

export class AuditLog {
  #state: AuditState = 'open';
  readonly #dest: ReturnType<typeof pino.destination>;
  readonly #logger: Logger;
  readonly #stdout: boolean;
  readonly #base: AuditFields;
  #closing: Promise<void> | undefined;
  #written = 0;
  #errors = 0;

  /**
   * Opens the file (append, created 0640 if missing; its directory must exist) before anything is
   * logged: a log that cannot be written is an error at startup (the errno error is thrown).
   */
  static async open(opts: AuditLogOptions): Promise<AuditLog> {
    const fd = opts.dest === '-' ? 1 : await openFd(opts.dest, 'a', 0o640);
    return new AuditLog(fd, opts);
  }

  private constructor(fd: number, opts: AuditLogOptions) {
    this.#stdout = fd === 1;
    // Merged into each event's fields (not pino's `base`, which would repeat a key the event sets).
    this.#base = { ...opts.base };
    // sync: false = sonic-boom buffers and writes from the thread pool; close() flushes. Given an
    // fd it has nothing to open, so it cannot fail late; it never closes fd 1.
    this.#dest = pino.destination({ dest: fd, sync: false });
    this.#dest.on('error', () => void this.#errors++);
    this.#logger = pino(
      {
        base: null,
        // No level key (every line is an audit event): pino then opens the line with a bare `{`, so
        // the time goes first without pino's usual leading comma.
        formatters: { level: () => ({}) },
        timestamp: () => `"time":"${new Date().toISOString()}"`,
      },
      this.#dest,
    );
  }

  get state(): AuditState {
    return this.#state;
  }
  /** Lines handed to the destination, and write errors it reported. */
  get counts(): { written: number; errors: number } {
    return { written: this.#written, errors: this.#errors };
  }

  /** One event. Never throws; after close it does nothing. */
  write(event: AuditEventName, fields: AuditFields = {}): void {
    if (this.#state !== 'open') return;
    try {
      // sanitizeFields keeps known keys only, so no field can rename the event.
      this.#logger.info({ event, ...sanitizeFields({ ...this.#base, ...fields }) });
      this.#written++;
    } catch {
      this.#errors++;
    }
  }

  /** Flushes and closes the file (stdout is flushed, not closed). Idempotent; never rejects. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#state = 'closing';
    const d = this.#dest;
    let timer: NodeJS.Timeout | undefined;
    // A stuck write would hold close forever: bound the wait.
    const late = new Promise<void>((r) => (timer = setTimeout(r, CLOSE_TIMEOUT_MS)));
    try {
      const closed = once(d, 'close');
      d.end();
      await Promise.race([closed, late]);
    } catch {
      this.#errors++;
    } finally {
      clearTimeout(timer);
    }
    this.#state = 'closed';
  }
}
