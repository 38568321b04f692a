/**
 * Exec targets backed by real host processes: node-pty when tty=true, pipes otherwise. The command
 * array is exec'd directly, with no shell in between, as a container runtime does. Each process
 * leads its own session.
 *
 * close() has two modes. By default it does what a real runtime does when the exec stream goes
 * away: a pty is hung up (its master closed, so the kernel and node-pty send SIGHUP to the
 * terminal's processes), pipes are closed, and nothing more; what survives is handed to the
 * SurvivorTracker, counted, and killed only when the sandbox stops. With killOnClose it sends
 * SIGHUP to the whole session and every process carrying the exec's marker (setsid children
 * included), then SIGKILL after a grace period, and resolves only once the leader has been reaped.
 */
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as pty from 'node-pty';
import { sessionAlive, signalSession } from './process-group.js';
import { readTailOnDestroy } from './pty-tail.js';
import type { ExecOutcome } from './status.js';
import { markedProcesses, signalAll } from './survivors.js';
import { TargetStartError, type ExecTarget, type TargetSink, type TargetSpec } from './target.js';

export interface ProcessGauge {
  processStarted(): void;
  processExited(): void;
}

export interface ProcessTargetOptions {
  /** Time between SIGHUP and SIGKILL when closing. */
  readonly graceMs: number;
  readonly gauge: ProcessGauge;
  /** true: close() kills everything the exec started; false: it hangs up, as a runtime does. */
  readonly killOnClose: boolean;
  /** The exec's PODTERM_SANDBOX_EXEC value (survivors.ts), also set in spec.env by the caller. */
  readonly marker?: string;
  /** Takes over what a hung-up exec left running. */
  readonly survivors?: SurvivorSink;
}

export interface SurvivorSink {
  adopt(marker: string, leaderPid: number | undefined): void;
  leaderExited(marker: string, pid: number): void;
}

/** After the leader exits, how long to wait for its pipes to reach EOF (a background child may hold them). */
const PIPE_DRAIN_MS = 300;

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The failure containerd reports when runc cannot find the executable (runc uses Go's
 * exec.LookPath: a bare name is searched in $PATH, a path is stat'ed), wrapped as containerd's
 * CRI exec does: `failed to exec in container: failed to start exec "<exec id>": ...`.
 */
export function execNotFound(name: string): TargetStartError {
  const why = name.includes('/') ? `stat ${name}: no such file or directory` : `exec: "${name}": executable file not found in $PATH`;
  const id = randomBytes(32).toString('hex');
  return new TargetStartError(
    `error executing command in container: failed to exec in container: failed to start exec "${id}": OCI runtime exec failed: exec failed: unable to start container process: ${name.includes('/') ? `exec: "${name}": ` : ''}${why}: unknown`,
  );
}

/** PATH lookup as execvp does it, so a missing binary fails like containerd rather than as a pty error. */
export function resolveExecutable(name: string, env: Readonly<Record<string, string>>): string {
  const candidates = name.includes('/') ? [name] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name));
  const found = candidates.find(isExecutable);
  if (found === undefined) throw execNotFound(name);
  return found;
}

function outcomeOf(code: number, command: readonly string[]): ExecOutcome {
  return code === 0 ? { kind: 'success' } : { kind: 'exit', code: code & 0xff, command };
}

function signalMarked(marker: string | undefined, signal: NodeJS.Signals): void {
  if (marker !== undefined) signalAll(markedProcesses((v) => v === marker).map((p) => p.pid), signal);
}

/**
 * Kill-on-close teardown: SIGHUP the session and the marked processes (a setsid child has left the
 * session but kept the marker), wait, SIGKILL what is left, wait for the leader's reaping.
 */
async function killSession(pid: number, exited: Promise<void>, isExited: () => boolean, opts: ProcessTargetOptions): Promise<void> {
  signalSession(pid, 'SIGHUP');
  signalMarked(opts.marker, 'SIGHUP');
  const deadline = Date.now() + opts.graceMs;
  while (Date.now() < deadline && (!isExited() || sessionAlive(pid))) {
    await Promise.race([exited, delay(50)]);
  }
  if (!isExited() || sessionAlive(pid)) signalSession(pid, 'SIGKILL');
  signalMarked(opts.marker, 'SIGKILL');
  await exited;
}

/** Real-runtime close: the caller has hung up; hand what is still running to the tracker. */
function release(pid: number, isExited: () => boolean, opts: ProcessTargetOptions): void {
  if (opts.marker !== undefined) opts.survivors?.adopt(opts.marker, isExited() ? undefined : pid);
}

