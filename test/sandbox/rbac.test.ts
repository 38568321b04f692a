/** RBAC: rule matching, inventory schema and the old form's translation, and the HTTP answers per user. */
import assert from 'node:assert/strict';
import { after, afterEach, test } from 'node:test';
import { InventoryError, startSandbox } from '../../src/sandbox/index.js';
import { parseInventory } from '../../src/sandbox/inventory.js';
import { RbacAuthorizer, ruleAllows } from '../../src/sandbox/rbac.js';
import { effectivePolicy } from '../../src/sandbox/rbac-inventory.js';
import { assertDrained, httpGet } from './helpers.js';
import { call } from './identity-helpers.js';

const sb = await startSandbox({ killGraceMs: 500 });
after(() => sb.close());
afterEach(() => assertDrained(sb));

test('rule matching: verbs, groups, subresources, */sub, resourceNames, non-resource URL prefixes', () => {
  const exec = { verbs: ['create'], apiGroups: [''], resources: ['pods/exec'] };
  assert.ok(ruleAllows({ verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'a' }, exec));
  assert.ok(!ruleAllows({ verb: 'create', resource: 'pods', namespace: 'a' }, exec), 'pods/exec does not grant pods');
  assert.ok(!ruleAllows({ verb: 'get', resource: 'pods', subresource: 'exec' }, exec));
  assert.ok(!ruleAllows({ verb: 'create', apiGroup: 'apps', resource: 'pods', subresource: 'exec' }, exec));
  assert.ok(!ruleAllows({ verb: 'create', resource: 'pods', subresource: 'exec' }, { verbs: ['create'], apiGroups: [''], resources: ['pods'] }), 'pods does not grant pods/exec');
  assert.ok(ruleAllows({ verb: 'get', resource: 'pods', subresource: 'log' }, { verbs: ['get'], apiGroups: [''], resources: ['*/log'] }));
  assert.ok(ruleAllows({ verb: 'get', resource: 'pods', subresource: 'log' }, { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }));
  const named = { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['shell'] };
  assert.ok(ruleAllows({ verb: 'get', resource: 'pods', name: 'shell' }, named));
  assert.ok(!ruleAllows({ verb: 'get', resource: 'pods', name: 'multi' }, named));
  assert.ok(!ruleAllows({ verb: 'list', resource: 'pods' }, { ...named, verbs: ['list'] }), 'resourceNames cannot match a list');
  assert.ok(ruleAllows({ verb: 'get', path: '/apis/x' }, { verbs: ['get'], nonResourceURLs: ['/apis/*'] }));
  assert.ok(!ruleAllows({ verb: 'get', path: '/api' }, { verbs: ['get'], nonResourceURLs: ['/apis/*'] }));
  assert.ok(!ruleAllows({ verb: 'get', resource: 'pods' }, { verbs: ['get'], nonResourceURLs: ['*'] }));
});

test('inventory: RBAC objects parsed; the old namespaces form becomes equivalent bindings', () => {
  const inv = parseInventory({
    namespaces: [{ name: 'a' }, { name: 'b' }],
    users: { admin: { namespaces: ['*'] }, restricted: { namespaces: ['a'] }, carol: { groups: ['qa'] } },
    clusterRoles: [{ name: 'reader', rules: [{ resources: ['pods'], verbs: ['get', 'list'] }] }],
    roleBindings: [{ name: 'qa', namespace: 'b', roleRef: { kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'Group', name: 'qa' }] }],
  });
  const rbac = new RbacAuthorizer(effectivePolicy(inv.users, inv.rbac));
  const user = (name: string, groups: string[] = []): { username: string; groups: string[] } => ({ username: name, groups: [...groups, 'system:authenticated'] });
  assert.deepEqual(rbac.authorize(user('carol', ['qa']), { verb: 'list', apiGroup: '', resource: 'pods', namespace: 'b' }), {
    allowed: true,
    reason: 'RBAC: allowed by RoleBinding "qa/b" of ClusterRole "reader" to Group "qa"',
  });
  assert.equal(rbac.authorize(user('carol', ['qa']), { verb: 'list', resource: 'pods', namespace: 'a' }).allowed, false);
  // restricted: pods, exec and its own namespace object in `a`, nothing cluster-wide.
  const r = user('restricted');
  assert.equal(rbac.authorize(r, { verb: 'get', resource: 'pods', subresource: 'exec', namespace: 'a', name: 'p' }).allowed, true);
  assert.equal(rbac.authorize(r, { verb: 'get', resource: 'namespaces', namespace: 'a', name: 'a' }).allowed, true);
  assert.equal(rbac.authorize(r, { verb: 'list', resource: 'pods', namespace: 'b' }).allowed, false);
  assert.equal(rbac.authorize(r, { verb: 'list', resource: 'namespaces' }).allowed, false);
  assert.match(rbac.authorize(user('admin'), { verb: 'delete', apiGroup: 'apps', resource: 'deployments', namespace: 'x' }).reason, /ClusterRoleBinding "sandbox:user:admin" of ClusterRole "cluster-admin" to User "admin"/);
  // Every authenticated user may ask its own reviews (bootstrap system:basic-user).
  assert.equal(rbac.authorize(user('nobody'), { verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }).allowed, true);
});

