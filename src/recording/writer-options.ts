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
  subject: RecordingSubject;
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
  /** Create the .cast with O_EXCL (default); false opens an existing file (tests on /dev/full, FIFOs). */
  exclusive?: boolean;
  /** The recording stopped early. `fatal` is set in strict mode: end the session with it. */
  onStop?: (stop: RecordingStop, fatal: PodtermError | undefined) => void;
  /** Strict mode: the queue fell below a quarter of the cap after output() returned false. */
  onDrain?: () => void;
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
  bufferBytes: 4 * 1024 * 1024,
  flushBytes: 64 * 1024,
  flushIntervalMs: 200,
  coalesceMs: 5,
  closeTimeoutMs: 10_000,
} as const;
