/**
 * A non-TTY exec seen as a process with Node streams: `stdin` (a Writable whose callbacks wait
 * while the exec socket holds more than a high-water mark), `stdout` (a Readable that pauses the
 * exec socket while nobody reads it), the collected stderr (bounded) and the exit. The file
 * routes pipe tars through it, so backpressure runs from the pod to the browser and back.
 */
import { Readable, Writable } from 'node:stream';
import { PodtermError } from '../protocol/errors.js';

/** The part of the kube layer's ExecStream the file transfer uses. */
export interface ExecPipe {
  write(data: Uint8Array): void;
  /** v5: `[255, 0]`, the process sees EOF on stdin while its output still flows. v4: nothing. */
  closeStdin(): void;
  /** Whether closeStdin() reaches the process (v5.channel.k8s.io was negotiated). */
  readonly closesStdin: boolean;
  readonly bufferedAmount: number;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

/** How the exec ended: its exit code, or a failure before it ran (a Status that is no exit). */
export type ExecEnd = { exitCode: number; stderr: string; missing: string | null } | { error: PodtermError };

export interface ExecSinks {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
  /** Called once, with the outcome the kube layer read from channel 3 (or the socket's end). */
  ended(end: ExecEnd): void;
}

/** Opens an exec of `command` (no TTY, stdin/stdout/stderr) in the transfer's container. */
export type OpenExec = (command: readonly string[], sinks: ExecSinks) => Promise<ExecPipe>;

/** stdin bytes queued on the exec socket beyond this make writers wait. */
const STDIN_HIGH_WATER = 1024 * 1024;
const STDIN_RECHECK_MS = 5;
const MAX_STDERR = 4096;

export class ExecProcess {
  readonly stdout: Readable;
  readonly stdin: Writable;
  readonly ended: Promise<ExecEnd>;
  #stderr = '';
  #pipe: ExecPipe | undefined;
  #over = false;

  private constructor() {
    let settle!: (e: ExecEnd) => void;
    this.ended = new Promise((resolve) => (settle = resolve));
    this.#settle = settle;
    this.stdout = new Readable({
      highWaterMark: 256 * 1024,
      read: () => this.#pipe?.resume(),
    });
    this.stdin = new Writable({
      highWaterMark: 256 * 1024,
      write: (chunk: Buffer, _enc, cb) => this.#write(chunk, cb),
      final: (cb) => {
        this.#pipe?.closeStdin();
        cb();
      },
    });
  }

  readonly #settle: (e: ExecEnd) => void;

  static async start(open: OpenExec, command: readonly string[]): Promise<ExecProcess> {
    const p = new ExecProcess();
    p.#pipe = await open(command, {
      stdout: (b) => {
        if (!p.stdout.push(b)) p.#pipe?.pause();
      },
      stderr: (b) => {
        if (p.#stderr.length < MAX_STDERR) p.#stderr += b.toString('utf8').slice(0, MAX_STDERR - p.#stderr.length);
      },
      ended: (end) => {
        p.#over = true;
        if ('exitCode' in end && p.#stderr !== '' && end.stderr === '') end = { ...end, stderr: p.#stderr };
        p.stdout.push(null);
        p.#settle(end);
      },
    });
    return p;
  }

  /** False over v4: ending `stdin` does not give the process an EOF (exact-length.ts). */
  get closesStdin(): boolean {
    return this.#pipe?.closesStdin ?? false;
  }

  get stderrText(): string {
    return this.#stderr;
  }

  #write(chunk: Buffer, cb: (err?: Error | null) => void): void {
    const pipe = this.#pipe;
    if (!pipe) return cb(new PodtermError('Internal', 'The exec is not open.'));
    pipe.write(chunk);
    if (pipe.bufferedAmount <= STDIN_HIGH_WATER) return cb();
    // The ws client has no drain event: look again shortly (the actor does the same for stdin).
    const wait = (): void => {
      if (this.#over) cb(new PodtermError('UpstreamUnavailable', 'The exec ended while the upload was sent.'));
      else if (pipe.bufferedAmount <= STDIN_HIGH_WATER) cb();
      else setTimeout(wait, STDIN_RECHECK_MS);
    };
    setTimeout(wait, STDIN_RECHECK_MS);
  }

  /** Idempotent: drops the exec socket (the transfer is over or abandoned). */
  close(): Promise<void> {
    this.stdin.destroy();
    this.stdout.destroy();
    return this.#pipe?.close() ?? Promise.resolve();
  }
}
