/**
 * Issue 8 item 6: a slow reader and a real process. The client pauses (op 2) for longer than the
 * sandbox waits for a close handshake (2 s), while a real process writes megabytes; after resume it
 * gets every byte (count and hash) and the exit status, not UpstreamUnavailable. Two sizes: one the
 * socket buffers hold, so the process exits during the pause (its status and the server's close are
 * read while paused), and one they do not, so TCP backpressure holds the process until resume.
 *
 * The commands end right after their output, so a process exits while the sandbox's pty is still
 * paused behind the gateway. On a loaded machine that once lost 7-13 KB of the 4.7 MB case: node-pty
 * destroyed the pty's stream 200 ms after reaping the process, unread; the sandbox now reads the
 * rest first (src/sandbox/pty-tail.ts, test/sandbox/pty-tail.test.ts). The gateway had
 * delivered every byte it was given. The byte count and the hash are read only after the exit
 * frame and the close, which the gateway sends after all of the output.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ADMIN_TOKEN, assertNoResidue, startStack } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** `seq 1 N` as a terminal shows it: each line ends with \r\n (the pty's onlcr). */
function seqOutput(n: number): Buffer {
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) lines.push(`${i}\r\n`);
  return Buffer.from(lines.join(''));
}

const PAUSE_MS = 4500;
/**
 * From output the socket buffers hold (the process exits during the pause) to output they cannot
 * (backpressure holds the process). On this machine sizes near 550,000 lines left ~180 KiB queued
 * in the sandbox when its process ended, which its close timer then dropped (4502, not exit 0).
 */
const SIZES = [150_000, 500_000, 550_000, 600_000, 1_200_000];

test(`slow reader: paused ${PAUSE_MS} ms over a real process's output: every byte and exit 0`, async (t) => {
  const stack = await startStack(t, { workers: 1 });
  for (const lines of SIZES) {
    const want = seqOutput(lines);
    const c = await TermClient.connect(stack.url, { namespace: 'default', pod: 'shell', container: 'main', command: ['sh', '-c', `sleep 0.3; seq 1 ${lines}`] }, { token: ADMIN_TOKEN });
    t.after(() => c.terminate());
    await c.started;
    c.pause();
    await sleep(PAUSE_MS);
    const serverDone = stack.sandbox.stats().execActive === 0;
    c.resume();
    const end = await Promise.race([c.exited.then((e) => ({ exit: e })), c.failed.then((f) => ({ fail: f }))]);
    await c.closed;
    t.diagnostic(`seq 1 ${lines}: ${c.outBytes} of ${want.length} bytes; the server ${serverDone ? 'closed its side during' : 'was still waiting after'} the pause; ${JSON.stringify(end)}`);
    assert.deepEqual(end, { exit: { exitCode: 0, message: '' } }, `seq 1 ${lines}`);
    assert.equal(c.outBytes, want.length, `seq 1 ${lines}`);
    assert.equal(sha(c.output), sha(want), `seq 1 ${lines}`);
    await assertNoResidue(stack);
  }
});
