/** Real kubectl 1.32 against the sandbox: auth can-i, auth whoami, --as/--as-group, exec per user. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { startSandbox } from '../../src/sandbox/index.js';
import { assertDrained } from './helpers.js';
import { kubectlRunner } from './identity-helpers.js';

const sb = await startSandbox({ killGraceMs: 500 });
after(() => sb.close());
const dir = await mkdtemp(join(tmpdir(), 'podterm-kubectl-auth-'));
after(() => rm(dir, { recursive: true, force: true }));
const kubeconfig = join(dir, 'kubeconfig');
await sb.writeKubeconfig(kubeconfig);
const kubectl = kubectlRunner(kubeconfig, dir);
afterEach(() => assertDrained(sb));

test('auth can-i: exec for alice in default only, never for bob; bob may list pods in every namespace', async () => {
  const canI = async (ctx: string, args: string[]): Promise<[number, string]> => {
    const r = await kubectl(['--context', ctx, 'auth', 'can-i', ...args]);
    return [r.code, r.stdout.trim()];
  };
  // `pods/exec` as an argument would mean the pod named "exec"; the subresource is a flag.
  assert.deepEqual(await canI('alice', ['create', 'pods', '--subresource=exec', '-n', 'default']), [0, 'yes']);
  assert.deepEqual(await canI('alice', ['create', 'pods', '--subresource=exec', '-n', 'load']), [1, 'no']);
  assert.deepEqual(await canI('bob', ['create', 'pods', '--subresource=exec', '-n', 'default']), [1, 'no']);
  assert.deepEqual(await canI('bob', ['list', 'pods', '-A']), [0, 'yes']);
  assert.deepEqual(await canI('bob', ['get', 'pods', '--subresource=log', '-n', 'load']), [0, 'yes']);
  assert.deepEqual(await canI('alice', ['list', 'pods', '-A']), [1, 'no']);
  assert.deepEqual(await canI('restricted', ['create', 'pods', '--subresource=exec', '-n', 'load']), [0, 'yes']);
  assert.deepEqual(await canI('admin', ['impersonate', 'users']), [0, 'yes']);
  assert.deepEqual(await canI('restricted', ['impersonate', 'users']), [1, 'no']);
  assert.deepEqual(await canI('podterm-gateway', ['impersonate', 'groups']), [0, 'yes']);
});

test('auth whoami for each user, and for admin impersonating alice', async () => {
  const expected: Record<string, string> = {
    admin: '[system:masters system:authenticated]',
    restricted: '[system:authenticated]',
    alice: '[dev system:authenticated]',
    bob: '[ops system:authenticated]',
    'podterm-gateway': '[system:authenticated]',
  };
  for (const [user, groups] of Object.entries(expected)) {
    const r = await kubectl(['--context', user, 'auth', 'whoami']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Username\\s+${user}\\n`));
    assert.ok(r.stdout.includes(`Groups      ${groups}`), r.stdout);
  }
  const as = await kubectl(['--as', 'alice', '--as-group', 'dev', 'auth', 'whoami', '-o', 'json']);
  assert.equal(as.code, 0, as.stderr);
  assert.deepEqual(JSON.parse(as.stdout).status.userInfo, { username: 'alice', groups: ['dev', 'system:authenticated'] });
});

test('--as/--as-group: allowed for admin, refused for restricted with the API server wording', async () => {
  const ok = await kubectl(['--as', 'alice', '--as-group', 'dev', 'auth', 'can-i', 'create', 'pods', '--subresource=exec']);
  assert.deepEqual([ok.code, ok.stdout.trim()], [0, 'yes']);
  // Without the group, alice's rights (bound to group dev) do not apply: impersonation sends only what it names.
  const noGroup = await kubectl(['--as', 'alice', 'auth', 'can-i', 'create', 'pods', '--subresource=exec']);
  assert.deepEqual([noGroup.code, noGroup.stdout.trim()], [1, 'no']);
  // get --raw does no discovery first, so kubectl prints the server's message as is.
  const refused = await kubectl(['--context', 'restricted', '--as', 'alice', '--as-group', 'dev', 'get', '--raw', '/api/v1/namespaces/default/pods']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Error from server \(Forbidden\): users "alice" is forbidden: User "restricted" cannot impersonate resource "users" in API group "" at the cluster scope/);
  // get starts with discovery, which the same 403 stops (kubectl then prints "Forbidden: unknown").
  const get = await kubectl(['--context', 'restricted', '--as', 'alice', '--as-group', 'dev', 'get', 'pods', '-n', 'default']);
  assert.equal(get.code, 1);
  assert.match(get.stderr, /Error from server \(Forbidden\)/);
  assert.doesNotMatch(get.stdout, /shell/);
});

test('kubectl exec as alice works in default and is forbidden elsewhere; bob may not exec', async () => {
  const ok = await kubectl(['--context', 'alice', 'exec', 'shell', '--', 'sh', '-c', 'echo "hi from $HOSTNAME"']);
  assert.deepEqual([ok.code, ok.stdout], [0, 'hi from shell\n'], ok.stderr);
  const elsewhere = await kubectl(['--context', 'alice', '-n', 'load', 'exec', 'echo', '--', 'echo', 'x']);
  assert.equal(elsewhere.code, 1);
  assert.match(elsewhere.stderr, /pods "echo" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "load"/);
  const bob = await kubectl(['--context', 'bob', 'exec', 'shell', '--', 'true']);
  assert.equal(bob.code, 1);
  assert.match(bob.stderr, /pods "shell" is forbidden: User "bob" cannot (get|create) resource "pods\/exec" in API group "" in the namespace "default"/);
  const gateway = await kubectl(['--context', 'podterm-gateway', '--as', 'alice', '--as-group', 'dev', 'exec', 'shell', '--', 'sh', '-c', 'echo gw']);
  assert.deepEqual([gateway.code, gateway.stdout], [0, 'gw\n'], gateway.stderr);
});
