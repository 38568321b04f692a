/** What an exec stream drives: a real process (process-target.ts) or an in-process load target. */
import type { ExecOutcome } from './status.js';

export interface TargetSink {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
  /** stdin can take data again after writeStdin returned false. */
  stdinDrained(): void;
  /** Called once, after the last stdout/stderr data, when the command has finished on its own. */
  finished(outcome: ExecOutcome): void;
}

export interface TargetSpec {
  readonly command: readonly string[];
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** The terminal's size at start (tty only); default 80x24. */
  readonly size?: { readonly cols: number; readonly rows: number };
}

export interface ExecTarget {
  /** false: the target is full; the caller stops reading its client until sink.stdinDrained(). */
  writeStdin(data: Buffer): boolean;
  /** stdin EOF (v5 close signal for stream 0). */
  endStdin(): void;
  /** Only called with tty=true. */
  resize(cols: number, rows: number): void;
  /** Stop producing output until resume(): the WebSocket is behind. */
  pause(): void;
  resume(): void;
  /** Ends the command if it still runs and resolves once it has really gone. Idempotent. */
  close(): Promise<void>;
}

/** Raised before anything starts, e.g. the executable does not exist; becomes an InternalError status. */
export class TargetStartError extends Error {
  override readonly name = 'TargetStartError';
}
