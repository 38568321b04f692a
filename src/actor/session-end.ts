/**
 * How a session's end is reported, by close reason: the last frame every socket gets and the `end`
 * message that tells the main thread which close code to use (docs/protocol.md; errors.ts maps
 * code → close code), the cause in the log, and the outcome in the recording's sidecar. Pure: the
 * actor's close funnel (session-actor.ts) sends, logs and writes what these return.
 */
import { DRAIN_MESSAGE, ERRORS, PodtermError } from '../protocol/errors.js';
import { ServerOp, type ServerFrame } from '../protocol/index.js';
import type { ActorInit, FromActor } from '../actor-link/actor-messages.js';
import type { ActorLog } from './actor-deps.js';
import type { CloseReason } from './actor-state.js';

export interface EndReport {
  /** To every socket ('all'), greeted or not. */
  frame: ServerFrame;
  end: Extract<FromActor, { t: 'end' }>;
}

/** The last frame and the `end` message for this reason; undefined when none is sent (the client left). */
export function endReport(reason: CloseReason): EndReport | undefined {
  if (reason.kind === 'exit') {
    return {
      frame: [ServerOp.Exited, { exitCode: reason.exitCode, message: reason.message }],
      end: { t: 'end', code: 1000, reason: 'exited', exitCode: reason.exitCode },
    };
  }
  if (reason.kind === 'error') return errorReport(reason.error);
  if (reason.kind === 'grace-expired' || reason.request === 'ended') {
    return errorReport(new PodtermError('SessionGone', reason.kind === 'grace-expired' ? 'The session was detached for too long and has ended.' : 'The owner ended the session.'));
  }
  // Drain (SIGTERM): the process ends with this replica; the page shows this and offers a new session.
  if (reason.request === 'shutdown') return errorReport(new PodtermError('ServerShuttingDown', DRAIN_MESSAGE));
  return undefined;
}

function errorReport(e: PodtermError): EndReport {
  return { frame: [ServerOp.Error, { code: e.code, message: e.message }], end: { t: 'end', code: ERRORS[e.code].close, reason: e.code } };
}

/** The outcome the recording's sidecar records. */
export function recordingOutcome(reason: CloseReason): string {
  return reason.kind === 'exit' ? 'exit' : reason.kind === 'error' ? reason.error.code : reason.kind === 'grace-expired' ? 'grace-expired' : reason.request;
}

/** The cause of the end, logged once (the main thread logs the session's summary). */
export function logCause(log: ActorLog, reason: CloseReason, init: ActorInit, container: string): void {
  const fields = { session: init.session, namespace: init.namespace, pod: init.pod, container: container || init.container };
  if (reason.kind === 'exit') log('debug', 'session process exited', { ...fields, exitCode: reason.exitCode });
  else if (reason.kind === 'request') log('debug', 'session closed on request', { ...fields, request: reason.request });
  else if (reason.kind === 'grace-expired') log('debug', 'session detached past its grace', { ...fields, detachGraceMs: init.detachGraceMs });
  else {
    const e = reason.error;
    const level = e.code === 'Internal' ? 'error' : 'info';
    log(level, 'session failed', { ...fields, code: e.code, message: e.message, ...(e.cause !== undefined ? { cause: String(e.cause) } : {}) });
  }
}
