/**
 * A pty target delivers every byte its process wrote, also when the process exits while the
 * target is paused (its exec socket is behind) and the event loop is too busy to read the rest in
 * time. node-pty 1.1.0 destroys the pty's read stream 200 ms after it reaped the child, read to
 * EOF or not; the sandbox once dropped the tail then (the gateway's slow-reader test lost 7-13 KB
 * of 4.7 MB on a loaded machine, all of it here, none in the gateway).
 *
 * The busy loop is made deterministic: every event-loop turn spends 250 ms in a setImmediate, so
 * node-pty's 200 ms timer is always due before the loop polls the pty again.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { startProcessTarget } from '../../src/sandbox/process-target.js';
import type { ExecOutcome } from '../../src/sandbox/status.js';

/** `seq 1 N` as a terminal shows it (onlcr): each line ends with \r\n. */
function seqOutput(n: number): Buffer {
  let s = '';
  for (let i = 1; i <= n; i++) s += `${i}\r\n`;
  return Buffer.from(s);
}

/** Blocks the thread for `ms`: the event loop turn that runs it takes that long. */
function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
}

// ~14 KB: more than the read stream takes while paused (one 4 KiB read here), less than the
// kernel's pty buffers hold (~20 KB measured here), so the process can exit while paused with the
// rest of its output still in the kernel.
const LINES = 2500;

/** Runs `seq 1 LINES` in a pty target paused from the start; every event-loop turn takes `turnMs` (0: idle). */
async function pausedToTheEnd(t: TestContext, turnMs: number): Promise<void> {
  let processes = 0;
  const gauge = { processStarted: () => void processes++, processExited: () => void processes-- };
  const out: Buffer[] = [];
  const events: string[] = [];
  let finish!: (o: ExecOutcome) => void;
  const finished = new Promise<ExecOutcome>((resolve) => (finish = resolve));
  const target = startProcessTarget(
    { command: ['seq', '1', String(LINES)], tty: true, stdin: false, cwd: '/', env: { PATH: '/usr/bin:/bin' } },
    {
      stdout: (d) => {
        out.push(d);
        if (events.at(-1) !== 'stdout') events.push('stdout');
      },
      stderr: () => events.push('stderr'),
      stdinDrained: () => undefined,
      finished: (o) => {
        events.push('finished');
        finish(o);
      },
    },
    { graceMs: 500, gauge, killOnClose: true },
  );
  t.after(() => target.close());
  target.pause(); // the exec socket is behind: the target stays paused to the end

  // Turns of 250 ms until the status comes (bounded: a process that cannot exit fails the test).
  let turns = 0;
  const deadline = Date.now() + 15_000;
  let stop = false;
  const spin = (): void => {
    if (stop || Date.now() > deadline) return;
    turns++;
    busy(turnMs);
    setImmediate(spin);
  };
  if (turnMs > 0) setImmediate(spin);
  const outcome = await Promise.race([finished, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
  stop = true;

  const got = Buffer.concat(out);
  const want = seqOutput(LINES);
  t.diagnostic(`${got.length} of ${want.length} bytes over ${turns} busy turns`);
  assert.deepEqual(outcome, { kind: 'success' }, 'the process exits while paused (its output fits the pty buffers)');
  assert.equal(got.length, want.length, 'every byte the process wrote');
  assert.ok(got.equals(want), 'the same bytes, in order');
  assert.deepEqual(events, ['stdout', 'finished'], 'output before the status');
  await target.close();
  assert.equal(processes, 0);
}

test('a paused pty target whose process exits during 250 ms event-loop turns still delivers every byte, then the status', (t) => pausedToTheEnd(t, 250));

test('a paused pty target whose process exits on an idle event loop delivers every byte, then the status', (t) => pausedToTheEnd(t, 0));
