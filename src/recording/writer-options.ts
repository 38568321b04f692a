/**
 * The options and results of AsciicastWriter (asciicast-writer.ts), apart so the actor-link and
 * the CLI can name them without the writer.
 */
import type { PodtermError } from '../protocol/errors.js';
import type { RecordingMeta, RecordingStop } from './recording-files.js';

export type RecordMode = 'best-effort' | 'strict';

/** Who and what is recorded (header title, sidecar). */
export interface RecordingSubject {
  session: string;
  user: string;
  groups: string[];
  replica: string;
  namespace: string;
  pod: string;
  container: string;
  command: string[];
}

export interface AsciicastWriterOptions {
  dir: string;
  /** The recording id (file name); the session id is the natural choice. Validated. */
  id: string;
  /** Says who and what is recorded, and is told when the recording stops early or drains. */
  host: WriterHost;
  width: number;
  height: number;
  /** Header env; TERM defaults to xterm-256color (what the page's xterm.js is), SHELL to command[0]. */
  term?: string;
  shell?: string;
  mode?: RecordMode;
  /** `--record-input`: also record `i` events (this captures passwords typed at prompts). */
  recordInput?: boolean;
  /** `--record-max-bytes`: the .cast stops growing past this size; 0 = no limit. */
  maxBytes?: number;
  /** Bytes formatted but not yet written (queued + in flight) at which the recording stops. */
  bufferBytes?: number;
  /** Write as soon as this much is queued; a smaller tail waits up to flushIntervalMs. */
  flushBytes?: number;
  flushIntervalMs?: number;
  /** Consecutive output within this window becomes one `o` event. */
  coalesceMs?: number;
  /** close() waits this long for the last writes, then gives up on them (reason close-timeout). */
  closeTimeoutMs?: number;
  /**
   * Close the .cast's descriptor after this long with everything written (0 = never); the next
   * output opens it again for appending. Idle recorded sessions then hold no descriptor.
   */
  parkAfterMs?: number;
  /** Create the .cast with O_EXCL (default); false opens an existing file (tests on /dev/full, FIFOs). */
  exclusive?: boolean;
}

/**
 * The writer's owner: the session's actor itself (an object, so a recording needs no closures and
 * no copied subject per session; every idle recorded session pays for each object it keeps).
 */
export interface WriterHost {
  /** Who and what is recorded: asked at the start (header, first sidecar) and at the end (last sidecar). */
  recordingSubject(): RecordingSubject;
  /** The recording stopped early. `fatal` is set in strict mode: end the session with it. */
  recordingStopped?(stop: RecordingStop, fatal: PodtermError | undefined): void;
  /** Strict mode: the queue fell below a quarter of the cap after output() returned false. */
  recordingDrained?(): void;
}

export interface RecordingEnd {
  exitCode: number | null;
  /** Why the session ended, e.g. `exit`, `idle-timeout`; also the end marker's label. */
  outcome: string;
}

export interface CloseResult {
  meta: RecordingMeta;
  /** False if the sidecar could not be written (the .cast may still be there). */
  metaWritten: boolean;
}

export const RECORDING_DEFAULTS = {
  maxBytes: 0,
  // About 90 ms of a full-speed flood (~180 MB/s): 4 MiB (23 ms) lost recordings to ordinary ext4
  // write stalls. Only a session whose output outruns the disk fills it.
  bufferBytes: 16 * 1024 * 1024,
  // Each write costs a thread-pool hand-off (~13 µs on the calling thread) and a syscall: 256 KiB
  // writes took a third of the CPU per GB that 64 KiB writes did in a writev microbenchmark.
  flushBytes: 256 * 1024,
  flushIntervalMs: 200,
  coalesceMs: 5,
  closeTimeoutMs: 10_000,
  parkAfterMs: 1_000,
} as const;

/**
 * The limits and switches of a writer with their defaults resolved. Frozen and shared by every
 * writer with the same values (in practice, all of a gateway's sessions): an idle recording then
 * carries one reference instead of its own options copy (a spread copy of an options object with
 * functions in it even gets a hidden class of its own in V8, about 250 bytes more per session).
 */
export class WriterSettings {
  static readonly #cache = new Map<string, WriterSettings>();

  /** The recordings' directory (`--record-dir`). */
  readonly dir: string;
  readonly mode: RecordMode;
  readonly recordInput: boolean;
  readonly exclusive: boolean;
  readonly maxBytes: number;
  readonly bufferBytes: number;
  readonly flushBytes: number;
  readonly flushIntervalMs: number;
  readonly coalesceMs: number;
  readonly closeTimeoutMs: number;
  readonly parkAfterMs: number;

  private constructor(o: AsciicastWriterOptions) {
    const d = RECORDING_DEFAULTS;
    this.dir = o.dir;
    this.mode = o.mode ?? 'best-effort';
    this.recordInput = o.recordInput ?? false;
    this.exclusive = o.exclusive ?? true;
    this.maxBytes = o.maxBytes ?? d.maxBytes;
    this.bufferBytes = o.bufferBytes ?? d.bufferBytes;
    this.flushBytes = o.flushBytes ?? d.flushBytes;
    this.flushIntervalMs = o.flushIntervalMs ?? d.flushIntervalMs;
    this.coalesceMs = o.coalesceMs ?? d.coalesceMs;
    this.closeTimeoutMs = o.closeTimeoutMs ?? d.closeTimeoutMs;
    this.parkAfterMs = o.parkAfterMs ?? d.parkAfterMs;
    for (const k of ['bufferBytes', 'flushBytes'] as const) {
      if (!Number.isInteger(this[k]) || this[k] < 1) throw new RangeError(`recording: ${k} must be a positive integer`);
    }
    Object.freeze(this);
  }

  /** The shared settings for `o` (validated). */
  static of(o: AsciicastWriterOptions): WriterSettings {
    const s = new WriterSettings(o);
    const key = JSON.stringify(s);
    const known = WriterSettings.#cache.get(key);
    if (known) return known;
    // A gateway has one configuration; tests make a few. Bounded all the same.
    if (WriterSettings.#cache.size >= 64) WriterSettings.#cache.clear();
    WriterSettings.#cache.set(key, s);
    return s;
  }
}
