/**
 * Containers' main processes: what `kubectl attach` attaches to and what `kubectl logs` reads.
 * - A container declared with tty/stdin/command gets a real host process (a pty when tty), started
 *   at the first attach (so an idle sandbox runs nothing) and killed when the sandbox stops.
 * - A `ticker` container logs `line N` every N ms, in process, from the sandbox's start.
 * - Ephemeral containers (kubectl debug) start theirs when they turn Running.
 * Attachers share the process; detaching never ends it. Its output goes to every attacher and to
 * the container's log. When it exits, attachers get Success (the kubelet's attach status), the log
 * ends, and the next instance starts with a fresh log (the old one is `previous`); an ephemeral
 * container is never restarted and turns Terminated.
 */
import { ContainerLog } from './container-log.js';
import type { ExecRequest } from './exec-request.js';
import type { ContainerSpec } from './inventory.js';
import type { PodStore } from './pod-store.js';
import type { ExecOutcome } from './status.js';
import type { ExecTarget, TargetSink } from './target.js';

export interface MainProcessDeps {
  readonly store: PodStore;
  /** Starts the container's main process as a host process (pty when container.tty), killed on close. */
  startProcess(ns: string, pod: string, container: ContainerSpec, command: readonly string[], sink: TargetSink): ExecTarget;
  readonly log: (line: string) => void;
}

type RunnerState = 'running' | 'exited' | 'closed';

/** The command a container's main process runs, or null when it has none (idle). */
export function mainCommand(c: ContainerSpec): readonly string[] | null {
  if (c.command && c.command.length > 0) return c.command;
  return c.tty || c.stdin ? ['sh'] : null;
}

class Slot {
  log = new ContainerLog();
  previous: ContainerLog | undefined;
  restarts = 0;
  runner: Runner | undefined;
  ticker: NodeJS.Timeout | undefined;
}

class Runner {
  state: RunnerState = 'running';
  readonly attachers = new Set<TargetSink>();
  target: ExecTarget | undefined;

  constructor(
    readonly container: ContainerSpec,
    readonly onExit: (outcome: ExecOutcome) => void,
  ) {}

  output(data: Buffer, slot: Slot, stream: 'stdout' | 'stderr'): void {
    slot.log.append(data);
    for (const a of this.attachers) a[stream](data);
  }
}

export class MainProcesses {
  readonly #slots = new Map<string, Slot>();
  #state: 'open' | 'closed' = 'open';

  constructor(readonly deps: MainProcessDeps) {
    for (const ns of deps.store.inventory.namespaces) {
      for (const pod of ns.pods) {
        for (const c of pod.containers) {
          if (c.ticker !== undefined && c.state === 'running') this.#startTicker(this.#slot(ns.name, pod.name, c.name), c.ticker);
        }
      }
    }
  }

  #slot(ns: string, pod: string, container: string): Slot {
    const key = `${ns}/${pod}/${container}`;
    let s = this.#slots.get(key);
    if (!s) {
      s = new Slot();
      this.#slots.set(key, s);
    }
    return s;
  }

  #startTicker(slot: Slot, every: number): void {
    let n = 0;
    slot.ticker = setInterval(() => slot.log.append(Buffer.from(`line ${++n}\n`)), every);
    slot.ticker.unref();
  }

  /** The current (or, with previous, the last exited) instance's log; undefined: none. */
  logOf(ns: string, pod: string, container: string, previous: boolean): ContainerLog | undefined {
    const s = this.#slot(ns, pod, container);
    return previous ? s.previous : s.log;
  }

  get running(): number {
    let n = 0;
    for (const s of this.#slots.values()) if (s.runner?.state === 'running') n++;
    return n;
  }

  /** Starts the main process if the container has one and it is not running. */
  ensureStarted(ns: string, pod: string, c: ContainerSpec, ephemeral = false): Runner | undefined {
    if (this.#state !== 'open') return undefined;
    const slot = this.#slot(ns, pod, c.name);
    if (slot.runner?.state === 'running') return slot.runner;
    const command = mainCommand(c);
    if (command === null) return undefined;
    const runner = new Runner(c, (outcome) => {
      runner.state = 'exited';
      slot.log.end();
      for (const a of [...runner.attachers]) a.finished({ kind: 'success' });
      runner.attachers.clear();
      if (ephemeral) {
        const code = outcome.kind === 'exit' ? outcome.code : outcome.kind === 'success' ? 0 : 128;
        this.deps.store.setEphemeralState(ns, pod, c.name, 'terminated', code);
      } else {
        // restartPolicy Always: the kubelet restarts the container at once, so the exited
        // instance's log becomes `previous` now; the new process itself starts at the next attach.
        slot.previous = slot.log;
        slot.log = new ContainerLog();
        slot.restarts++;
      }
      this.deps.log(`main process ${ns}/${pod}/${c.name} exited`);
    });
    slot.runner = runner;
    try {
      runner.target = this.deps.startProcess(ns, pod, c, command, {
        stdout: (d) => runner.output(d, slot, 'stdout'),
        stderr: (d) => runner.output(d, slot, 'stderr'),
        stdinDrained: () => {},
        finished: (outcome) => runner.onExit(outcome),
      });
    } catch (err) {
      // The runtime would report a start failure as the container's last state; keep it in the log.
      slot.log.append(Buffer.from(`${(err as Error).message}\n`));
      runner.onExit({ kind: 'exit', code: 128, command });
      return undefined;
    }
    this.deps.log(`main process ${ns}/${pod}/${c.name} started: ${command.join(' ')}`);
    return runner;
  }

  /** An attach stream's target: shares the main process, never ends it. */
  attach(req: ExecRequest, sink: TargetSink, ephemeral: boolean): ExecTarget {
    const runner = this.ensureStarted(req.namespace, req.pod.name, req.container, ephemeral);
    // A container without a main process of ours (or one that failed to start) is attachable but silent.
    if (runner) runner.attachers.add(sink);
    const live = (): boolean => runner?.state === 'running' && runner.attachers.has(sink);
    return {
      writeStdin: (data) => {
        // The kubelet passes stdin only to a container started with stdin (containerd ignores it otherwise).
        if (live() && req.container.stdin) runner?.target?.writeStdin(data);
        return true;
      },
      // stdinOnce is false for these containers: one attacher's EOF does not close the container's stdin.
      endStdin: () => {},
      resize: (cols, rows) => {
        if (live() && req.container.tty) runner?.target?.resize(cols, rows);
      },
      // One slow attacher does not slow the container down for the others (its socket buffers).
      pause: () => {},
      resume: () => {},
      close: () => {
        runner?.attachers.delete(sink);
        return Promise.resolve();
      },
    };
  }

  /** Kills every main process and stops the tickers. */
  async close(): Promise<void> {
    this.#state = 'closed';
    const closing: Promise<void>[] = [];
    for (const s of this.#slots.values()) {
      clearInterval(s.ticker);
      const r = s.runner;
      if (r?.state === 'running') {
        r.state = 'closed';
        for (const a of [...r.attachers]) a.finished({ kind: 'success' });
        r.attachers.clear();
        if (r.target) closing.push(r.target.close());
      }
      s.log.end();
    }
    await Promise.all(closing);
  }
}
