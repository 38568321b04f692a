/**
 * The process logger: pino, one JSON object per line on stderr (or a given stream), child loggers
 * per component. Secrets never reach the output: known secret fields are redacted by path (pino's
 * `redact`), and every string (the message included) is scrubbed of `token=` query values, bearer
 * credentials and cookie values, because a URL or a header can end up inside any field.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** The function shape the supervisor and the server take (SessionDeps['log']). */
export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v);
}

const CENSOR = '[redacted]';

// Field names that hold a secret wherever they appear: top level, one object down, or in `headers`.
const SECRET_KEYS = ['authorization', 'cookie', '["set-cookie"]', 'token', 'password', 'secret', 'accessToken', 'idToken', 'refreshToken'];
const at = (prefix: string, k: string): string => (k.startsWith('[') ? `${prefix}${k}` : `${prefix}.${k}`);
const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => at('*', k)),
  ...SECRET_KEYS.map((k) => at('headers', k)),
  ...SECRET_KEYS.map((k) => at('*.headers', k)),
];

// `?token=…`/`&token=…` in URLs, `Bearer …`/`Basic …` credentials, and `podterm_session=…` cookies.
const SCRUB: Array<[RegExp, string]> = [
  [/([?&;](?:access_)?token=)[^&#\s"']*/gi, `$1${CENSOR}`],
  [/\b(Bearer|Basic)\s+[^\s,;"']+/gi, `$1 ${CENSOR}`],
  [/(podterm_session=)[^;\s"',]*/gi, `$1${CENSOR}`],
];

export function scrubString(s: string): string {
  let out = s;
  for (const [re, to] of SCRUB) out = out.replace(re, to);
  return out;
}

/** Copies `v` with every string scrubbed; depth-bounded so a cyclic or huge object cannot hang a log call. */
function scrub(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return scrubString(v);
  if (depth > 4 || v === null || typeof v !== 'object') return v;
  if (v instanceof Error) {
    const code = (v as { code?: unknown }).code;
    return { type: v.name, message: scrubString(v.message), ...(code !== undefined ? { code } : {}), stack: scrubString(v.stack ?? '') };
  }
  if (Array.isArray(v)) return v.map((x) => scrub(x, depth + 1));
  if (Buffer.isBuffer(v) || ArrayBuffer.isView(v)) return `<${(v as ArrayBufferView).byteLength} bytes>`;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = scrub(x, depth + 1);
  return out;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where the JSON lines go; stderr when absent (stdout carries only the ready line). */
  destination?: DestinationStream;
}

export function createLogger(o: LoggerOptions = {}): Logger {
  const level = o.level ?? 'info';
  if (!isLogLevel(level)) throw new TypeError(`log level must be one of ${LOG_LEVELS.join(', ')}`);
  const options = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    // Errors are already plain (and scrubbed) objects by the time pino sees them; see scrub().
    serializers: { err: (e: unknown) => e },
    hooks: {
      // Runs before serialisation: scrub the message and every field object passed to this call.
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void): void {
        method.apply(this, args.map((a) => scrub(a)));
      },
    },
  };
  // Synchronous writes: a line logged just before process.exit() (a failed start) is not lost.
  return pino(options, o.destination ?? pino.destination({ dest: 2, sync: true }));
}

/** The LogFn other code takes, backed by a (child) pino logger. */
export function logFn(logger: Logger): LogFn {
  return (level, msg, fields) => {
    if (fields) logger[level](fields, msg);
    else logger[level](msg);
  };
}
