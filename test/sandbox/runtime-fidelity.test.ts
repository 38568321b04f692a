/**
 * Runtime fidelity: closing an exec stream hangs the terminal up and nothing more (survivors stay,
 * counted in sandbox_processes_active, until the sandbox stops); --kill-on-close ends them all.
 * And a TTY exec starts at the client's size (issue 8 item 18): `stty size` prints `30 100`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { assertStopped, channelText, httpGet, openExec } from './helpers.js';
import { kubectlRunner } from './kubectl-runner.js';

const MARK = `podterm-fidelity-${randomUUID()}`;
const env = { PATH: '/usr/local/bin:/usr/bin:/bin', PODTERM_TEST_MARK: MARK };

/** Live `sleep N` processes carrying this run's marker, by N. */
function sleeps(): string[] {
  const out: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, 'latin1').includes(MARK)) continue;
      const argv = readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0');
      if (argv[0] === 'sleep') out.push(argv[1] as string);
    } catch {
      // gone
    }
  }
  return out.sort();
}

async function until(pred: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    assert.ok(Date.now() < deadline, what);
    await delay(25);
  }
}

/** An interactive shell on a terminal starts the three kinds of leftovers, then the client closes. */
async function leaveThreeBehind(t: { after(fn: () => unknown): void }, sb: Sandbox): Promise<void> {
  const x = openExec(t, sb, { pod: 'shell', command: ['sh', '-i'], stdin: true, stdout: true, tty: true });
  await x.opened;
  const type = (s: string): void => void x.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(s)]));
  type('sleep 1000 &\r');
  type('nohup sleep 1001 >/dev/null 2>&1 &\r');
  type('setsid sleep 1002\r');
  type('echo started-$((1+1))\r');
  await x.waitFor((m) => /started-2/.test(channelText(m, 1)));
  await until(() => sleeps().length === 3, `three sleeps started: ${sleeps()}`);
  x.ws.close();
  await x.closed;
}

test('default: the hang-up leaves sleep &, nohup and setsid running, counted; sandbox stop kills them', async (t) => {
  const sb = await startSandbox({ killGraceMs: 500, env });
  t.after(() => sb.close());
  await leaveThreeBehind(t, sb);
  await until(() => sb.stats().execActive === 0, 'exec stream closed');
  await delay(1000); // anything the hang-up kills is dead by now
  assert.deepEqual(sleeps(), ['1000', '1001', '1002']);
  await until(() => sb.stats().processesActive === 3, `survivors counted: ${JSON.stringify(sb.toolStats())}`);
  assert.match((await httpGet(sb, '/metrics')).body, /^sandbox_processes_active 3$/m);
  await sb.close();
  assert.deepEqual(sleeps(), []);
  assertStopped(sb);
});

test('--kill-on-close: nothing the session started is alive within 5 s of the close', async (t) => {
  const sb = await startSandbox({ killGraceMs: 500, env, killOnClose: true });
  t.after(() => sb.close());
  await leaveThreeBehind(t, sb);
  await until(() => sleeps().length === 0, `still alive: ${sleeps()}`, 5000);
  await until(() => sb.stats().processesActive === 0, 'gauge back to 0');
  await sb.close();
  assertStopped(sb);
});

test('pipes (no TTY): closing the stream closes the pipes only; the process lives on, counted', async (t) => {
  const sb = await startSandbox({ killGraceMs: 500, env });
  t.after(() => sb.close());
  const x = openExec(t, sb, { pod: 'shell', command: ['sh', '-c', 'echo up; exec sleep 1003'], stdout: true });
  await x.waitFor((m) => /up/.test(channelText(m, 1)));
  x.ws.close();
  await x.closed;
  await until(() => sb.stats().execActive === 0, 'exec stream closed');
  await delay(300);
  assert.deepEqual(sleeps(), ['1003']);
  assert.equal(sb.stats().processesActive, 1);
  await sb.close();
  assert.deepEqual(sleeps(), []);
  assertStopped(sb);
});

test('kubectl exec -it shell -- stty size prints the client terminal size', async (t) => {
  const sb = await startSandbox({ killGraceMs: 500, env });
  t.after(() => sb.close());
  const k = await kubectlRunner(t, sb);
  const r = k.pty(['exec', '-it', 'shell', '--', 'stty', 'size'], { cols: 100, rows: 30 });
  assert.equal(await r.exited, 0);
  assert.equal(r.output(), '30 100\r\n');
  await sb.close();
  assertStopped(sb);
});

test('a TTY exec starts at the first size the client sends (a client 200 ms late; without the wait: 80x24)', async (t) => {
  for (const [wait, expected] of [
    [undefined, '30 100'],
    // The bug this fixes: the process started at 80x24 before the client's size arrived.
    [0, '24 80'],
  ] as const) {
    const sb = await startSandbox({ killGraceMs: 500, env, ...(wait === undefined ? {} : { firstSizeWaitMs: wait }) });
    t.after(() => sb.close());
    const x = openExec(t, sb, { pod: 'shell', command: ['stty', 'size'], stdin: true, stdout: true, tty: true });
    await x.opened;
    await delay(200);
    x.ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":100,"Height":30}\n')]));
    await x.closed;
    assert.equal(channelText(x.messages, 1), `${expected}\r\n`, `firstSizeWaitMs=${wait}`);
    await sb.close();
    assertStopped(sb);
  }
});
