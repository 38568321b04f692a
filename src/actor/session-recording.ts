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
import type { ActorInit, RecordingConfig } from '../actor-link/actor-messages.js';
import type { PodtermError } from '../protocol/errors.js';
import { AsciicastWriter, type RecordingSubject, type WriterEvents } from '../recording/asciicast-writer.js';
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

/** A session's init with recording on. */
export type RecordedInit = ActorInit & { recording: RecordingConfig };

/**
 * The actor's recording. It is also the writer's events object and its subject (getters over the
 * session's init, which the actor keeps anyway): no closures and no copied subject per session.
 */
export class SessionRecording implements WriterEvents, RecordingSubject {
  #writer!: AsciicastWriter;
  readonly #host: RecordingHost;
  readonly #log: ActorLog;
  readonly #init: RecordedInit;
  /** Resolved by the actor before the recording starts (the init may name neither). */
  readonly container: string;
  readonly command: string[];
  #closing: Promise<void> | undefined;

  private constructor(host: RecordingHost, log: ActorLog, init: RecordedInit, container: string, command: string[]) {
    this.#host = host;
    this.#log = log;
    this.#init = init;
    this.container = container;
    this.command = command;
  }

  /** Rejects with RecordingFailed in strict mode when the file cannot be created. */
  static async start(init: RecordedInit, container: string, command: string[], host: RecordingHost, log: ActorLog): Promise<SessionRecording> {
    const rec = new SessionRecording(host, log, init, container, command);
    const cfg = init.recording;
    rec.#writer = await AsciicastWriter.open({
      dir: cfg.dir,
      id: init.session,
      subject: rec,
      width: init.cols,
      height: init.rows,
      mode: cfg.mode,
      recordInput: cfg.recordInput,
      maxBytes: cfg.maxBytes,
      events: rec,
    });
    return rec;
  }

  // RecordingSubject, read when the sidecar is written (at the start and at the end).
  get session(): string {
    return this.#init.session;
  }
  get user(): string {
    return this.#init.recording.user;
  }
  get groups(): string[] {
    return this.#init.recording.groups;
  }
  get replica(): string {
    return this.#init.recording.replica;
  }
  get namespace(): string {
    return this.#init.namespace;
  }
  get pod(): string {
    return this.#init.pod;
  }

  get path(): string {
    return this.#writer.path;
  }

  /** WriterEvents: the recording stopped early (fatal in strict mode). */
  stopped(stop: RecordingStop, fatal: PodtermError | undefined): void {
    this.#host.recordingStopped(stop);
    this.#log(fatal ? 'error' : 'warn', 'recording stopped', { session: this.#init.session, reason: stop.reason, atBytes: stop.atBytes, ...(stop.errno ? { errno: stop.errno } : {}) });
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
    if (this.#init.recording.recordInput) this.#writer.input(bytes);
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
