/**
 * The file transfer's execs, opened through the kube layer: non-TTY, stdin/stdout/stderr, in one
 * container, as the caller's identity (its kubeconfig context). The Status on channel 3 becomes an
 * ExecEnd: an exit code (with the executable the runtime could not find, if that was the failure)
 * or an error.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { PodtermError } from '../protocol/errors.js';
import { ExecStream, type ExecAgents } from '../kube/exec.js';
import { statusToError, type KubeStatus } from '../kube/errors.js';
import type { HeaderLines } from '../kube/request-headers.js';
import { missingExecutable } from './container-errors.js';
import type { ExecEnd, OpenExec } from './exec-process.js';

export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
}

export function statusToEnd(s: KubeStatus): ExecEnd {
  if (s.status === 'Success') return { exitCode: 0, stderr: '', missing: null };
  const missing = missingExecutable([s.message, ...(s.details?.causes ?? []).map((c) => c.message)]);
  if (missing !== null) return { exitCode: 127, stderr: '', missing };
  if (s.reason === 'NonZeroExitCode') {
    const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? '';
    return { exitCode: /^\d{1,3}$/.test(cause) ? Number(cause) : 1, stderr: '', missing: null };
  }
  return { error: statusToError(s.code, s) };
}

/**
 * An OpenExec for one target; every exec it opens is counted in `open` while it lives and dropped
 * when `signal` aborts (the client went away).
 */
export function kubeExecOpener(kc: KubeConfig, headers: HeaderLines, target: ExecTarget, signal: AbortSignal, agents: ExecAgents, counter: { execs: number }, timeoutMs: number): OpenExec {
  return async (command, sinks) => {
    let ended = false;
    const end = (e: ExecEnd): void => {
      if (ended) return;
      ended = true;
      sinks.ended(e);
    };
    const stream = await ExecStream.open(
      kc,
      { kind: 'exec', ...target, command: [...command], tty: false },
      {
        stdout: (b) => sinks.stdout(b),
        stderr: (b) => sinks.stderr(b),
        status: (s) => end(statusToEnd(s)),
        failed: (error) => end({ error }),
        closed: () => {
          counter.execs--;
          end({ error: new PodtermError('UpstreamUnavailable', 'The API server closed the exec stream.') });
        },
      },
      { signal, timeoutMs, agents, headers },
    );
    counter.execs++;
    const onAbort = (): void => void stream.close();
    signal.addEventListener('abort', onAbort, { once: true });
    return {
      write: (d) => stream.write(d),
      closeStdin: () => void stream.closeStdin(),
      closesStdin: stream.protocol === 'v5.channel.k8s.io',
      get bufferedAmount() {
        return stream.bufferedAmount;
      },
      pause: () => stream.pause(),
      resume: () => stream.resume(),
      close: () => {
        signal.removeEventListener('abort', onAbort);
        return stream.close();
      },
    };
  };
}
