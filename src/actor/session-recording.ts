/**
 * The actor's recording of its session (issue 11): an asciicast v2 file written off the main thread
 * by AsciicastWriter, which the actor owns directly (no wrapper object per session: an idle
 * recorded session keeps one writer) and closes in its close funnel. The owner's output is recorded
 * exactly as sent, resizes as `r` events, input only with `--record-input`.
 *
 * Strict: the recording starts before the exec opens and the actor awaits opened(), so nothing
 * runs in the pod unrecorded. A stop ends the session with RecordingFailed, and a slow disk pauses
 * the exec stream (output() returns false) until the writer drains.
 *
 * Best-effort: the writer starts beside the exec's opening and nothing waits for its file; what the
 * session does meanwhile waits in the writer's queue, in order, under its caps. A stop (write error,
 * size cap, slow disk) is logged and counted; the session goes on.
 */
import type { ActorInit, RecordingOwner, RecordingSettings } from '../actor-link/actor-messages.js';
import { AsciicastWriter, type RecordingSubject, type WriterHost } from '../recording/asciicast-writer.js';
import type { RecordingStop } from '../recording/recording-files.js';
import type { ActorLog } from './actor-deps.js';

/** A session's init with recording on. */
export type RecordedInit = ActorInit & { recording: RecordingOwner };

/** Starts the recording of a session whose container and command are resolved; `host` is its actor. */
export function startRecording(init: RecordedInit, settings: RecordingSettings, host: WriterHost): AsciicastWriter {
  return AsciicastWriter.start({
    dir: settings.dir,
    id: init.session,
    host,
    width: init.cols,
    height: init.rows,
    mode: settings.mode,
    recordInput: settings.recordInput,
    maxBytes: settings.maxBytes,
  });
}

/** Who and what is recorded, made when asked (at the start and at the end), never kept. */
export function recordingSubject(init: RecordedInit, replica: string, container: string, command: string[]): RecordingSubject {
  return { session: init.session, user: init.recording.user, groups: init.recording.groups, replica, namespace: init.namespace, pod: init.pod, container, command };
}

/** The log line of a recording that stopped early (an error when it ends the session). */
export function logRecordingStop(log: ActorLog, session: string, stop: RecordingStop, fatal: boolean): void {
  log(fatal ? 'error' : 'warn', 'recording stopped', { session, reason: stop.reason, atBytes: stop.atBytes, ...(stop.errno ? { errno: stop.errno } : {}) });
}
