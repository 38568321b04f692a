/**
 * Records what real programs (vim, top, less, ls in bash) write to a terminal, as the raw byte
 * chunks a session actor would see, for the replay fidelity tests and the bench.
 *
 * The program runs in a node-pty whose output also feeds a headless xterm that answers the
 * program's queries (DA, DSR, colour queries) back into the pty, as the browser's xterm would.
 * Every step waits for the output to go quiet rather than sleeping a fixed time, so a loaded
 * machine only makes it slower. The capture ends with the "size nudge" the gateway sends on resume
 * (one row less, then back), so full-screen programs redraw: `nudgeAt` is the stream offset where
 * that began.
 */
import { spawn } from 'node-pty';
import xterm from '@xterm/headless';

const { Terminal } = xterm;

export interface Capture {
  name: string;
  cols: number;
  rows: number;
  chunks: Buffer[];
  bytes: number;
  /** Offset in the stream where the final size nudge began. */
  nudgeAt: number;
}

export type Step = { keys: string } | { resize: [number, number] } | { wait: number };

export interface Scenario {
  name: string;
  file: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
  steps: Step[];
}

/** Resolves once no output arrived for `quietMs` (at most `maxMs`). */
function quiet(last: () => number, quietMs: number, maxMs: number): Promise<void> {
  const start = Date.now();
  return new Promise((resolve) => {
    const tick = (): void => {
      const now = Date.now();
      if (now - last() >= quietMs || now - start >= maxMs) resolve();
      else setTimeout(tick, 20);
    };
    setTimeout(tick, 20);
  });
}

export async function capture(sc: Scenario, cols = 80, rows = 24): Promise<Capture> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let lastOutput = Date.now();
  const term = new Terminal({ cols, rows, allowProposedApi: true });
  const pty = spawn(sc.file, sc.args, {
    name: 'xterm-256color', cols, rows, cwd: sc.cwd ?? process.cwd(), encoding: null,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TERM: 'xterm-256color', ...sc.env },
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => pty.onExit(() => { exited = true; resolve(); }));
  try {
    pty.onData((d: string | Buffer) => {
      const b = typeof d === 'string' ? Buffer.from(d) : Buffer.from(d);
      chunks.push(b);
      bytes += b.length;
      lastOutput = Date.now();
      term.write(b);
    });
    const answers = term.onData((s) => { if (!exited) pty.write(s); });
    await quiet(() => lastOutput, 400, 10_000);
    for (const step of sc.steps) {
      if ('keys' in step) pty.write(step.keys);
      else if ('resize' in step) { pty.resize(step.resize[0], step.resize[1]); term.resize(step.resize[0], step.resize[1]); }
      else await new Promise((r) => setTimeout(r, step.wait));
      await quiet(() => lastOutput, 250, 10_000);
    }
    const nudgeAt = bytes;
    pty.resize(cols, rows - 1);
    term.resize(cols, rows - 1);
    await quiet(() => lastOutput, 300, 10_000);
    pty.resize(cols, rows);
    term.resize(cols, rows);
    await quiet(() => lastOutput, 400, 10_000);
    answers.dispose();
    return { name: sc.name, cols, rows, chunks, bytes, nudgeAt };
  } finally {
    if (!exited) pty.kill('SIGKILL');
    await Promise.race([exit, new Promise((r) => setTimeout(r, 2000))]);
    term.dispose();
  }
}