test('inventory: bad RBAC is rejected with the path of the problem', () => {
  const base = { namespaces: [{ name: 'a' }], users: { admin: { namespaces: ['*'] }, restricted: { namespaces: ['a'] } } };
  const bad = (extra: Record<string, unknown>, re: RegExp): void => {
    assert.throws(() => parseInventory({ ...base, ...extra }), (e: unknown) => e instanceof InventoryError && re.test(e.message));
  };
  bad({ roleBindings: [{ name: 'x', namespace: 'a', roleRef: { kind: 'Role', name: 'nope' }, subjects: [] }] }, /roleRef Role "nope" is not declared/);
  bad({ clusterRoleBindings: [{ name: 'x', roleRef: { kind: 'Role', name: 'r' }, subjects: [] }] }, /clusterRoleBindings\[0\]\.roleRef\.kind: expected ClusterRole/);
  bad({ clusterRoles: [{ name: 'cluster-admin', rules: [] }] }, /clusterRoles: duplicate name "cluster-admin"/);
  bad({ clusterRoles: [{ name: 'r', rules: [{ verbs: ['get'] }] }] }, /clusterRoles\[0\]\.rules\[0\]: expected resources or nonResourceURLs/);
  bad({ roleBindings: [{ name: 'x', namespace: 'a', roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: 's' }] }] }, /subjects\[0\]\.kind: expected User or Group/);
  bad({ users: { admin: { groups: 'x' }, restricted: { namespaces: ['a'] } } }, /users\.admin\.groups/);
});

test('HTTP: alice reads pods in default only, bob everywhere; 403 bodies are real Status objects', async () => {
  const { alice, bob } = sb.tokens as Record<string, string>;
  assert.equal((await httpGet(sb, '/api/v1/namespaces/default/pods', alice)).status, 200);
  const denied = await httpGet(sb, '/api/v1/namespaces/load/pods/echo', alice);
  assert.equal(denied.status, 403);
  assert.deepEqual(JSON.parse(denied.body), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'pods "echo" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "load"',
    reason: 'Forbidden',
    details: { name: 'echo', kind: 'pods' },
    code: 403,
  });
  assert.equal((await httpGet(sb, '/api/v1/pods', bob)).status, 200);
  assert.equal((await httpGet(sb, '/api/v1/namespaces', bob)).status, 200);
  assert.equal((await httpGet(sb, '/api/v1/namespaces', alice)).status, 403);
  // bob is read-only: no exec anywhere (WebSocket GET is authorized as get, then create).
  const exec = await call(sb, 'POST', '/api/v1/namespaces/default/pods/shell/exec?command=true&stdout=true', { Authorization: `Bearer ${bob}` });
  assert.equal(exec.status, 403);
  assert.equal(exec.json().message, 'pods "shell" is forbidden: User "bob" cannot create resource "pods/exec" in API group "" in the namespace "default"');
});

test('the gateway user holds exactly its least-privilege rules', async () => {
  const gw = (sb.tokens as Record<string, string>)['podterm-gateway'] as string;
  const can = async (spec: Record<string, string | undefined>): Promise<boolean> => {
    const r = await call(sb, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { Authorization: `Bearer ${gw}` }, {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      spec: { resourceAttributes: spec },
    });
    assert.equal(r.status, 201, r.body);
    return (r.json().status as { allowed: boolean }).allowed;
  };
  for (const yes of [
    { verb: 'impersonate', resource: 'users', name: 'alice' },
    { verb: 'impersonate', resource: 'groups', name: 'dev' },
    { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' },
    { verb: 'list', resource: 'pods', namespace: 'load' },
    { verb: 'list', resource: 'namespaces' },
    { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'default' },
    { verb: 'create', resource: 'pods', subresource: 'attach', namespace: 'default' },
    { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'default' },
    { verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace: 'default' },
  ]) assert.equal(await can(yes), true, JSON.stringify(yes));
  for (const no of [
    { verb: 'create', resource: 'pods', namespace: 'default' },
    { verb: 'delete', resource: 'pods', namespace: 'default' },
    { verb: 'impersonate', resource: 'serviceaccounts', namespace: 'default' },
    { verb: 'create', resource: 'pods', subresource: 'portforward', namespace: 'default' },
    { verb: 'watch', resource: 'pods', namespace: 'default' },
  ]) assert.equal(await can(no), false, JSON.stringify(no));
});
