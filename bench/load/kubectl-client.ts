/**
 * The common alternative: one real `kubectl exec -it` process per session, in a PTY (what ttyd or
 * gotty in front of kubectl does). node-pty provides the PTY kubectl needs for -t.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { type BenchSession, type EndInfo, type Target, deferred, noop } from './session.js';

/** One discovery cache for all kubectl processes of an agent: what a long-running ttyd host has. */
let cacheDir: string | undefined;
export function kubectlCacheDir(): string {
  cacheDir ??= mkdtempSync(join(tmpdir(), 'podterm-bench-kubectl-'));
  return cacheDir;
}
export function removeKubectlCache(): void {
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  cacheDir = undefined;
}

export function openKubectl(kubeconfig: string, target: Target): BenchSession {
  const started = deferred<void>();
  const ended = deferred<EndInfo>();
  const args = ['--kubeconfig', kubeconfig, '--cache-dir', kubectlCacheDir(), 'exec', '-it', '-n', target.namespace, target.pod];
  if (target.container) args.push('-c', target.container);
  args.push('--', ...(target.command ?? ['sh']));
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm-256color' };
  const p = pty.spawn('kubectl', args, { name: 'xterm-256color', cols: 80, rows: 24, cwd: tmpdir(), env });
  let closed = false;
  let tail = '';
  const session: BenchSession = {
    pid: p.pid,
    started: started.promise,
    ended: ended.promise,
    onData: noop,
    write: (bytes) => {
      if (!closed) p.write(Buffer.from(bytes).toString('latin1'));
    },
    pauseReading: () => p.pause(),
    resumeReading: () => p.resume(),
    close(abrupt = false) {
      if (closed) return;
      closed = true;
      p.kill(abrupt ? 'SIGKILL' : 'SIGHUP');
    },
  };
  // kubectl gives no "exec established" signal; the process being up is the closest, and drivers
  // that need the remote end (typists) wait for their first echo anyway.
  started.resolve();
  // Binary-safe: node-pty decodes with the encoding given; 'latin1'-free raw bytes come from
  // onData as strings, so count characters (the bench's streams are ASCII).
  p.onData((d: string) => {
    if (tail.length < 512) tail += d;
    session.onData(Buffer.from(d, 'latin1'));
  });
  p.onExit(({ exitCode }) => {
    closed = true;
    // node-pty can report the exit before the last output is read from the PTY: let it drain.
    setTimeout(() => ended.resolve(exitCode === 0 ? { exitCode } : { exitCode, error: `kubectl exited ${exitCode}: ${tail.slice(0, 200)}` }), 300);
  });
  return session;
}