export function startProcessTarget(spec: TargetSpec, sink: TargetSink, opts: ProcessTargetOptions): ExecTarget {
  const [name, ...args] = spec.command;
  if (name === undefined) throw new TargetStartError('you must specify at least one command for the container');
  const file = resolveExecutable(name, spec.env);
  return spec.tty ? new PtyTarget(file, args, spec, sink, opts) : new PipeTarget(file, args, spec, sink, opts);
}

/** Reads that arrive before the next event-loop turn go out as one frame (no added latency); capped here. */
const PTY_BATCH_BYTES = 64 * 1024;
class PtyTarget implements ExecTarget {
  readonly #pty: pty.IPty;
  #sink!: TargetSink;
  #batch: Buffer[] = [];
  #batchBytes = 0;
  #flushScheduled: NodeJS.Immediate | undefined;
  readonly #exited: Promise<void>;
  #state: 'running' | 'exited' = 'running';
  #closing: Promise<void> | undefined;
  /** close() has begun: the pty's tail is no longer read (set before close() destroys it). */
  #hungUp = false;

  constructor(file: string, args: string[], spec: TargetSpec, sink: TargetSink, readonly opts: ProcessTargetOptions) {
    // encoding null: node-pty hands us Buffers, so bytes reach the client unchanged (no UTF-8 round trip).
    const size = spec.size ?? { cols: 80, rows: 24 };
    this.#pty = pty.spawn(file, args, { name: 'xterm-256color', cols: size.cols, rows: size.rows, cwd: spec.cwd, env: { ...spec.env }, encoding: null });
    opts.gauge.processStarted();
    this.#pty.onData((d: string | Buffer) => this.#coalesce(typeof d === 'string' ? Buffer.from(d) : d));
    readTailOnDestroy(this.#pty, (d) => this.#coalesce(d), () => !this.#hungUp);
    this.#sink = sink;
    this.#exited = new Promise((resolve) => {
      // node-pty emits exit only after the pty socket has closed, so all output has been delivered.
      this.#pty.onExit(({ exitCode, signal }) => {
        this.#state = 'exited';
        opts.gauge.processExited();
        if (opts.marker !== undefined) opts.survivors?.leaderExited(opts.marker, this.#pty.pid);
        resolve();
        this.#flush(); // output before the status
        if (this.#closing === undefined) sink.finished(outcomeOf(signal ? 128 + signal : exitCode, spec.command));
      });
    });
  }

  #coalesce(data: Buffer): void {
    this.#batch.push(data);
    this.#batchBytes += data.length;
    if (this.#batchBytes >= PTY_BATCH_BYTES) this.#flush();
    else this.#flushScheduled ??= setImmediate(() => this.#flush());
  }

  #flush(): void {
    if (this.#flushScheduled !== undefined) clearImmediate(this.#flushScheduled);
    this.#flushScheduled = undefined;
    if (this.#batchBytes === 0) return;
    const out = this.#batch.length === 1 ? (this.#batch[0] as Buffer) : Buffer.concat(this.#batch, this.#batchBytes);
    this.#batch = [];
    this.#batchBytes = 0;
    this.#sink.stdout(out);
  }

  writeStdin(data: Buffer): boolean {
    // node-pty queues writes itself and reports no fullness; the terminal's own buffer is small.
    if (this.#state === 'running' && this.#closing === undefined) this.#pty.write(data as unknown as string);
    return true;
  }

  endStdin(): void {
    // A terminal has no EOF of its own; ^D is what a line-discipline reader takes as end of input.
    if (this.#state === 'running' && this.#closing === undefined) this.#pty.write('\x04');
  }

  resize(cols: number, rows: number): void {
    if (this.#state !== 'running' || this.#closing !== undefined) return;
    try {
      this.#pty.resize(Math.max(cols, 1), Math.max(rows, 1));
    } catch {
      // The child can exit, and node-pty close the pty fd, before its exit event reaches us: the
      // ioctl then fails with EBADF. A resize of a terminal that is gone is moot, never fatal.
    }
  }

  pause(): void {
    // The kernel holds what the process writes meanwhile, and the process blocks once it is full.
    // If it exits while paused, node-pty's destroy reads the rest (readTailOnDestroy).
    if (this.#state === 'running') this.#pty.pause();
  }

  resume(): void {
    this.#pty.resume();
  }

  close(): Promise<void> {
    this.#hungUp = true;
    this.#closing ??= (async () => {
      if (this.#flushScheduled !== undefined) clearImmediate(this.#flushScheduled);
      this.#flushScheduled = undefined;
      this.#batch = []; // nobody reads any more
      this.#batchBytes = 0;
      this.resume(); // a paused socket would never see EOF, and node-pty waits for it before 'exit'
      if (!this.opts.killOnClose) {
        // The hang-up: closing the master makes the kernel send SIGHUP to the terminal's session
        // leader and foreground group, and node-pty sends the leader SIGHUP once the fd is closed.
        (this.#pty as unknown as { destroy(): void }).destroy();
        release(this.#pty.pid, () => this.#state === 'exited', this.opts);
        return;
      }
      await killSession(this.#pty.pid, this.#exited, () => this.#state === 'exited', this.opts);
    })();
    return this.#closing;
  }
}

class PipeTarget implements ExecTarget {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #state: 'running' | 'exited' = 'running';
  #closing: Promise<void> | undefined;
  #paused = false;
  #status: number | undefined;
  #finished = false;
  #drainTimer: NodeJS.Timeout | undefined;
  readonly #sink: TargetSink;
  readonly #command: readonly string[];

  constructor(file: string, args: string[], spec: TargetSpec, sink: TargetSink, readonly opts: ProcessTargetOptions) {
    this.#child = spawnChild(file, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true, // own session, so the group can be signalled as a whole
      stdio: [spec.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      argv0: spec.command[0],
    });
    opts.gauge.processStarted();
    const { stdin, stdout, stderr } = this.#child;
    stdin?.on('error', () => {}); // EPIPE when the process exits before reading everything
    stdin?.on('drain', () => sink.stdinDrained());
    stdout?.on('data', (d: Buffer) => sink.stdout(d));
    stderr?.on('data', (d: Buffer) => sink.stderr(d));
    // libuv's stdio pipes are socket pairs: a read can fail (ECONNRESET, seen once in CI as an
    // uncaught exception). The output simply ends there; 'exit' and 'close' still follow.
    stdout?.on('error', () => undefined);
    stderr?.on('error', () => undefined);
    this.#child.once('close', () => this.#finish());
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#state = 'exited';
        opts.gauge.processExited();
        if (opts.marker !== undefined && this.#child.pid !== undefined) opts.survivors?.leaderExited(opts.marker, this.#child.pid);
        resolve();
        this.#status = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
        this.#armDrain();
      });
    });
    this.#sink = sink;
    this.#command = spec.command;
    this.#child.on('error', () => {}); // spawn errors are caught by resolveExecutable; 'exit' still follows kill errors
  }

  writeStdin(data: Buffer): boolean {
    const stdin = this.#child.stdin;
    if (stdin && !stdin.writableEnded && this.#closing === undefined) return stdin.write(data);
    return true;
  }

  endStdin(): void {
    const stdin = this.#child.stdin;
    if (stdin && !stdin.writableEnded) stdin.end();
  }

  resize(): void {
    // Pipes have no window size.
  }

  pause(): void {
    this.#paused = true;
    clearTimeout(this.#drainTimer);
    this.#child.stdout?.pause();
    this.#child.stderr?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#child.stdout?.resume();
    this.#child.stderr?.resume();
    this.#armDrain();
  }

  /**
   * After the leader exits its pipes normally reach EOF ('close'); a background child may hold them
   * open, so give up after PIPE_DRAIN_MS of unpaused reading (never while paused: that would drop
   * output still in the pipe).
   */
  #armDrain(): void {
    if (this.#state !== 'exited' || this.#paused || this.#finished) return;
    clearTimeout(this.#drainTimer);
    this.#drainTimer = setTimeout(() => this.#finish(), PIPE_DRAIN_MS);
  }

  #finish(): void {
    if (this.#finished || this.#status === undefined) return;
    this.#finished = true;
    clearTimeout(this.#drainTimer);
    if (this.#closing === undefined) this.#sink.finished(outcomeOf(this.#status, this.#command));
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#finished = true;
      clearTimeout(this.#drainTimer);
      this.#child.stdin?.destroy();
      const pid = this.#child.pid;
      if (!this.opts.killOnClose) {
        // A runtime closes the exec's pipes and leaves the process be; its next write gets EPIPE.
        this.#child.stdout?.destroy();
        this.#child.stderr?.destroy();
        if (pid !== undefined) release(pid, () => this.#state === 'exited', this.opts);
        return;
      }
      if (pid !== undefined) await killSession(pid, this.#exited, () => this.#state === 'exited', this.opts);
      this.#child.stdout?.destroy();
      this.#child.stderr?.destroy();
    })();
    return this.#closing;
  }
}
