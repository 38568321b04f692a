/**
 * The actor's recording of its session (issue 11): an asciicast v2 file written off the main thread
 * by AsciicastWriter, started before the exec opens (strict mode refuses the session when it cannot
 * start) and closed in the actor's close funnel. The owner's output is recorded exactly as sent,
 * resizes as `r` events, input only with `--record-input`.
 *
 * Best-effort: a stop (write error, size cap, slow disk) is logged and counted, and the session
 * goes on. Strict: a stop ends the session with RecordingFailed, and a slow disk pauses the exec
 * stream (output() returns false) until the writer drains, so nothing is lost.
 */
import type { RecordingConfig } from '../actor-link/actor-messages.js';
import type { PodtermError } from '../protocol/errors.js';
import { AsciicastWriter, type WriterEvents } from '../recording/asciicast-writer.js';
import type { RecordingStop } from '../recording/recording-files.js';
import type { ActorLog } from './actor-deps.js';

/** What the recording needs from its actor (the actor itself: no closures per session). */
export interface RecordingHost {
  /** Strict mode: the recording failed; end the session with this error. */
  recordingFailed(err: PodtermError): void;
  /** Strict mode back-pressure: true = pause the exec stream, false = resume. */
  recordingPaced(paused: boolean): void;
  /** A recording stopped early (counted by the host). */
  recordingStopped(stop: RecordingStop): void;
}

export interface RecordingStart {
  session: string;
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  cols: number;
  rows: number;
}

/** The actor's recording; it is also the writer's events object, so it costs no closures per session. */
export class SessionRecording implements WriterEvents {
  #writer!: AsciicastWriter;
  readonly #host: RecordingHost;
  readonly #log: ActorLog;
  readonly #session: string;
  readonly #recordInput: boolean;
  #closing: Promise<void> | undefined;

  private constructor(host: RecordingHost, log: ActorLog, session: string, recordInput: boolean) {
    this.#host = host;
    this.#log = log;
    this.#session = session;
    this.#recordInput = recordInput;
  }

  /** Rejects with RecordingFailed in strict mode when the file cannot be created. */
  static async start(cfg: RecordingConfig, s: RecordingStart, host: RecordingHost, log: ActorLog): Promise<SessionRecording> {
    const rec = new SessionRecording(host, log, s.session, cfg.recordInput);
    rec.#writer = await AsciicastWriter.open({
      dir: cfg.dir,
      id: s.session,
      subject: { session: s.session, user: cfg.user, groups: cfg.groups, replica: cfg.replica, namespace: s.namespace, pod: s.pod, container: s.container, command: s.command },
      width: s.cols,
      height: s.rows,
      mode: cfg.mode,
      recordInput: cfg.recordInput,
      maxBytes: cfg.maxBytes,
      events: rec,
    });
    return rec;
  }

  get path(): string {
    return this.#writer.path;
  }

  /** WriterEvents: the recording stopped early (fatal in strict mode). */
  stopped(stop: RecordingStop, fatal: PodtermError | undefined): void {
    this.#host.recordingStopped(stop);
    this.#log(fatal ? 'error' : 'warn', 'recording stopped', { session: this.#session, reason: stop.reason, atBytes: stop.atBytes, ...(stop.errno ? { errno: stop.errno } : {}) });
    if (fatal) this.#host.recordingFailed(fatal);
  }

  /** WriterEvents: strict mode, the writer caught up. */
  drained(): void {
    this.#host.recordingPaced(false);
  }

  output(bytes: Uint8Array): void {
    if (!this.#writer.output(bytes)) this.#host.recordingPaced(true);
  }
  input(bytes: Uint8Array): void {
    if (this.#recordInput) this.#writer.input(bytes);
  }

  resize(cols: number, rows: number): void {
    this.#writer.resize(cols, rows);
  }

  marker(label: string): void {
    this.#writer.marker(label);
  }

  /** Idempotent; never rejects. */
  close(exitCode: number | null, outcome: string): Promise<void> {
    this.#closing ??= this.#writer.close({ exitCode, outcome }).then(
      () => undefined,
      () => undefined,
    );
    return this.#closing;
  }
}
