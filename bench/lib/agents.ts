/**
 * The coordinator's side of the load agents: fork, call with a deadline, split work between them.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type ChildSet, type Spawned, withHardNofile } from './children.js';
import type { AgentReply } from '../load/agent.js';
import { REPO_ROOT } from './cluster.js';

const AGENT = fileURLToPath(new URL('../load/agent.js', import.meta.url));

export class Agent {
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(readonly child: Spawned) {
    child.proc.on('message', (m: AgentReply) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`agent ${child.pid}: ${m.error}`));
    });
    void child.exited.then((code) => {
      for (const [id, p] of this.#pending) {
        this.#pending.delete(id);
        clearTimeout(p.timer);
        p.reject(new Error(`agent ${child.pid} exited (${code}):\n${child.stderrTail()}`));
      }
    });
  }

  get pid(): number {
    return this.child.pid;
  }

  call<T>(op: string, args: unknown, timeoutMs: number): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`agent ${this.pid}: ${op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.proc.send({ id, op, args });
    });
  }
}

export function startAgents(children: ChildSet, count: number): Agent[] {
  return Array.from({ length: count }, (_, i) => {
    // spawn with an IPC channel (what fork does) through the open-files wrapper.
    const [cmd, argv] = withHardNofile(process.execPath, ['--expose-gc', '--max-old-space-size=4096', AGENT]);
    const proc = spawn(cmd, argv, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    return new Agent(children.adopt(`load-agent-${i}`, proc));
  });
}

/** Splits n into k near-equal non-negative parts. */
export function split(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}
