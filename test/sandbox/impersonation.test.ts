/** Impersonation headers on plain HTTPS: who may impersonate, what the impersonated identity is, and the refusals. */
import assert from 'node:assert/strict';
import { after, afterEach, test } from 'node:test';
import { startSandbox } from '../../src/sandbox/index.js';
import { assertDrained, execPath, refusedUpgrade, wsUpgradeHeaders } from './helpers.js';
import { bearer, call } from './identity-helpers.js';

const sb = await startSandbox({ killGraceMs: 500 });
after(() => sb.close());
afterEach(() => assertDrained(sb));

const SSR = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
const whoami = (headers: Record<string, string | string[]>) =>
  call(sb, 'POST', SSR, headers, { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' });

test('admin impersonates a user with groups, uid and extra; only the requested groups apply', async () => {
  const r = await whoami({
    ...bearer(sb.tokens.admin),
    'Impersonate-User': 'alice',
    'Impersonate-Group': ['dev', 'qa'],
    'Impersonate-Uid': 'u-123',
    'Impersonate-Extra-Reason': 'on-call',
    'Impersonate-Extra-Acme.com%2Fteam': ['a', 'b'],
  });
  assert.equal(r.status, 201, r.body);
  assert.deepEqual((r.json().status as { userInfo: unknown }).userInfo, {
    username: 'alice',
    uid: 'u-123',
    groups: ['dev', 'qa', 'system:authenticated'],
    extra: { reason: ['on-call'], 'acme.com/team': ['a', 'b'] },
  });
  // The impersonated identity is what RBAC judges: alice without group dev may not list pods.
  const noGroup = await call(sb, 'GET', '/api/v1/namespaces/default/pods', { ...bearer(sb.tokens.admin), 'Impersonate-User': 'alice' });
  assert.equal(noGroup.status, 403);
  assert.equal(noGroup.json().message, 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"');
  const withGroup = await call(sb, 'GET', '/api/v1/namespaces/default/pods', { ...bearer(sb.tokens.admin), 'Impersonate-User': 'alice', 'Impersonate-Group': 'dev' });
  assert.equal(withGroup.status, 200);
});

test('refusals: the caller needs impersonate on each of users, groups, uids and userextras', async () => {
  const restricted = await call(sb, 'GET', '/api/v1/namespaces/load/pods', { ...bearer(sb.tokens.restricted), 'Impersonate-User': 'alice' });
  assert.equal(restricted.status, 403);
  assert.deepEqual(restricted.json(), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'users "alice" is forbidden: User "restricted" cannot impersonate resource "users" in API group "" at the cluster scope',
    reason: 'Forbidden',
    details: { name: 'alice', kind: 'users' },
    code: 403,
  });
  // The gateway may impersonate users and groups, not uids or extras.
  const gw = bearer((sb.tokens as Record<string, string>)['podterm-gateway'] as string);
  assert.equal((await whoami({ ...gw, 'Impersonate-User': 'alice', 'Impersonate-Group': 'dev' })).status, 201);
  const uid = await whoami({ ...gw, 'Impersonate-User': 'alice', 'Impersonate-Uid': 'x' });
  assert.equal(uid.json().message, 'uids.authentication.k8s.io "x" is forbidden: User "podterm-gateway" cannot impersonate resource "uids" in API group "authentication.k8s.io" at the cluster scope');
  const extra = await whoami({ ...gw, 'Impersonate-User': 'alice', 'Impersonate-Extra-Scope': 'x' });
  assert.equal(extra.json().message, 'userextras.authentication.k8s.io "x" is forbidden: User "podterm-gateway" cannot impersonate resource "userextras/scope" in API group "authentication.k8s.io" at the cluster scope');
  // A group without a user is an error of the request itself.
  const groupOnly = await whoami({ ...bearer(sb.tokens.admin), 'Impersonate-Group': 'dev' });
  assert.equal(groupOnly.status, 500);
  assert.match(String(groupOnly.json().message), /without impersonating a user/);
  // Without credentials, impersonation headers change nothing: 401.
  assert.equal((await whoami({ 'Impersonate-User': 'admin' })).status, 401);
});

test('impersonation applies to exec upgrades: refused before the upgrade, the impersonated user judged after', async () => {
  const q = { pod: 'shell', command: ['true'], stdout: true };
  const refused = await refusedUpgrade(sb, execPath(q), { ...wsUpgradeHeaders(sb.tokens.restricted, 'v5.channel.k8s.io'), 'Impersonate-User': 'admin' });
  assert.equal(refused.status, 403);
  assert.match(refused.body, /users \\"admin\\" is forbidden: User \\"restricted\\" cannot impersonate/);
  const asBob = await refusedUpgrade(sb, execPath(q), { ...wsUpgradeHeaders(sb.tokens.admin, 'v5.channel.k8s.io'), 'Impersonate-User': 'bob', 'Impersonate-Group': 'ops' });
  assert.equal(asBob.status, 403);
  assert.match(asBob.body, /User \\"bob\\" cannot get resource \\"pods\/exec\\"/);
});

test('self subject access review answers for the impersonated user, with RBAC reasons', async () => {
  const review = (headers: Record<string, string | string[]>, resourceAttributes: Record<string, string>) =>
    call(sb, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', headers, {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      spec: { resourceAttributes },
    });
  const attrs = { namespace: 'default', verb: 'create', resource: 'pods', subresource: 'exec', name: 'shell' };
  const yes = await review({ ...bearer(sb.tokens.admin), 'Impersonate-User': 'alice', 'Impersonate-Group': 'dev' }, attrs);
  assert.equal(yes.status, 201);
  assert.deepEqual(yes.json().status, { allowed: true, reason: 'RBAC: allowed by RoleBinding "dev/default" of Role "dev" to Group "dev"' });
  assert.deepEqual(yes.json().spec, { resourceAttributes: attrs });
  const no = await review(bearer(sb.tokens.bob as string), attrs);
  assert.deepEqual(no.json().status, { allowed: false });
  const bad = await call(sb, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', bearer(sb.tokens.bob as string), { spec: {} });
  assert.equal(bad.status, 422);
  assert.equal((await call(sb, 'GET', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', bearer(sb.tokens.bob as string))).status, 405);
});
