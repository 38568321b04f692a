/**
 * The Status on channel 3 -> how the session ends: an exit code, or one of our errors.
 *
 * A container without the executable (every distroless image has no /bin/sh) is refused by the
 * runtime, not by Kubernetes: the kubelet passes the OCI runtime's words through, e.g. containerd's
 * `OCI runtime exec failed: exec failed: unable to start container process: exec: "/bin/sh":
 * executable file not found in $PATH: unknown`, or for an absolute path `exec: "/bin/sh": stat
 * /bin/sh: no such file or directory`, in an InternalError Status (some runtimes report exit code
 * 126/127 instead, with the same words).
 */
import { PodtermError } from '../protocol/errors.js';
import { statusToError, type KubeStatus } from './errors.js';

export type ExecOutcome = { kind: 'exit'; exitCode: number | null; message: string } | { kind: 'error'; error: PodtermError };

export interface ExecContext {
  container: string;
  command: readonly string[];
  /** false when podterm chose the command (its shell); true when the user gave one. */
  userCommand: boolean;
}

const MISSING_EXECUTABLE = /exec: "([^"]*)": (?:executable file not found|stat [^:]*: no such file or directory)/;

/** The executable the runtime could not find, or null when the Status says something else. */
export function missingExecutable(s: KubeStatus): string | null {
  for (const text of [s.message, ...(s.details?.causes ?? []).map((c) => c.message)]) {
    const m = text === undefined ? null : MISSING_EXECUTABLE.exec(text);
    if (m) return m[1] as string;
  }
  return null;
}

function exitCodeOf(s: KubeStatus): number | null {
  const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = cause?.message !== undefined && /^\d{1,3}$/.test(cause.message) ? Number(cause.message) : NaN;
  return Number.isInteger(code) && code <= 255 ? code : null;
}

export function execOutcome(s: KubeStatus, ctx: ExecContext): ExecOutcome {
  if (s.status === 'Success') return { kind: 'exit', exitCode: 0, message: '' };
  const missing = missingExecutable(s);
  if (missing !== null && !ctx.userCommand) {
    return {
      kind: 'error',
      error: new PodtermError('NoShell', `Container "${ctx.container}" has no shell (/bin/sh not found). Start a debug container to inspect it.`),
    };
  }
  if (missing !== null && s.reason !== 'NonZeroExitCode') {
    // The user's own command does not exist: what a shell does (exit 127, "not found"), in our words.
    return { kind: 'exit', exitCode: 127, message: `${JSON.stringify(missing)}: command not found in container "${ctx.container}"` };
  }
  if (s.reason === 'NonZeroExitCode') return { kind: 'exit', exitCode: exitCodeOf(s), message: 'command terminated with non-zero exit code' };
  return { kind: 'error', error: statusToError(s.code, s) };
}
