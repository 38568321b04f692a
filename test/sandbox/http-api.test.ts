/** The REST surface with a plain HTTPS client: discovery, objects, RBAC answers, Table, /metrics. */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, afterEach, test } from 'node:test';
import { startSandbox } from '../../src/sandbox/index.js';
import { assertDrained, httpGet, openExec } from './helpers.js';

// Held to kill-on-close: these tests end execs by closing the socket and expect nothing left.
const sb = await startSandbox({ killGraceMs: 500, killOnClose: true });
after(() => sb.close());
afterEach(() => assertDrained(sb));

test('discovery: /version, /api, /apis, /api/v1 with pods and pods/exec', async () => {
  assert.equal(JSON.parse((await httpGet(sb, '/version')).body).major, '1');
  const api = JSON.parse((await httpGet(sb, '/api', sb.tokens.admin)).body);
  assert.deepEqual([api.kind, api.versions], ['APIVersions', ['v1']]);
  assert.equal(JSON.parse((await httpGet(sb, '/apis', sb.tokens.admin)).body).kind, 'APIGroupList');
  const v1 = JSON.parse((await httpGet(sb, '/api/v1', sb.tokens.admin)).body);
  assert.equal(v1.kind, 'APIResourceList');
  assert.deepEqual(v1.resources.map((r: { name: string }) => r.name).sort(), ['namespaces', 'pods', 'pods/attach', 'pods/ephemeralcontainers', 'pods/exec', 'pods/log']);
});

test('authentication: no token reads only public paths; a wrong token is 401 everywhere', async () => {
  assert.equal((await httpGet(sb, '/api')).status, 401);
  assert.equal((await httpGet(sb, '/version')).status, 200);
  const bad = await httpGet(sb, '/version', 'nope');
  assert.deepEqual(JSON.parse(bad.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
});

test('pods: get decodes as a v1 Pod; lists and per-user permissions', async () => {
  const pod = JSON.parse((await httpGet(sb, '/api/v1/namespaces/default/pods/stopped', sb.tokens.admin)).body);
  assert.equal(pod.kind, 'Pod');
  assert.equal(pod.apiVersion, 'v1');
  assert.ok(pod.metadata.uid && pod.metadata.resourceVersion && pod.metadata.creationTimestamp);
  assert.equal(pod.status.phase, 'Running');
  assert.deepEqual(pod.status.containerStatuses[0].state.waiting.reason, 'CrashLoopBackOff');
  assert.equal(pod.status.containerStatuses[0].ready, false);
  const multi = JSON.parse((await httpGet(sb, '/api/v1/namespaces/default/pods/multi', sb.tokens.admin)).body);
  assert.equal(multi.metadata.annotations['kubectl.kubernetes.io/default-container'], 'app');
  const done = JSON.parse((await httpGet(sb, '/api/v1/namespaces/default/pods/done', sb.tokens.admin)).body);
  assert.equal(done.status.phase, 'Succeeded');
  assert.ok(done.status.containerStatuses[0].state.terminated);

  const all = JSON.parse((await httpGet(sb, '/api/v1/pods', sb.tokens.admin)).body);
  assert.equal(all.kind, 'PodList');
  assert.deepEqual(all.items.map((p: { metadata: { namespace: string; name: string } }) => `${p.metadata.namespace}/${p.metadata.name}`), [
    'default/shell', 'default/multi', 'default/stopped', 'default/done', 'default/logs', 'default/distroless', 'load/echo', 'load/flood',
  ]);
  const r = sb.tokens.restricted;
  assert.equal(JSON.parse((await httpGet(sb, '/api/v1/namespaces/load/pods', r)).body).items.length, 2);
  const denied = await httpGet(sb, '/api/v1/namespaces/default/pods', r);
  assert.equal(denied.status, 403);
  assert.equal(JSON.parse(denied.body).message, 'pods is forbidden: User "restricted" cannot list resource "pods" in API group "" in the namespace "default"');
  const deniedGet = await httpGet(sb, '/api/v1/namespaces/default/pods/shell', r);
  assert.equal(JSON.parse(deniedGet.body).message, 'pods "shell" is forbidden: User "restricted" cannot get resource "pods" in API group "" in the namespace "default"');
  assert.equal((await httpGet(sb, '/api/v1/pods', r)).status, 403);
  assert.equal((await httpGet(sb, '/api/v1/namespaces/default/pods/nope', sb.tokens.admin)).status, 404);
});

test('namespaces: admin lists all; restricted gets 403 for the cluster-scoped list but may get its own', async () => {
  const list = JSON.parse((await httpGet(sb, '/api/v1/namespaces', sb.tokens.admin)).body);
  assert.deepEqual(list.items.map((n: { metadata: { name: string } }) => n.metadata.name), ['default', 'load']);
  const denied = await httpGet(sb, '/api/v1/namespaces', sb.tokens.restricted);
  assert.equal(denied.status, 403);
  assert.equal(JSON.parse(denied.body).message, 'namespaces is forbidden: User "restricted" cannot list resource "namespaces" in API group "" at the cluster scope');
  assert.equal(JSON.parse((await httpGet(sb, '/api/v1/namespaces/load', sb.tokens.restricted)).body).kind, 'Namespace');
  assert.equal((await httpGet(sb, '/api/v1/namespaces/default', sb.tokens.restricted)).status, 403);
});

test('Table for server-side printing when asked', async () => {
  const table = JSON.parse((await httpGet(sb, '/api/v1/namespaces/default/pods', sb.tokens.admin, 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json')).body);
  assert.equal(table.kind, 'Table');
  assert.deepEqual(table.rows[0].cells.slice(0, 4), ['shell', '1/1', 'Running', '0']);
  assert.equal(table.rows[0].object.metadata.namespace, 'default');
});

test('/metrics reports exec streams and processes while they run', async (t) => {
  const gauge = async (name: string): Promise<number> => {
    const m = new RegExp(`^${name} (\\d+)$`, 'm').exec((await httpGet(sb, '/metrics')).body);
    return Number(m?.[1]);
  };
  assert.equal(await gauge('sandbox_exec_active'), 0);
  const x = openExec(t, sb, { pod: 'shell', command: ['sh', '-c', 'echo up; sleep 30'], stdout: true });
  const y = openExec(t, sb, { ns: 'load', pod: 'flood', command: ['flood'], stdout: true });
  await x.waitFor((m) => m.length > 1);
  await y.waitFor((m) => m.length > 1);
  assert.equal(await gauge('sandbox_exec_active'), 2);
  assert.equal(await gauge('sandbox_processes_active'), 1);
  x.ws.close();
  y.ws.close();
  await Promise.all([x.closed, y.closed]);
  const deadline = Date.now() + 5000;
  while ((await gauge('sandbox_exec_active')) !== 0 || (await gauge('sandbox_processes_active')) !== 0) {
    assert.ok(Date.now() < deadline);
    await delay(20);
  }
  assert.deepEqual(sb.stats(), { execActive: 0, processesActive: 0 });
});
