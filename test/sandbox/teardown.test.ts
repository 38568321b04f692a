/**
 * The sandbox never leaves a process behind: 200 clients that drop TCP mid-output, processes that
 * ignore SIGHUP, background children, and server close with streams open. Besides the gauges, /proc
 * is searched for any process carrying this run's marker in its environment.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { after, afterEach, test } from 'node:test';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { assertDrained, channels, openExec, type ExecClient } from './helpers.js';

const MARK = `podterm-test-${randomUUID()}`;
const env = { PATH: '/usr/local/bin:/usr/bin:/bin', PODTERM_TEST_MARK: MARK };
// These tests hold the sandbox to kill-on-close; runtime-fidelity.test.ts covers the default (hang-up).
const sb = await startSandbox({ killGraceMs: 500, env, killOnClose: true });
after(() => sb.close());
afterEach(async () => {
  await assertDrained(sb, 10_000);
  assert.deepEqual(markedProcesses(), []);
});

/** PIDs of live processes whose environment carries MARK (zombies have an empty environ). */
function markedProcesses(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(MARK)) out.push(Number(name));
    } catch {
      // gone or not ours
    }
  }
  return out;
}

const hasOutput = (x: ExecClient): Promise<void> => x.waitFor((m) => channels(m).some((f) => f.channel === 1 && f.payload.length > 0), 15_000);
const drop = (x: ExecClient): void => void (x.ws as unknown as { _socket: Socket })._socket.destroy();

test('200 clients drop their TCP connection mid-output (flood, yes in pipes and in a pty)', async (t) => {
  const kinds = [
    { ns: 'load', pod: 'flood', command: ['flood'], tty: false },
    { ns: 'load', pod: 'flood', command: ['flood'], tty: true },
    { ns: 'default', pod: 'shell', command: ['sh', '-c', 'yes'], tty: false },
    { ns: 'default', pod: 'shell', command: ['sh', '-c', 'yes podterm'], tty: true },
  ];
  const started = Date.now();
  // Batches of 50 keep 2 cores responsive; every client still drops mid-stream.
  for (let batch = 0; batch < 4; batch++) {
    const clients = Array.from({ length: 50 }, (_, i) => {
      const k = kinds[(batch * 50 + i) % kinds.length] as (typeof kinds)[number];
      return openExec(t, sb, { ...k, stdout: true, stdin: true });
    });
    const t0 = Date.now();
    await Promise.all(clients.map(hasOutput));
    const t1 = Date.now();
    assert.ok(sb.stats().execActive >= 50);
    for (const c of clients) drop(c);
    await assertDrained(sb, 15_000);
    t.diagnostic(`batch ${batch}: output after ${t1 - t0} ms, drained after ${Date.now() - t1} ms`);
  }
  t.diagnostic(`200 drops drained in ${Date.now() - started} ms`);
});

test('a process that ignores SIGHUP, and its background child, are killed after the grace period', async (t) => {
  const x = openExec(t, sb, {
    pod: 'shell',
    command: ['sh', '-c', 'trap "" HUP; sh -c \'trap "" HUP; sleep 60\' & echo started; sleep 60'],
    stdout: true,
    tty: true,
  });
  await hasOutput(x);
  while (markedProcesses().length < 3) await delay(20);
  const t0 = Date.now();
  x.ws.close();
  await assertDrained(sb, 5000);
  assert.deepEqual(markedProcesses(), []);
  assert.ok(Date.now() - t0 >= 400, 'SIGKILL came only after the grace period');
});

test('a background child keeping the pipes open does not keep the exec alive after the leader exits', async (t) => {
  const x = openExec(t, sb, { pod: 'shell', command: ['sh', '-c', 'sleep 60 & echo bye'], stdout: true });
  assert.equal((await x.closed).code, 1000);
  assert.match(channels(x.messages).map((f) => f.payload.toString()).join(''), /bye/);
});

test('sandbox.close() with open streams ends them, kills their processes and is idempotent', async (t) => {
  const own: Sandbox = await startSandbox({ killGraceMs: 500, env, killOnClose: true });
  t.after(() => own.close());
  const xs = [
    openExec(t, own, { pod: 'shell', command: ['sh', '-c', 'echo up; sleep 60'], stdout: true }),
    openExec(t, own, { pod: 'shell', command: ['sh', '-c', 'echo up; sleep 60'], stdout: true, tty: true }),
    openExec(t, own, { ns: 'load', pod: 'flood', command: ['flood'], stdout: true }),
  ];
  await Promise.all(xs.map(hasOutput));
  assert.deepEqual(own.stats(), { execActive: 3, processesActive: 2 });
  await Promise.all([own.close(), own.close()]);
  assert.deepEqual(own.stats(), { execActive: 0, processesActive: 0 });
  for (const x of xs) assert.notEqual((await x.closed).code, 1000);
});

test('a client that drops while its input is paused is still noticed (pings probe the dead socket)', async (t) => {
  const x = openExec(t, sb, { pod: 'shell', command: ['sh', '-c', 'echo up; sleep 60'], stdin: true, stdout: true });
  await hasOutput(x);
  const frame = Buffer.alloc(64 * 1024 + 1, 0x61);
  frame[0] = 0;
  for (let i = 0; i < 64; i++) x.ws.send(frame);
  await delay(300); // the sandbox has stopped reading this socket by now
  drop(x);
  await assertDrained(sb, 5000);
});
