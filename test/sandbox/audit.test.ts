/** The audit log: audit.k8s.io/v1 Events for plain requests, refusals and an exec made by admin impersonating alice. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, afterEach, test } from 'node:test';
import { startSandbox } from '../../src/sandbox/index.js';
import { assertDrained } from './helpers.js';
import { bearer, call, kubectlRunner } from './identity-helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'podterm-audit-'));
after(() => rm(dir, { recursive: true, force: true }));
const auditFile = join(dir, 'audit.log');
const sb = await startSandbox({ killGraceMs: 500, auditLog: auditFile });
after(() => sb.close());
const kubeconfig = join(dir, 'kubeconfig');
await sb.writeKubeconfig(kubeconfig);
const kubectl = kubectlRunner(kubeconfig, dir);
afterEach(() => assertDrained(sb));

type Event = Record<string, unknown> & { auditID: string; stage: string; verb: string; requestURI: string };

async function events(pred: (e: Event) => boolean, count = 1): Promise<Event[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const text = await readFile(auditFile, 'utf8');
    const all = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Event);
    const found = all.filter(pred);
    if (found.length >= count || Date.now() > deadline) return found;
    await delay(50);
  }
}

test('a GET and a refused GET: Metadata level, RequestInfo verb and objectRef, user, status', async () => {
  const ok = await call(sb, 'GET', '/api/v1/namespaces/default/pods?limit=5', { ...bearer(sb.tokens.alice as string), 'User-Agent': 'audit-test/1', 'Audit-ID': 'audit-test-list' });
  assert.equal(ok.status, 200);
  const [list] = await events((e) => e.auditID === 'audit-test-list');
  assert.ok(list);
  const { requestReceivedTimestamp, stageTimestamp, ...rest } = list;
  assert.match(String(requestReceivedTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.match(String(stageTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.deepEqual(rest, {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: 'audit-test-list',
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/default/pods?limit=5',
    verb: 'list',
    user: { username: 'alice', groups: ['dev', 'system:authenticated'] },
    sourceIPs: ['127.0.0.1'],
    userAgent: 'audit-test/1',
    objectRef: { resource: 'pods', namespace: 'default', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
  });
  await call(sb, 'GET', '/api/v1/namespaces/load/pods/echo', { ...bearer(sb.tokens.alice as string), 'Audit-ID': 'audit-test-denied' });
  const [denied] = await events((e) => e.auditID === 'audit-test-denied');
  assert.equal(denied?.verb, 'get');
  assert.deepEqual(denied?.objectRef, { resource: 'pods', namespace: 'load', name: 'echo', apiVersion: 'v1' });
  assert.deepEqual(denied?.responseStatus, {
    metadata: {},
    status: 'Failure',
    message: 'pods "echo" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "load"',
    reason: 'Forbidden',
    code: 403,
  });
  await call(sb, 'GET', '/api/v1/pods', { Authorization: 'Bearer wrong', 'Audit-ID': 'audit-test-401' });
  const [unauth] = await events((e) => e.auditID === 'audit-test-401');
  assert.deepEqual([unauth?.user, (unauth?.responseStatus as { code: number }).code], [{}, 401]);
});

test('kubectl exec by admin impersonating alice: user admin, impersonatedUser alice, subresource exec, 101 started and completed', async () => {
  const r = await kubectl(['--as', 'alice', '--as-group', 'dev', 'exec', 'shell', '--', 'sh', '-c', 'echo audited']);
  assert.deepEqual([r.code, r.stdout], [0, 'audited\n'], r.stderr);
  const execs = await events((e) => (e.objectRef as { subresource?: string } | undefined)?.subresource === 'exec' && (e.impersonatedUser as { username?: string } | undefined)?.username === 'alice', 2);
  const [started, complete] = [execs.find((e) => e.stage === 'ResponseStarted'), execs.find((e) => e.stage === 'ResponseComplete')];
  assert.ok(started && complete, JSON.stringify(execs));
  assert.equal(started.auditID, complete.auditID);
  for (const e of [started, complete]) {
    assert.deepEqual(e.user, { username: 'admin', groups: ['system:masters', 'system:authenticated'] });
    assert.deepEqual(e.impersonatedUser, { username: 'alice', groups: ['dev', 'system:authenticated'] });
    assert.deepEqual(e.objectRef, { resource: 'pods', namespace: 'default', name: 'shell', apiVersion: 'v1', subresource: 'exec' });
    // kubectl's WebSocket exec is a GET, which RequestInfo names `get` (a SPDY POST would be `create`).
    assert.equal(e.verb, 'get');
    assert.deepEqual(e.responseStatus, { metadata: {}, code: 101 });
    assert.match(e.requestURI, /^\/api\/v1\/namespaces\/default\/pods\/shell\/exec\?command=sh&command=-c&command=echo\+audited/);
  }
  assert.ok(String(complete.stageTimestamp) >= String(started.stageTimestamp));
});

test('a refused exec upgrade is logged with its 403 and no ResponseStarted', async () => {
  const r = await kubectl(['--context', 'bob', 'exec', 'shell', '--', 'true']);
  assert.equal(r.code, 1);
  const bobs = await events((e) => (e.user as { username?: string }).username === 'bob' && (e.objectRef as { subresource?: string } | undefined)?.subresource === 'exec');
  assert.ok(bobs.length >= 1);
  assert.ok(bobs.every((e) => e.stage === 'ResponseComplete' && (e.responseStatus as { code: number }).code === 403), JSON.stringify(bobs));
});

test('the audit log is closed with the sandbox, every line complete JSON', async () => {
  const other = join(dir, 'second.log');
  const sb2 = await startSandbox({ auditLog: other });
  await call(sb2, 'GET', '/api/v1/namespaces', bearer(sb2.tokens.admin));
  await sb2.close();
  const lines = (await readFile(other, 'utf8')).split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  assert.equal(lines.length, 1);
  assert.equal(JSON.parse(lines[0] as string).verb, 'list');
  await assert.rejects(startSandbox({ auditLog: join(dir, 'no-such-dir', 'x.log') }), /ENOENT/);
});
