/** pods/ephemeralcontainers: kubectl debug end to end, the patch flavours, the watch, exec into the debug container. */
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

function patch(path: string, type: string, body: unknown, token = sb.tokens.admin): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(`${sb.url}${path}`, { method: 'PATCH', ca: sb.caPem, agent: false, headers: { Authorization: `Bearer ${token}`, 'Content-Type': type } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function quiet(): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const s = sb.toolStats();
    if (s.attachActive === 0 && s.watchesActive === 0 && sb.stats().execActive === 0) return;
    assert.ok(Date.now() < deadline, JSON.stringify(s));
    await delay(20);
  }
}

test('kubectl debug -it shell --image=busybox --target=main: waits, attaches, runs a command, exits', async (t) => {
  const k = await kubectlRunner(t, sb);
  const d = k.pty(['debug', '-it', 'shell', '--image=busybox', '--target=main']);
  await d.until(/Defaulting debug container name to (debugger-[a-z0-9]+)\./);
  const name = /Defaulting debug container name to (debugger-[a-z0-9]+)\./.exec(d.output())?.[1] as string;
  await d.until(/If you don't see a command prompt, try pressing enter\./);
  await d.until(/# $/, 15_000, () => d.write('\r'));
  d.write('echo ok\r');
  await d.until(/\r\nok\r\n/);
  d.write('exit\r');
  assert.equal(await d.exited, 0);
  assert.match(d.output(), /Session ended, the ephemeral container will not be restarted/);
  await quiet();
  const pod = JSON.parse((await k.run(['get', 'pod', 'shell', '-o', 'json'])).stdout);
  assert.deepEqual(pod.spec.ephemeralContainers.map((c: { name: string; targetContainerName: string }) => [c.name, c.targetContainerName]), [[name, 'main']]);
  const st = pod.status.ephemeralContainerStatuses[0];
  assert.deepEqual([st.name, st.state.terminated?.exitCode], [name, 0]);
  // A terminated ephemeral container cannot be attached to again.
  const again = await k.run(['attach', 'shell', '-c', name]);
  assert.equal(again.code, 1);
  assert.equal(sb.toolStats().mainProcessesActive, 0);
});

test('PATCH flavours, the watch sees Waiting then Running, exec and attach reach the debug container', async (t) => {
  // A watch from the current resourceVersion, as client-go's reflector opens it.
  const list = JSON.parse((await httpGet(sb, '/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dmulti', sb.tokens.admin)).body);
  assert.deepEqual(list.items.map((p: { metadata: { name: string } }) => p.metadata.name), ['multi']);
  const events: { type: string; object: { status: { ephemeralContainerStatuses?: { name: string; state: Record<string, unknown> }[] } } }[] = [];
  let watch: import('node:http').ClientRequest | undefined;
  await new Promise<void>((resolve, reject) => {
    const req = (watch = request(`${sb.url}/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dmulti&watch=true&resourceVersion=${list.metadata.resourceVersion}`, { ca: sb.caPem, agent: false, headers: { Authorization: `Bearer ${sb.tokens.admin}` } }, (res) => {
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
          events.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
        }
      });
      resolve();
    }));
    req.on('error', reject);
    req.end();
    t.after(() => req.destroy());
  });
  const path = '/api/v1/namespaces/default/pods/multi/ephemeralcontainers';
  const added = await patch(path, 'application/strategic-merge-patch+json', { spec: { ephemeralContainers: [{ name: 'dbg', image: 'busybox', stdin: true, tty: true, targetContainerName: 'app' }] } });
  assert.equal(added.status, 200, added.body);
  assert.equal(JSON.parse(added.body).status.ephemeralContainerStatuses[0].state.waiting.reason, 'ContainerCreating');
  const merge = await patch(path, 'application/json-patch+json', [{ op: 'add', path: '/spec/ephemeralContainers/-', value: { name: 'dbg2', image: 'busybox', command: ['sh', '-c', 'echo from-dbg2; sleep 30'] } }]);
  assert.equal(merge.status, 200, merge.body);
  const deadline = Date.now() + 5000;
  const running = (n: string): boolean => events.some((e) => e.type === 'MODIFIED' && e.object.status.ephemeralContainerStatuses?.some((s) => s.name === n && 'running' in s.state));
  while (!running('dbg') || !running('dbg2')) {
    assert.ok(Date.now() < deadline, JSON.stringify(events.map((e) => e.object.status.ephemeralContainerStatuses)));
    await delay(20);
  }
  assert.ok(events.some((e) => e.object.status.ephemeralContainerStatuses?.some((s) => s.name === 'dbg' && 'waiting' in s.state)), 'Waiting came first');

  const dup = await patch(path, 'application/strategic-merge-patch+json', { spec: { ephemeralContainers: [{ name: 'app', image: 'busybox' }] } });
  assert.deepEqual([dup.status, JSON.parse(dup.body).message], [422, 'Pod "multi" is invalid: spec.ephemeralContainers[2].name: Duplicate value: "app"']);
  const changed = await patch(path, 'application/merge-patch+json', { spec: { ephemeralContainers: [] } });
  assert.equal(changed.status, 422);
  assert.equal((await patch(path, 'application/json', {})).status, 415);
  const denied = await patch(path, 'application/strategic-merge-patch+json', {}, sb.tokens.restricted);
  assert.equal(JSON.parse(denied.body).message, 'pods "multi" is forbidden: User "restricted" cannot patch resource "pods/ephemeralcontainers" in API group "" in the namespace "default"');
  const got = JSON.parse((await httpGet(sb, path, sb.tokens.admin)).body);
  assert.deepEqual(got.spec.ephemeralContainers.map((c: { name: string }) => c.name), ['dbg', 'dbg2']);

  const k = await kubectlRunner(t, sb);
  const ex = await k.run(['exec', 'multi', '-c', 'dbg', '--', 'sh', '-c', 'echo "in $PODTERM_CONTAINER"']);
  assert.deepEqual([ex.code, ex.stdout], [0, 'in dbg\n']);
  assert.match((await k.run(['logs', 'multi', '-c', 'dbg2'])).stdout, /^from-dbg2\n/);
  const x = openExec(t, sb, { pod: 'multi', container: 'dbg', subresource: 'attach', stdin: true, stdout: true, tty: true });
  await x.opened;
  x.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('echo attached-$((3*3))\r')]));
  await x.waitFor((m) => /attached-9/.test(channelText(m, 1)));
  x.ws.close();
  await x.closed;
  watch?.destroy();
  await quiet();
  assert.equal(sb.toolStats().mainProcessesActive, 2, 'both debug containers still run (killed when the sandbox stops)');
});
