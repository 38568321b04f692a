/** pods/attach: the container's main process, shared by attachers, surviving detach; real kubectl attach -it. */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, test } from 'node:test';
import { startSandbox } from '../../src/sandbox/index.js';
import { assertStopped, channelText, channels, httpGet, openExec, refusedUpgrade, wsUpgradeHeaders } from './helpers.js';
import { kubectlRunner } from './kubectl-runner.js';

const sb = await startSandbox({ killGraceMs: 500 });
after(async () => {
  await sb.close();
  assertStopped(sb);
});

const attachQuery = { pod: 'shell', subresource: 'attach' as const, stdin: true, stdout: true, tty: true };

async function attachersGone(): Promise<void> {
  const deadline = Date.now() + 5000;
  while (sb.toolStats().attachActive !== 0) {
    assert.ok(Date.now() < deadline, 'attach streams did not end');
    await delay(20);
  }
}

test('kubectl attach -it: prompt on enter, commands, the client size, resize; detaching leaves the shell running', async (t) => {
  const k = await kubectlRunner(t, sb);
  const a = k.pty(['attach', '-it', 'shell']);
  await a.until(/If you don't see a command prompt, try pressing enter/);
  await a.until(/# $/, 15_000, () => a.write('\r'));
  a.write('echo attached-$((40+2))\r');
  await a.until(/\r\nattached-42\r\n/);
  a.write('stty size\r');
  await a.until(/\r\n30 100\r\n/);
  a.resize(120, 40);
  await a.until(/\r\n40 120\r\n/, 15_000, () => a.write('stty size\r'));
  assert.equal(sb.toolStats().attachActive, 1);
  a.kill(); // the client goes away without a word
  await a.exited;
  await attachersGone();
  assert.equal(sb.toolStats().mainProcessesActive, 1, 'detaching does not end the main process');
  assert.deepEqual(sb.stats(), { execActive: 0, processesActive: 0 });
});

test('two attachers share one process: input from one, output to both; one leaving does not disturb the other', async (t) => {
  const x = openExec(t, sb, attachQuery);
  const y = openExec(t, sb, attachQuery);
  await Promise.all([x.opened, y.opened]);
  x.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('echo shared-$((6*7))\r')]));
  await x.waitFor((m) => /shared-42/.test(channelText(m, 1)));
  await y.waitFor((m) => /shared-42/.test(channelText(m, 1)));
  x.ws.close();
  await x.closed;
  y.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('echo still-$((1+1))\r')]));
  await y.waitFor((m) => /still-2/.test(channelText(m, 1)));
  // A v5 stdin close from one attacher is not the container's EOF (stdinOnce is false).
  y.ws.send(Buffer.from([255, 0]));
  await delay(200);
  assert.equal(sb.toolStats().mainProcessesActive, 1);
  y.ws.close();
  await y.closed;
  await attachersGone();
});

test('the main process exiting ends every attach stream with Success; the next attach starts a new one', async (t) => {
  const x = openExec(t, sb, attachQuery);
  await x.opened;
  x.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('exit\r')]));
  assert.equal((await x.closed).code, 1000);
  assert.equal(channelText(x.messages, 3), '{"metadata":{},"status":"Success"}');
  await attachersGone();
  assert.equal(sb.toolStats().mainProcessesActive, 0);
  const y = openExec(t, sb, attachQuery);
  await y.opened;
  y.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('echo again-$((2+2))\r')]));
  await y.waitFor((m) => /again-4/.test(channelText(m, 1)));
  y.ws.close();
  await y.closed;
  await attachersGone();
});

test('a container without tty/stdin: kubectl warns as it does on a real cluster; the stream is silent until closed', async (t) => {
  const k = await kubectlRunner(t, sb);
  const a = k.pty(['attach', '-it', 'multi', '-c', 'app']);
  await a.until(/error: Unable to use a TTY - container app did not allocate one/);
  await a.until(/If you don't see a command prompt/);
  await delay(300);
  assert.equal(sb.toolStats().attachActive, 1);
  a.kill();
  await a.exited;
  await attachersGone();
  // Raw: stdout only, no main process: only the handshake frame arrives.
  const x = openExec(t, sb, { pod: 'multi', container: 'app', subresource: 'attach', stdout: true });
  await x.opened;
  await delay(200);
  assert.deepEqual(channels(x.messages).map((f) => [f.channel, f.payload.length]), [[1, 0]]);
  x.ws.close();
  await x.closed;
  await attachersGone();
});

test('attach errors: stopped container, RBAC names pods/attach, plain request needs an upgrade', async (t) => {
  const x = openExec(t, sb, { pod: 'stopped', subresource: 'attach', stdout: true });
  await x.closed;
  assert.match(channelText(x.messages, 3), /container not found \(\\"main\\"\)/);
  const denied = await refusedUpgrade(sb, '/api/v1/namespaces/default/pods/shell/attach?stdout=true', wsUpgradeHeaders(sb.tokens.restricted, 'v5.channel.k8s.io'));
  assert.equal(denied.status, 403);
  assert.equal(JSON.parse(denied.body).message, 'pods "shell" is forbidden: User "restricted" cannot get resource "pods/attach" in API group "" in the namespace "default"');
  const plain = await httpGet(sb, '/api/v1/namespaces/default/pods/shell/attach?stdout=true', sb.tokens.admin);
  assert.deepEqual([plain.status, JSON.parse(plain.body).message], [400, 'Upgrade request required']);
  const noStreams = await httpGet(sb, '/api/v1/namespaces/default/pods/shell/attach', sb.tokens.admin);
  assert.equal(JSON.parse(noStreams.body).message, 'you must specify at least 1 of stdin, stdout, stderr');
  await attachersGone();
});
