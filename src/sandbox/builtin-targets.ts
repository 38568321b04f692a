/**
 * In-process load targets: no OS process, so benchmarks measure the gateway rather than fork/exec.
 * - echo: every stdin byte goes back on stdout once (no line discipline, tty or not); stdin EOF
 *   ends it with exit 0.
 * - flood [N]: N bytes of printable text (lines ending \r\n with a tty, \n without) as fast as the
 *   reader takes them, then exit 0; without N it streams until the exec is closed.
 */
import type { ExecTarget, TargetSink, TargetSpec } from './target.js';
import { TargetStartError } from './target.js';

/** Echo input held while the output is paused, before the client is asked to stop sending. */
const ECHO_HOLD_BYTES = 64 * 1024;

/** One flood write; well under the gateway's 16 KiB frame limit once it is re-framed. */
const FLOOD_CHUNK = 16 * 1024;

export function startEchoTarget(spec: TargetSpec, sink: TargetSink): ExecTarget {
  return new EchoTarget(spec, sink);
}

class EchoTarget implements ExecTarget {
  #state: 'running' | 'finished' | 'closed' = 'running';
  #paused = false;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #eof = false;

  constructor(spec: TargetSpec, readonly sink: TargetSink) {
    // Without stdin there is nothing to echo: EOF at once, as `cat </dev/null` would.
    if (!spec.stdin) {
      this.#eof = true;
      queueMicrotask(() => this.#flush());
    }
  }

  writeStdin(data: Buffer): boolean {
    if (this.#state !== 'running' || this.#eof) return true;
    if (!this.#paused) {
      this.sink.stdout(data);
      return true;
    }
    this.#held.push(Buffer.from(data));
    this.#heldBytes += data.length;
    // Past this, the client must stop sending until the output side drains (see resume()).
    return this.#heldBytes < ECHO_HOLD_BYTES;
  }

  endStdin(): void {
    this.#eof = true;
    this.#flush();
  }

  resize(): void {}

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#flush();
  }

  #flush(): void {
    if (this.#state !== 'running') return;
    const wasFull = this.#heldBytes >= ECHO_HOLD_BYTES;
    while (!this.#paused && this.#held.length > 0) {
      const chunk = this.#held.shift() as Buffer;
      this.#heldBytes -= chunk.length;
      this.sink.stdout(chunk);
    }
    if (wasFull && this.#heldBytes < ECHO_HOLD_BYTES) this.sink.stdinDrained();
    if (this.#eof && this.#held.length === 0) {
      this.#state = 'finished';
      this.sink.finished({ kind: 'success' });
    }
  }

  close(): Promise<void> {
    this.#state = 'closed';
    this.#held = [];
    this.#heldBytes = 0;
    return Promise.resolve();
  }
}

const LINE = 'podterm sandbox flood: ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789';

/** Parses `flood` / `flood N`; null N means unbounded. */
export function parseFloodCommand(command: readonly string[]): number | null {
  const [name, count, ...rest] = command;
  if (name !== 'flood' || rest.length > 0) {
    throw new TargetStartError(
      `error executing command in container: failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: exec: "${name ?? ''}": executable file not found in $PATH: unknown`,
    );
  }
  if (count === undefined) return null;
  if (!/^\d{1,15}$/.test(count)) throw new TargetStartError(`error executing command in container: flood: invalid byte count ${JSON.stringify(count)}`);
  return Number(count);
}

export function startFloodTarget(spec: TargetSpec, sink: TargetSink): ExecTarget {
  return new FloodTarget(parseFloodCommand(spec.command), spec.tty, sink);
}

class FloodTarget implements ExecTarget {
  #state: 'running' | 'finished' | 'closed' = 'running';
  #paused = false;
  #scheduled: NodeJS.Immediate | undefined;
  #remaining: number;
  #offset = 0;
  readonly #pattern: Buffer;

  constructor(total: number | null, tty: boolean, readonly sink: TargetSink) {
    this.#remaining = total ?? Infinity;
    const line = LINE + (tty ? '\r\n' : '\n');
    // Pattern long enough that any FLOOD_CHUNK window is one subarray.
    this.#pattern = Buffer.from(line.repeat(Math.ceil((2 * FLOOD_CHUNK) / line.length) + 1));
    this.#lineLength = line.length;
    this.#schedule();
  }

  readonly #lineLength: number;

  #schedule(): void {
    if (this.#scheduled === undefined && this.#state === 'running' && !this.#paused) {
      // setImmediate, not a loop: the event loop keeps serving other sockets between chunks.
      this.#scheduled = setImmediate(() => this.#tick());
    }
  }

  #tick(): void {
    this.#scheduled = undefined;
    if (this.#state !== 'running' || this.#paused) return;
    const n = Math.min(FLOOD_CHUNK, this.#remaining);
    if (n > 0) {
      const start = this.#offset % this.#lineLength;
      this.sink.stdout(this.#pattern.subarray(start, start + n));
      this.#offset += n;
      this.#remaining -= n;
    }
    if (this.#remaining <= 0) {
      this.#state = 'finished';
      this.sink.finished({ kind: 'success' });
      return;
    }
    this.#schedule();
  }

  writeStdin(): boolean {
    return true;
  }

  endStdin(): void {}

  resize(): void {}

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#schedule();
  }

  close(): Promise<void> {
    this.#state = 'closed';
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    return Promise.resolve();
  }
}
