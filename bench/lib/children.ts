/**
 * ChildSet owns every process the bench starts (sandbox, gateway, load agents). One idempotent
 * close(reason) ends them all: SIGTERM, a grace period, then SIGKILL; the composition root also
 * calls killNow() from process 'exit', so a crashed or interrupted bench leaves nothing running.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where every child's stderr is kept, one file per process. */
export const LOG_DIR = join(tmpdir(), 'podterm-bench-logs');

type State = 'open' | 'closing' | 'closed';

export interface Spawned {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Everything the process wrote to stderr, last 64 KiB, for error messages. */
  stderrTail(): string;
}

export class ChildSet {
  #state: State = 'open';
  #closing: Promise<void> | undefined;
  readonly #children = new Set<Spawned>();

  /** Registers a process started elsewhere (e.g. child_process.fork) with the same teardown. */
  adopt(name: string, proc: ChildProcess): Spawned {
    if (this.#state !== 'open') {
      proc.kill('SIGKILL');
      throw new Error(`bench: cannot start ${name} while closing`);
    }
    if (proc.pid === undefined) throw new Error(`bench: ${name} did not start`);
    let tail = '';
    // Keep the whole stderr of each child in a log file: the gateway's own account of a failure.
    mkdirSync(LOG_DIR, { recursive: true });
    const log = createWriteStream(join(LOG_DIR, `${name.replace(/[^\w.-]+/g, '_')}-${proc.pid ?? 0}.log`));
    proc.stderr?.on('data', (b: Buffer) => {
      tail = (tail + b.toString('utf8')).slice(-65536);
      log.write(b);
    });
    proc.once('exit', () => log.end());
    const exited = new Promise<number | string>((resolve) => {
      proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
    });
    const child: Spawned = { name, proc, pid: proc.pid, exited, stderrTail: () => tail };
    this.#children.add(child);
    void exited.then(() => this.#children.delete(child));
    return child;
  }

  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): Spawned {
    const [cmd, argv] = withHardNofile(command, args);
    const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    if (proc.pid === undefined) {
      // spawn reports ENOENT asynchronously; surface it as a thrown error here.
      throw new Error(`bench: could not start ${name} (${command})`);
    }
    return this.adopt(name, proc);
  }

  /** Ends one child: SIGTERM (or `signal`), then SIGKILL after graceMs. */
  async stop(child: Spawned, graceMs = 5000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
    child.proc.kill(signal);
    const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
    try {
      await child.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  get size(): number {
    return this.#children.size;
  }

  close(reason = 'done'): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#state = 'closing';
    this.#closing = (async () => {
      // Stop in reverse start order: load agents, then the gateway, then the sandbox.
      const all = [...this.#children].reverse();
      for (const c of all) await this.stop(c);
      this.#state = 'closed';
      if (reason !== 'done') process.stderr.write(`bench: stopped all children (${reason})\n`);
    })();
    return this.#closing;
  }

  /** Synchronous last resort for process 'exit': no waiting is possible there. */
  killNow(): void {
    for (const c of this.#children) c.proc.kill('SIGKILL');
  }
}

/**
 * Runs a command with its open-files soft limit raised to the hard limit: 10,000 sessions need
 * some 20,000 descriptors in the gateway alone, and node cannot raise its own limit. `exec` keeps
 * the pid, so /proc readings and signals still reach the real process; an IPC channel survives it.
 */
export function withHardNofile(command: string, args: readonly string[]): [string, string[]] {
  return ['/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', command, ...args]];
}

/** Resolves with the first stdout line matching re, or rejects on exit/timeout. */
export async function waitForLine(child: Spawned, re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const out = child.proc.stdout;
  if (!out) throw new Error(`bench: ${child.name} has no stdout pipe`);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  let buf = '';
  try {
    const found = new Promise<RegExpExecArray>((resolve) => {
      const onData = (b: Buffer): void => {
        buf += b.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) !== -1) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = re.exec(line);
          if (m) {
            out.off('data', onData);
            // Keep draining stdout so a chatty child never blocks on a full pipe.
            out.resume();
            resolve(m);
            return;
          }
        }
      };
      out.on('data', onData);
      ac.signal.addEventListener('abort', () => out.off('data', onData), { once: true });
    });
    // The losers of the race resolve (never reject) so nothing is left as an unhandled rejection.
    const exited = child.exited.then(
      (code) => new Error(`bench: ${child.name} exited (${code}) before it was ready:\n${child.stderrTail()}`),
    );
    const timedOut = once(ac.signal, 'abort').then(
      () => new Error(`bench: ${child.name} not ready after ${timeoutMs} ms:\n${child.stderrTail()}`),
    );
    const first = await Promise.race([found, exited, timedOut]);
    if (first instanceof Error) throw first;
    return first;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

/** Polls until check() returns a value other than undefined, or throws after timeoutMs. */
export async function poll<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
