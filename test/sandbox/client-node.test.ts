/** @kubernetes/client-node's Exec against a real sandbox: tty, resize through the stdout stream, statuses. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { after, afterEach, test } from 'node:test';
import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import { startSandbox } from '../../src/sandbox/index.js';
import { assertDrained } from './helpers.js';

// Held to kill-on-close: these tests end execs by closing the socket and expect nothing left.
const sb = await startSandbox({ killGraceMs: 500, killOnClose: true });
after(() => sb.close());
afterEach(() => assertDrained(sb));

function client(context = 'admin'): Exec {
  const kc = new KubeConfig();
  kc.loadFromString(sb.kubeconfigYaml());
  kc.setCurrentContext(context);
  return new Exec(kc);
}

/** A stdout with a terminal size, as client-node's resize queue expects. */
class TermOut extends PassThrough {
  columns = 90;
  rows = 25;
  text = '';
  constructor() {
    super();
    this.on('data', (d: Buffer) => (this.text += d.toString()));
  }
}

test('tty exec: initial size from stdout, resize event, Success status', async (t) => {
  const out = new TermOut();
  const stdin = new PassThrough();
  let status: V1Status | undefined;
  const gotStatus = new Promise<void>((resolve) => {
    const ws = client().exec('default', 'shell', 'main', ['sh', '-c', 'echo ready; while read a; do stty size; done'], out, null, stdin, true, (s) => {
      status = s;
      resolve();
    });
    // client-node never closes the socket on every path; the test owns it.
    void ws.then((socket) => t.after(() => socket.terminate()));
  });
  const until = async (re: RegExp, poke?: () => void): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!re.test(out.text)) {
      assert.ok(Date.now() < deadline, `waiting for ${re} in ${JSON.stringify(out.text)}`);
      poke?.();
      await delay(poke ? 100 : 10);
    }
  };
  await until(/ready/);
  stdin.write('\r');
  await until(/25 90/);
  out.columns = 111;
  out.rows = 33;
  out.emit('resize');
  await until(/33 111/, () => stdin.write('\r'));
  stdin.write('\x04');
  await gotStatus;
  assert.deepEqual(status, { metadata: {}, status: 'Success' });
});

test('non-tty exec: stdout, stderr and the NonZeroExitCode status', async (t) => {
  const out = new PassThrough();
  const err = new PassThrough();
  let text = '';
  let errText = '';
  out.on('data', (d: Buffer) => (text += d));
  err.on('data', (d: Buffer) => (errText += d));
  const status = await new Promise<V1Status>((resolve) => {
    void client()
      .exec('default', 'shell', 'main', ['sh', '-c', 'echo o; echo e >&2; exit 3'], out, err, null, false, resolve)
      .then((socket) => t.after(() => socket.terminate()));
  });
  assert.equal(text, 'o\n');
  assert.equal(errText, 'e\n');
  assert.equal(status.status, 'Failure');
  assert.equal(status.reason, 'NonZeroExitCode');
  assert.deepEqual(status.details?.causes, [{ reason: 'ExitCode', message: '3' }]);
});

test('flood target with backpressure delivers exactly N bytes; restricted user in load', async (t) => {
  const out = new PassThrough();
  let n = 0;
  out.on('data', (d: Buffer) => (n += d.length));
  const status = await new Promise<V1Status>((resolve) => {
    void client('restricted')
      .exec('load', 'flood', 'main', ['flood', '5000000'], out, null, null, false, resolve)
      .then((socket) => t.after(() => socket.terminate()));
  });
  assert.equal(status.status, 'Success');
  assert.equal(n, 5_000_000);
});

test('closing the socket mid-command kills the process', async () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d));
  const socket = await client().exec('default', 'shell', 'main', ['sh', '-c', 'echo up; sleep 60'], out, null, null, false);
  while (!text.includes('up')) await delay(10);
  assert.equal(sb.stats().processesActive, 1);
  socket.close();
  await assertDrained(sb);
});
