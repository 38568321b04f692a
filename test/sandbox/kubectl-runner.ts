/** Real kubectl against a sandbox: plain runs and runs under a pseudo-terminal (node-pty). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as pty from 'node-pty';
import type { Sandbox } from '../../src/sandbox/index.js';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PtyKubectl {
  readonly output: () => string;
  readonly exited: Promise<number>;
  write(s: string): void;
  resize(cols: number, rows: number): void;
  /** Waits until the output matches (poking with `poke` now and then if given). */
  until(re: RegExp, ms?: number, poke?: () => void): Promise<void>;
  kill(): void;
}

export interface KubectlRunner {
  readonly dir: string;
  run(args: string[], stdin?: string, timeoutMs?: number): Promise<KubectlResult>;
  pty(args: string[], size?: { cols: number; rows: number }): PtyKubectl;
}

/** A fresh --cache-dir per call, so discovery runs every time. Teardown registered on `t`. */
export async function kubectlRunner(t: { after(fn: () => unknown): void }, sb: Sandbox): Promise<KubectlRunner> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-kubectl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  await sb.writeKubeconfig(kubeconfig);
  let n = 0;
  const argv = (args: string[]): string[] => ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, `cache-${n++}`), ...args];
  return {
    dir,
    run: (args, stdin, timeoutMs = 20_000) =>
      new Promise((resolve) => {
        const child = execFile('kubectl', argv(args), { timeout: timeoutMs, cwd: dir }, (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          resolve({ code, stdout, stderr });
        });
        child.stdin?.end(stdin);
      }),
    pty(args, size = { cols: 100, rows: 30 }) {
      const term = pty.spawn('kubectl', argv(args), {
        ...size,
        name: 'xterm-256color',
        cwd: dir,
        env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string>,
      });
      let out = '';
      term.onData((d) => (out += d));
      let alive = true;
      const exited = new Promise<number>((resolve) =>
        term.onExit(({ exitCode }) => {
          alive = false;
          resolve(exitCode);
        }),
      );
      const kill = (): void => {
        if (alive) term.kill('SIGKILL');
      };
      t.after(kill);
      return {
        output: () => out,
        exited,
        write: (s) => term.write(s),
        resize: (c, r) => term.resize(c, r),
        kill,
        async until(re, ms = 15_000, poke) {
          const deadline = Date.now() + ms;
          while (!re.test(out)) {
            assert.ok(Date.now() < deadline, `waiting for ${re} in ${JSON.stringify(out.slice(-2000))}`);
            poke?.();
            await delay(poke ? 300 : 20);
          }
        },
      };
    },
  };
}
