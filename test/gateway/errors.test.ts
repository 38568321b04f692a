/** Every failure the sandbox can provoke, before and after the upgrade, with its code. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '../../src/protocol/index.js';
import { ADMIN_TOKEN, assertNoResidue, RESTRICTED_TOKEN, startGatewayFor, startSandboxFor, startStack } from '../helpers/gateway-stack.js';
import { TermClient, UpgradeRefused } from '../helpers/term-client.js';

async function expectFailure(c: TermClient, code: string, close: number): Promise<void> {
  const [err, closed] = await Promise.all([c.failed, c.closed]);
  assert.equal(err.code, code);
  assert.equal(closed.code, close);
}

async function expectRefused(p: Promise<TermClient>, status: number, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UpgradeRefused, String(e));
    assert.equal(e.status, status);
    assert.equal((JSON.parse(e.body) as { code: string }).code, code);
    return true;
  });
}

test('errors after the upgrade map to their close codes', async (t) => {
  const stack = await startStack(t, { workers: 1, maxMessageBytes: 4096 });
  const open = async (params: Record<string, string | number | string[]>, token = ADMIN_TOKEN): Promise<TermClient> => {
    const c = await TermClient.connect(stack.url, params, { token });
    t.after(() => c.terminate());
    return c;
  };
  await t.test('missing pod: NotFound 4404', async () => {
    await expectFailure(await open({ namespace: 'default', pod: 'nope', container: 'main' }), 'NotFound', 4404);
  });
  await t.test('missing container: NotFound 4404', async () => {
    await expectFailure(await open({ namespace: 'default', pod: 'shell', container: 'nope' }), 'NotFound', 4404);
  });
  await t.test('missing namespace: NotFound 4404', async () => {
    await expectFailure(await open({ namespace: 'nowhere', pod: 'shell' }), 'NotFound', 4404);
  });
  await t.test('stopped container: ContainerNotRunning 4409', async () => {
    await expectFailure(await open({ namespace: 'default', pod: 'stopped', container: 'main' }), 'ContainerNotRunning', 4409);
  });
  await t.test('succeeded pod: ContainerNotRunning 4409', async () => {
    await expectFailure(await open({ namespace: 'default', pod: 'done' }), 'ContainerNotRunning', 4409);
  });
  await t.test('restricted token outside its namespace: Forbidden 4403', async () => {
    await expectFailure(await open({ namespace: 'default', pod: 'shell', container: 'main' }, RESTRICTED_TOKEN), 'Forbidden', 4403);
  });
  await t.test('restricted token inside its namespace works', async () => {
    const c = await open({ namespace: 'load', pod: 'echo', container: 'main' }, RESTRICTED_TOKEN);
    await c.started;
    c.stdin('ping-restricted\n');
    await c.waitFor(/ping-restricted/);
    c.ws.close(1000);
    await c.closed;
  });
  await t.test('default container is picked when none is given', async () => {
    const c = await open({ namespace: 'default', pod: 'multi', command: ['sh', '-c', 'sleep 0.3; echo in-$PODTERM_CONTAINER'] });
    assert.equal((await c.started).container, 'app');
    assert.equal((await c.exited).exitCode, 0);
    assert.match(c.text, /in-app/);
  });
  await t.test('undecodable frame: BadFrame 4400', async () => {
    const c = await open({ namespace: 'load', pod: 'echo', container: 'main' });
    await c.started;
    c.ws.send(Buffer.from([0xc1, 0xff, 0x00]));
    await expectFailure(c, 'BadFrame', 4400);
  });
  await t.test('out-of-range resize: BadFrame 4400', async () => {
    const c = await open({ namespace: 'load', pod: 'echo', container: 'main' });
    c.ws.send(encode([1, 0, 5000] as never));
    await expectFailure(c, 'BadFrame', 4400);
  });
  await t.test('oversized message: close 1009', async () => {
    const c = await open({ namespace: 'load', pod: 'echo', container: 'main' });
    await c.started;
    c.stdin(Buffer.alloc(8192, 0x61));
    assert.equal((await c.closed).code, 1009);
  });
  await assertNoResidue(stack);
});

test('refusals before the upgrade: HTTP status + JSON, nothing reaches Kubernetes', async (t) => {
  const stack = await startStack(t, { workers: 0 });
  const params = { namespace: 'default', pod: 'shell', container: 'main' };
  await expectRefused(TermClient.connect(stack.url, params, {}), 401, 'Unauthorized');
  await expectRefused(TermClient.connect(stack.url, params, { token: 'wrong-token' }), 401, 'Unauthorized');
  await expectRefused(TermClient.connect(stack.url, params, { token: ADMIN_TOKEN, origin: 'http://evil.example' }), 403, 'Forbidden');
  await expectRefused(TermClient.connect(stack.url, { ...params, namespace: 'Bad_NS' }, { token: ADMIN_TOKEN }), 400, 'BadRequest');
  await expectRefused(TermClient.connect(stack.url, { ...params, container: '-x' }, { token: ADMIN_TOKEN }), 400, 'BadRequest');
  await expectRefused(TermClient.connect(stack.url, { ...params, cols: 0 }, { token: ADMIN_TOKEN }), 400, 'BadRequest');
  await expectRefused(TermClient.connect(stack.url, { ...params, rows: 1001 }, { token: ADMIN_TOKEN }), 400, 'BadRequest');
  await expectRefused(TermClient.connect(stack.url, params, { token: ADMIN_TOKEN, protocol: 'other.v1' }), 400, 'BadRequest');
  assert.deepEqual(await stack.gateway.stats(), { sessionsActive: 0, actorsActive: 0, execSocketsOpen: 0, replayBuffers: 0, closeDeadlineMisses: 0, workers: 0 });
  // Same-origin browsers are allowed.
  const c = await TermClient.connect(stack.url, { ...params, command: ['sh', '-c', 'sleep 0.3'] }, { token: ADMIN_TOKEN, origin: stack.url });
  t.after(() => c.terminate());
  assert.equal((await c.exited).exitCode, 0);
  await assertNoResidue(stack);
});

test('limits and timeouts: TooManySessions 4429, IdleTimeout 4408, SessionExpired 4410', async (t) => {
  const stack = await startStack(t, { workers: 1, maxSessionsPerToken: 1, idleTimeoutMs: 400 });
  const params = { namespace: 'load', pod: 'echo', container: 'main' };
  const first = await TermClient.connect(stack.url, params, { token: ADMIN_TOKEN });
  t.after(() => first.terminate());
  await first.started;
  const second = await TermClient.connect(stack.url, params, { token: ADMIN_TOKEN });
  t.after(() => second.terminate());
  await expectFailure(second, 'TooManySessions', 4429);
  // Another token has its own allowance.
  const other = await TermClient.connect(stack.url, params, { token: RESTRICTED_TOKEN });
  t.after(() => other.terminate());
  await other.started;
  // Input keeps `other` alive past the idle limit while `first` idles out.
  const keepAlive = setInterval(() => other.stdin('.'), 100);
  t.after(() => clearInterval(keepAlive));
  await expectFailure(first, 'IdleTimeout', 4408);
  assert.equal(other.ws.readyState, other.ws.OPEN);
  clearInterval(keepAlive);
  await expectFailure(other, 'IdleTimeout', 4408);
  await assertNoResidue(stack);

  const aged = await startGatewayFor(t, stack.sandbox, { workers: 0, maxSessionAgeMs: 300 });
  const c = await TermClient.connect(aged.url, params, { token: ADMIN_TOKEN });
  t.after(() => c.terminate());
  const keep = setInterval(() => c.stdin('.'), 50);
  t.after(() => clearInterval(keep));
  await expectFailure(c, 'SessionExpired', 4410);
  clearInterval(keep);
});

test('an unreachable API server: UpstreamUnavailable 4502', async (t) => {
  const sandbox = await startSandboxFor(t);
  const yaml = sandbox.kubeconfigYaml().replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:1');
  assert.notEqual(yaml, sandbox.kubeconfigYaml());
  const gateway = await startGatewayFor(t, sandbox, { workers: 0, kube: { kind: 'kubeconfig', yaml } });
  const c = await TermClient.connect(gateway.url, { namespace: 'default', pod: 'shell', container: 'main' }, { token: ADMIN_TOKEN });
  t.after(() => c.terminate());
  await expectFailure(c, 'UpstreamUnavailable', 4502);
  const pods = await fetch(`${gateway.url}/api/v1/namespaces/default/pods`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(pods.status, 502);
  assert.equal(((await pods.json()) as { code: string }).code, 'UpstreamUnavailable');
});
