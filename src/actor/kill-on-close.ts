/**
 * Kill on close (`--kill-on-close`, default on). On a real cluster, closing an exec stream hangs
 * up the terminal and nothing more: background jobs, `nohup` and `setsid` children keep running in
 * the container (Rancher #29632 ran nodes out of memory this way). podterm starts its shell with a
 * marker in the environment, `PODTERM_SESSION=<session id>`, which every descendant inherits
 * through fork, `nohup` and `setsid` alike (only a process that execs with a cleared environment
 * escapes). When the session ends, a second exec finds the marked processes through
 * /proc/PID/environ with a small POSIX sh loop (no ps/pkill in many images), sends SIGHUP, waits a
 * short grace, then SIGKILLs what is left. A container without sh cannot be searched: that is
 * logged. Sessions with a command of the user's own or attached to a main process carry no marker
 * and are left alone, as kubectl would.
 */
import { SHELL_COMMAND } from '../protocol/index.js';
import type { KubeContexts } from '../kube/config.js';
import type { ExecAgents } from '../kube/exec.js';
import { execOnce } from '../kube/exec-once.js';
import type { ActAs } from '../kube/act-as.js';

export const SESSION_MARKER_VAR = 'PODTERM_SESSION';

/** podterm's shell with the marker exported, or null when the command is not podterm's shell. */
export function markedShellCommand(command: readonly string[], session: string): string[] | null {
  if (command.length !== SHELL_COMMAND.length || command.some((c, i) => c !== SHELL_COMMAND[i])) return null;
  if (!/^[A-Za-z0-9-]{8,64}$/.test(session)) return null; // safe inside the shell text as it is
  return [command[0] as string, command[1] as string, `export ${SESSION_MARKER_VAR}=${session}; ${command[2] as string}`];
}

/**
 * `$1` is the marker value. Session ids have a fixed length (UUIDs), so a match on
 * `NAME=VALUE` cannot be a prefix of another session's marker. The killer's own shell is
 * skipped ($$); its environment carries no marker anyway. Prints what it did on stdout.
 */
export const KILL_SCRIPT = [
  `m="${SESSION_MARKER_VAR}=$1"`,
  'pids() { for d in /proc/[0-9]*; do p=${d#/proc/}; [ "$p" = "$$" ] && continue; grep -qF -e "$m" "$d/environ" 2>/dev/null && echo "$p"; done; }',
  'set -- $(pids); n=$#',
  '[ "$n" -eq 0 ] && { echo "found 0"; exit 0; }',
  'kill -HUP "$@" 2>/dev/null',
  'i=0; while [ $i -lt 5 ]; do sleep 0.2 2>/dev/null || { sleep 1; i=4; }; set -- $(pids); [ $# -eq 0 ] && { echo "found $n hung-up $n"; exit 0; }; i=$((i+1)); done',
  'kill -KILL "$@" 2>/dev/null',
  'echo "found $n killed $#"',
].join('\n');

export function killCommand(session: string): string[] {
  return ['/bin/sh', '-c', KILL_SCRIPT, 'podterm-kill-on-close', session];
}

/** What the kill exec reported, for the log. */
export type KillOutcome = { kind: 'done'; report: string } | { kind: 'no-shell' } | { kind: 'failed'; reason: string };

/**
 * Runs the kill through `run` (one non-TTY exec of `command` in the session's container, resolving
 * with its stdout and whether the executable was missing). Never throws.
 */
export async function killSessionProcesses(
  session: string,
  run: (command: string[]) => Promise<{ stdout: string; missingExecutable: boolean; ok: boolean }>,
): Promise<KillOutcome> {
  try {
    const r = await run(killCommand(session));
    if (r.missingExecutable) return { kind: 'no-shell' };
    if (!r.ok) return { kind: 'failed', reason: r.stdout.trim() || 'the kill exec failed' };
    return { kind: 'done', report: r.stdout.trim() };
  } catch (err) {
    return { kind: 'failed', reason: err instanceof Error ? err.message : String(err) };
  }
}

/** How long the kill exec may take in all (HUP, grace, KILL), so teardown stays bounded. */
export const KILL_TIMEOUT_MS = 4000;

/** The actor's call: the kill exec in the session's container, as the session's identity, logged. */
export async function killLeftovers(
  init: { session: string; namespace: string; pod: string; context: string | undefined; as?: ActAs | undefined },
  container: string,
  deps: { kube: KubeContexts; agents: ExecAgents; counters: { execs: number }; log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void },
): Promise<void> {
  // As the session's person (act-as.ts), like the session's own exec.
  const { kc, headers } = deps.kube.identity({ context: init.context, as: init.as });
  const target = { namespace: init.namespace, pod: init.pod, container };
  const outcome = await killSessionProcesses(init.session, (command) => execOnce(kc, target, command, { headers, agents: deps.agents, timeoutMs: KILL_TIMEOUT_MS, counters: deps.counters }));
  const fields = { session: init.session, ...target };
  if (outcome.kind === 'done') deps.log('debug', 'kill on close', { ...fields, report: outcome.report });
  else if (outcome.kind === 'no-shell') deps.log('warn', 'kill on close: the container has no shell; processes the session left cannot be ended', fields);
  else deps.log('warn', 'kill on close failed', { ...fields, reason: outcome.reason });
}
