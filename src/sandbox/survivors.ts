/**
 * Processes an exec left running after its stream closed, as a real runtime leaves them
 * (background jobs, `nohup`, `setsid` children). Without cgroups the sandbox finds them by a marker
 * in their environment: every exec'd process gets `PODTERM_SANDBOX_EXEC=<sandbox id>/<exec n>`,
 * which every descendant inherits through fork, `nohup` and `setsid` alike (only a process that
 * execs with a cleared environment escapes). /proc/PID/environ is the environment at exec time, so
 * a scan of /proc finds them whatever their session, group or parent. Zombies have an empty
 * environ and are never counted.
 *
 * SurvivorTracker owns the closed execs' survivors: it counts them (for sandbox_processes_active)
 * by polling while any exist, and kills all of them, and every other marked process of this
 * sandbox, when the sandbox stops.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const EXEC_MARKER_VAR = 'PODTERM_SANDBOX_EXEC';

/** Live processes whose environment carries the marker, with its value (after the `=`). */
export function markedProcesses(match: (value: string) => boolean): { pid: number; marker: string }[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return []; // not Linux: nothing can be found this way
  }
  const key = `${EXEC_MARKER_VAR}=`;
  const out: { pid: number; marker: string }[] = [];
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${name}/environ`, 'latin1');
    } catch {
      continue; // exited while we looked, or not ours
    }
    const at = environ.startsWith(key) ? 0 : environ.indexOf(`\0${key}`) + 1;
    if (at === 0 && !environ.startsWith(key)) continue;
    const end = environ.indexOf('\0', at + key.length);
    const marker = environ.slice(at + key.length, end === -1 ? undefined : end);
    if (match(marker)) out.push({ pid: Number(name), marker });
  }
  return out;
}

export function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** How often survivors are counted again while some exist. */
const POLL_MS = 250;

export class SurvivorTracker {
  /** marker -> pids the process gauge already counts (the exec's leader, until it is reaped). */
  readonly #closed = new Map<string, Set<number>>();
  #count = 0;
  #timer: NodeJS.Timeout | undefined;
  #state: 'open' | 'closed' = 'open';

  constructor(readonly sandboxId: string) {}

  /** Survivors of closed execs, not counting leaders the process gauge still counts. */
  get count(): number {
    return this.#count;
  }

  /** An exec stream closed without killing its processes; count what it left running. */
  adopt(marker: string, leaderPid: number | undefined): void {
    if (this.#state !== 'open') return;
    this.#closed.set(marker, new Set(leaderPid === undefined ? [] : [leaderPid]));
    this.#scan();
  }

  /** The leader was reaped: from now on only the scan counts what is left of that exec. */
  leaderExited(marker: string, pid: number): void {
    this.#closed.get(marker)?.delete(pid);
  }

  #scan(): void {
    const byMarker = new Map<string, number>();
    for (const marker of this.#closed.keys()) byMarker.set(marker, 0);
    let count = 0;
    for (const { pid, marker } of markedProcesses((v) => byMarker.has(v))) {
      byMarker.set(marker, (byMarker.get(marker) ?? 0) + 1);
      if (!this.#closed.get(marker)?.has(pid)) count++;
    }
    for (const [marker, n] of byMarker) if (n === 0) this.#closed.delete(marker);
    this.#count = count;
    if (this.#closed.size > 0 && this.#state === 'open') {
      this.#timer ??= setInterval(() => this.#scan(), POLL_MS);
      this.#timer.unref();
    } else {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Every process this sandbox's execs started, open or closed: SIGKILL, until none is left. */
  async close(): Promise<void> {
    this.#state = 'closed';
    clearInterval(this.#timer);
    this.#timer = undefined;
    const mine = (v: string): boolean => v.startsWith(`${this.sandboxId}/`);
    for (let i = 0; i < 100; i++) {
      const pids = markedProcesses(mine).map((p) => p.pid);
      if (pids.length === 0) break;
      signalAll(pids, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 20));
    }
    this.#closed.clear();
    this.#count = 0;
  }
}
