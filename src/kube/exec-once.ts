/**
 * One short non-TTY exec that runs to its end: stdout collected (bounded), the Status read, the
 * whole of it bounded by `timeoutMs`. For podterm's own housekeeping commands (kill on close).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { ExecStream, type ExecAgents } from './exec.js';
import type { KubeStatus } from './errors.js';
import type { HeaderLines } from './request-headers.js';

export interface ExecOnceResult {
  stdout: string;
  ok: boolean;
  /** The runtime could not find the executable (`executable file not found`, `stat ...: no such file`). */
  missingExecutable: boolean;
}

const MAX_OUTPUT = 4096;
const MISSING = /executable file not found|stat [^:]*: no such file or directory/;

export async function execOnce(
  kc: KubeConfig,
  target: { namespace: string; pod: string; container: string },
  command: string[],
  o: { headers: HeaderLines; agents: ExecAgents; timeoutMs: number; counters?: { execs: number } },
): Promise<ExecOnceResult> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), o.timeoutMs);
  let stdout = '';
  let status: KubeStatus | undefined;
  let done!: () => void;
  const ended = new Promise<void>((resolve) => (done = resolve));
  try {
    const stream = await ExecStream.open(
      kc,
      { kind: 'exec', ...target, command, tty: false },
      {
        stdout: (b) => {
          if (stdout.length < MAX_OUTPUT) stdout += b.toString('utf8');
        },
        stderr: () => undefined,
        status: (s) => {
          status = s;
          done();
        },
        failed: () => done(),
        closed: () => done(),
      },
      { signal: ctl.signal, timeoutMs: o.timeoutMs, agents: o.agents, headers: o.headers },
    );
    if (o.counters) o.counters.execs++;
    try {
      stream.closeStdin();
      await Promise.race([ended, new Promise((r) => ctl.signal.addEventListener('abort', r, { once: true }))]);
    } finally {
      await stream.close();
      if (o.counters) o.counters.execs--;
    }
  } finally {
    clearTimeout(timer);
  }
  const text = [status?.message ?? '', ...(status?.details?.causes ?? []).map((c) => c.message ?? '')].join('\n');
  return { stdout, ok: status?.status === 'Success', missingExecutable: MISSING.test(text) };
}
