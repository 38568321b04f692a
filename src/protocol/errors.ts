/**
 * The one error table (docs/protocol.md): error code -> WebSocket close code, the HTTP status used
 * when the same failure is caught before the upgrade, and the words a user sees. Nothing else in
 * podterm invents a close code or shows a raw upstream message.
 */
export type ErrorCode =
  | 'BadFrame'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'ContainerNotRunning'
  | 'IdleTimeout'
  | 'SessionExpired'
  | 'TooManySessions'
  | 'UpstreamUnavailable'
  | 'ServerShuttingDown'
  | 'Internal'
  | 'BadRequest'
  | 'MessageTooBig'
  | 'RecordingFailed'
  | 'SessionGone'
  | 'TooSlow'
  | 'NoShell';

export interface ErrorSpec {
  /** WebSocket close code sent after the error frame. */
  close: number;
  /** HTTP status when the failure is found before the upgrade. */
  http: number;
  /** Default text for the user when no more specific message is known. */
  text: string;
}

export const ERRORS: Readonly<Record<ErrorCode, ErrorSpec>> = {
  BadFrame: { close: 4400, http: 400, text: 'The client sent a frame the server cannot read.' },
  BadRequest: { close: 4400, http: 400, text: 'The request is not valid.' },
  Unauthorized: { close: 4401, http: 401, text: 'You are not signed in, or your token is not valid.' },
  Forbidden: { close: 4403, http: 403, text: 'You are not allowed to open a terminal here.' },
  NotFound: { close: 4404, http: 404, text: 'The namespace, pod or container does not exist.' },
  ContainerNotRunning: { close: 4409, http: 409, text: 'The container is not running.' },
  IdleTimeout: { close: 4408, http: 408, text: 'The session was closed after a period without input.' },
  SessionExpired: { close: 4410, http: 410, text: 'The session reached its maximum age.' },
  TooManySessions: { close: 4429, http: 429, text: 'Too many sessions are open; close one and try again.' },
  UpstreamUnavailable: { close: 4502, http: 502, text: 'The Kubernetes API server cannot be reached.' },
  ServerShuttingDown: { close: 1001, http: 503, text: 'The server is restarting; reconnect in a moment.' },
  Internal: { close: 1011, http: 500, text: 'Something went wrong on the server.' },
  // PROTOCOL.md: messages larger than the configured limit close the socket with 1009.
  MessageTooBig: { close: 1009, http: 413, text: 'The message is larger than the server accepts.' },
  // `--record-mode strict` (docs/protocol.md, Additions): the recording cannot start or stopped
  // being written, so the session is refused or ended rather than run unrecorded.
  RecordingFailed: { close: 4414, http: 503, text: 'The session cannot be recorded, and recording is required here.' },
  // docs/protocol.md "Additions".
  SessionGone: { close: 4411, http: 410, text: 'The session has ended or the link is no longer valid.' },
  TooSlow: { close: 4412, http: 429, text: 'This viewer fell too far behind; reconnect to catch up.' },
  NoShell: { close: 4413, http: 422, text: 'The container has no shell. Start a debug container to inspect it.' },
};

/** A failure with a stable code; `message` is safe to show to the user. */
export class PodtermError extends Error {
  override readonly name = 'PodtermError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERRORS[code].text, options);
    this.code = code;
  }
  get closeCode(): number {
    return ERRORS[this.code].close;
  }
  get httpStatus(): number {
    return ERRORS[this.code].http;
  }
}

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, v);
}

/** Anything thrown becomes a PodtermError; unknown failures are Internal and keep no detail. */
export function toPodtermError(err: unknown): PodtermError {
  if (err instanceof PodtermError) return err;
  return new PodtermError('Internal', undefined, { cause: err });
}

/** What a session ended by a drain says (the replica holding it is going away; the page shows it). */
export const DRAIN_MESSAGE = 'The server holding this session is shutting down, so the session has ended. Reconnect to open a new one.';
