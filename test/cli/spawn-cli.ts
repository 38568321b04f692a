/**
 * Runs the real CLI (`node bin/podterm.js ...`) in its own HOME and TMPDIR, so the sandbox's
 * scratch folders of this run (os.tmpdir()/podterm-sandbox-*) can be counted without seeing other
 * tests' folders, and no ~/.kube/config or KUBECONFIG of the machine leaks in. Killed at teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/podterm.js', import.meta.url));

export interface CliRun {
  readonly child: ChildProcess;
  /** The run's own TMPDIR and HOME (empty: no ~/.kube/config). */
  readonly tmp: string;
  readonly home: string;
  stdout(): string;
  stderr(): string;
  /** Exit code (null if killed by a signal) and how long the process ran. */
  readonly exited: Promise<{ code: number | null; ms: number }>;
  /** Resolves with the match once stdout+stderr match, rejects if the process exits first or on timeout. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** The sandbox scratch folders now in this run's TMPDIR. */
  scratchDirs(): Promise<string[]>;
}

export interface CliOptions {
  /** Extra env (e.g. KUBECONFIG, PODTERM_TOKEN); KUBECONFIG and PODTERM_TOKEN are unset otherwise. */
  env?: Record<string, string>;
  /** Reuse another run's HOME (for a ~/.kube/config written by the test). */
  home?: string;
}

export async function runCli(t: TestContext, args: string[], opts: CliOptions = {}): Promise<CliRun> {
  const tmp = await mkdtemp(join(tmpdir(), 'podterm-cli-tmp-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const home = opts.home ?? (await mkdtemp(join(tmpdir(), 'podterm-cli-home-')));
  if (!opts.home) t.after(() => rm(home, { recursive: true, force: true }));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'KUBECONFIG' && k !== 'PODTERM_TOKEN') env[k] = v;
  Object.assign(env, { HOME: home, TMPDIR: tmp }, opts.env);
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; ms: number }>((resolve) => child.once('exit', (code) => resolve({ code, ms: Date.now() - started })));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const scratchDirs = async (): Promise<string[]> => (await readdir(tmp)).filter((n) => n.startsWith('podterm-sandbox-'));
  return {
    child,
    tmp,
    home,
    stdout: () => out,
    stderr: () => err,
    exited,
    scratchDirs,
    async waitFor(re, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let gone = false;
      void exited.then(() => (gone = true));
      for (;;) {
        const m = re.exec(out + err);
        if (m) return m;
        if (gone) throw new Error(`exited before ${re}: stdout ${JSON.stringify(out)} stderr ${JSON.stringify(err)}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}: stdout ${JSON.stringify(out)} stderr ${JSON.stringify(err)}`);
        await delay(20);
      }
    },
  };
}

/** Waits for exit, but fails (and the teardown kills) if the process is still running after `ms`. */
export async function exitWithin(run: CliRun, ms: number): Promise<{ code: number | null; ms: number }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms: stderr ${JSON.stringify(run.stderr())}`)), ms);
  });
  try {
    return await Promise.race([run.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}
