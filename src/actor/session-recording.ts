/**
 * The actor's recording of its session (issue 11): an asciicast v2 file written off the main thread
 * by AsciicastWriter and closed in the actor's close funnel. The owner's output is recorded exactly
 * as sent, resizes as `r` events, input only with `--record-input`.
 *
 * Strict: the recording starts before the exec opens, and the session is refused when it cannot
 * start, so nothing runs in the pod unrecorded. A stop ends the session with RecordingFailed, and a
 * slow disk pauses the exec stream (output() returns false) until the writer drains.
 *
 * Best-effort: the file is created beside the exec's opening, not before it, so the disk adds
 * nothing to a session's start (issue 11's memory bound: a start that waited ~5 ms longer left the
 * allocator holding ~1.7 KiB more per idle session). What the session does before the file is
 * there waits here, in order, and is written once it is; the actor does not leave `starting`
 * before that. A stop (write error, size cap, slow disk) is logged and counted; the session goes on.
 */
import type { ActorInit, RecordingOwner, RecordingSettings } from '../actor-link/actor-messages.js';
import type { PodtermError } from '../protocol/errors.js';
import { AsciicastWriter, RECORDING_DEFAULTS, type RecordingSubject, type WriterEvents } from '../recording/asciicast-writer.js';
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

/** What happened before the file was there, replayed in order once it is. */
type Early = { t: 'o' | 'i'; data: Buffer } | { t: 'r'; cols: number; rows: number } | { t: 'm'; label: string };

/** A session's init with recording on. */
export type RecordedInit = ActorInit & { recording: RecordingOwner };

/**
 * The actor's recording. It is also the writer's events object and its subject (getters over the
 * session's init, which the actor keeps anyway): no closures and no copied subject per session.
 */
export class SessionRecording implements WriterEvents, RecordingSubject {
  /** Set once the file is created; until then (and if it never is) events go to #early. */
  #writer: AsciicastWriter | undefined;
  /** The writer's open while it runs; undefined once it has settled. */
  #opening: Promise<void> | undefined;
  /** Why the open failed (strict mode: RecordingFailed); started() rejects with it. */
  #openError: unknown;
  #early: Early[] | undefined;
  #earlyBytes = 0;
  readonly #host: RecordingHost;
  readonly #log: ActorLog;
  readonly #init: RecordedInit;
  /** The thread's (shared by its sessions). */
  readonly #settings: RecordingSettings;
  /** Resolved by the actor before the recording starts (the init may name neither). */
  readonly container: string;
  readonly command: string[];
  #closing: Promise<void> | undefined;

  private constructor(host: RecordingHost, log: ActorLog, init: RecordedInit, settings: RecordingSettings, container: string, command: string[]) {
    this.#host = host;
    this.#log = log;
    this.#init = init;
    this.#settings = settings;
    this.container = container;
    this.command = command;
  }

  /**
   * Starts creating the file and returns at once: the recording is the caller's to close from
   * here on (close() waits for the open). started() says when the file is there.
   */
  static begin(init: RecordedInit, settings: RecordingSettings, container: string, command: string[], host: RecordingHost, log: ActorLog): SessionRecording {
    const rec = new SessionRecording(host, log, init, settings, container, command);
    rec.#opening = AsciicastWriter.open({
      dir: settings.dir,
      id: init.session,
      subject: rec,
      width: init.cols,
      height: init.rows,
      mode: settings.mode,
      recordInput: settings.recordInput,
      maxBytes: settings.maxBytes,
      events: rec,
    }).then(
      (w) => {
        rec.#opening = undefined;
        rec.#writer = w;
        rec.#replayEarly(w);
      },
      (err: unknown) => {
        rec.#opening = undefined;
        rec.#openError = err ?? new Error('recording: the file could not be created');
        rec.#early = undefined;
      },
    );
    return rec;
  }

  /** Resolves once the file is there (every earlier event written to it); rejects like the open (strict mode: RecordingFailed). */
  async started(): Promise<void> {
    await this.#opening;
    if (this.#openError !== undefined) throw this.#openError;
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
    return this.#settings.replica;
  }
  get namespace(): string {
    return this.#init.namespace;
  }
  get pod(): string {
    return this.#init.pod;
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
    if (this.#writer) {
      if (!this.#writer.output(bytes)) this.#host.recordingPaced(true);
    } else this.#hold({ t: 'o', data: Buffer.from(bytes) }, bytes.byteLength);
  }
  input(bytes: Uint8Array): void {
    if (!this.#settings.recordInput) return;
    if (this.#writer) this.#writer.input(bytes);
    else this.#hold({ t: 'i', data: Buffer.from(bytes) }, bytes.byteLength);
  }

  resize(cols: number, rows: number): void {
    if (this.#writer) this.#writer.resize(cols, rows);
    else this.#hold({ t: 'r', cols, rows }, 0);
  }

  marker(label: string): void {
    if (this.#writer) this.#writer.marker(label);
    else this.#hold({ t: 'm', label }, 0);
  }

  /**
   * Keeps an event for the file that is being created (copied: the caller reuses its buffers), up
   * to the writer's buffer cap; past it nothing more is kept and the recording stops there, after
   * what was kept, as a slow disk's would.
   */
  #hold(e: Early, bytes: number): void {
    if (!this.#opening) return; // the open failed: nothing is recorded
    if (this.#earlyBytes + bytes > RECORDING_DEFAULTS.bufferBytes) {
      this.#earlyBytes = Infinity;
      return;
    }
    this.#earlyBytes += bytes;
    (this.#early ??= []).push(e);
  }

  #replayEarly(w: AsciicastWriter): void {
    const early = this.#early;
    const full = this.#earlyBytes === Infinity;
    this.#early = undefined;
    this.#earlyBytes = 0;
    for (const e of early ?? []) {
      if (e.t === 'r') w.resize(e.cols, e.rows);
      else if (e.t === 'm') w.marker(e.label);
      else if (e.t === 'o') this.output(e.data);
      else w.input(e.data);
    }
    if (full) w.bufferFull();
  }

  /** Idempotent; never rejects. */
  close(exitCode: number | null, outcome: string): Promise<void> {
    this.#closing ??= (async () => {
      await this.#opening;
      await this.#writer?.close({ exitCode, outcome });
    })().catch(() => undefined);
    return this.#closing;
  }
}
