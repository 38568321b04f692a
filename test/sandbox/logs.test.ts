/** pods/log: the main process's output as the log; follow, tailLines, previous, timestamps, limitBytes; real kubectl. */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import { after, test } from 'node:test';
import { startSandbox } from '../../src/sandbox/index.js';
import { assertStopped, channelText, httpGet, openExec } from './helpers.js';
import { kubectlRunner } from './kubectl-runner.js';

const sb = await startSandbox({ killGraceMs: 500 });
after(async () => {
  await sb.close();
  assertStopped(sb);
});

async function followsGone(): Promise<void> {
  const deadline = Date.now() + 5000;
  while (sb.toolStats().logStreamsActive !== 0) {
    assert.ok(Date.now() < deadline, 'log streams did not end');
    await delay(20);
  }
}

test('kubectl logs -f --tail=2 gets the last two lines, then new ones as they are written', async (t) => {
  await delay(3500); // the ticker has written a few lines
  const k = await kubectlRunner(t, sb);
  const f = k.pty(['logs', '-f', '--tail=2', 'logs']);
  await f.until(/^line \d+\r\nline \d+\r\n/);
  const first = Number(/^line (\d+)/.exec(f.output())?.[1]);
  assert.ok(first >= 2, `tail started at line ${first}`);
  await f.until(new RegExp(`line ${first + 3}\\r\\n`), 10_000);
  const lines = f.output().trim().split('\r\n');
  assert.deepEqual(lines.slice(0, 4), [0, 1, 2, 3].map((i) => `line ${first + i}`), 'consecutive lines, none lost or repeated');
  assert.equal(sb.toolStats().logStreamsActive, 1);
  f.kill();
  await f.exited;
  await followsGone();
});

test('kubectl logs --previous for a container that never restarted: the kubelet message as a 400', async (t) => {
  const k = await kubectlRunner(t, sb);
  const r = await k.run(['logs', 'logs', '--previous']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error from server (BadRequest): previous terminated container "main" in pod "logs" not found\n');
  const raw = await httpGet(sb, '/api/v1/namespaces/default/pods/logs/log?previous=true', sb.tokens.admin);
  assert.deepEqual(JSON.parse(raw.body), {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
    message: 'previous terminated container "main" in pod "logs" not found', reason: 'BadRequest', code: 400,
  });
});

test('timestamps are RFC3339 with nine fractional digits; tailLines, limitBytes, container errors, RBAC', async () => {
  const get = (q: string, token = sb.tokens.admin): Promise<{ status: number; body: string }> => httpGet(sb, `/api/v1/namespaces/default/pods/logs/log?${q}`, token);
  const ts = await get('timestamps=true&tailLines=2');
  assert.match(ts.body, /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line \d+\n){2}$/);
  assert.equal((await get('limitBytes=5')).body, 'line ');
  assert.equal((await get('tailLines=0')).body, '');
  assert.equal((await get('tailLines=-1')).status, 400);
  assert.equal(JSON.parse((await get('container=nope')).body).message, 'container nope is not valid for pod logs');
  const denied = await get('', sb.tokens.restricted);
  assert.equal(JSON.parse(denied.body).message, 'pods "logs" is forbidden: User "restricted" cannot get resource "pods/log" in API group "" in the namespace "default"');
});

test("the main process's output is the container's log; after it exits that log is --previous", async (t) => {
  const x = openExec(t, sb, { pod: 'shell', subresource: 'attach', stdin: true, stdout: true, tty: true });
  await x.opened;
  x.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('echo logged-$((6*7))\r')]));
  await x.waitFor((m) => /logged-42/.test(channelText(m, 1)));
  const k = await kubectlRunner(t, sb);
  // The command's output line (the input may be echoed before the shell's prompt: `# logged-42`).
  assert.match((await k.run(['logs', 'shell'])).stdout, /(?:\r\n|# )logged-42\r\n/);
  x.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('exit\r')]));
  await x.closed;
  while (sb.toolStats().mainProcessesActive !== 0) await delay(20);
  assert.match((await k.run(['logs', 'shell', '--previous'])).stdout, /logged-42/);
  assert.doesNotMatch((await k.run(['logs', 'shell'])).stdout, /logged-42/);
});

test('a follower that does not read holds a cursor, not the output: the log stays bounded and the stream resumes', async (t) => {
  const x = openExec(t, sb, { pod: 'shell', subresource: 'attach', stdin: true, stdout: true, tty: true });
  await x.opened;
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = request(`${sb.url}/api/v1/namespaces/default/pods/shell/log?follow=true&tailLines=0`, { ca: sb.caPem, headers: { Authorization: `Bearer ${sb.tokens.admin}` }, agent: false }, resolve);
    req.on('error', reject);
    req.end();
    t.after(() => req.destroy());
  });
  res.pause();
  // 40 MB of output while nobody reads: the in-memory log keeps 1 MiB; loopback TCP buffers hold
  // up to ~10 MB more (tcp_rmem/tcp_wmem maxima); everything else must be skipped, not queued.
  x.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from("head -c 40000000 /dev/zero | tr '\\0' a; echo; echo done-$((1+1))\r")]));
  const produced = Date.now() + 30_000;
  const tail = (): string => x.messages.slice(-4).map((m) => m.data.toString('latin1')).join('');
  while (!/done-2/.test(tail()) && Date.now() < produced) await delay(100);
  let got = 0;
  let text = '';
  res.on('data', (d: Buffer) => {
    got += d.length;
    text = (text + d.toString('latin1')).slice(-200);
  });
  res.resume();
  const deadline = Date.now() + 15_000;
  while (!/done-2/.test(text)) {
    assert.ok(Date.now() < deadline, `follow did not resume (${got} bytes)`);
    await delay(50);
  }
  assert.ok(got < 20_000_000, `a stalled follower received ${got} of 40 MB: the log was not bounded`);
  x.ws.close();
  await x.closed;
  res.destroy();
  await followsGone();
});
