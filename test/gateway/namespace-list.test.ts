/**
 * The picker's namespace list is narrowed per caller (issue 9): whoever may list namespaces sees
 * the list; whoever may not sees the namespaces the gateway knows for them (the context's own plus
 * the configured ones) only where a SelfSubjectAccessReview, asked as them, allows `list pods`.
 * Real sandbox RBAC (src/sandbox/default-identities.ts), real gateway, impersonation by the admin
 * context: alice (group dev) may list pods in `default` only, bob (group ops) reads everything,
 * the `restricted` context reads `load` only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN_TOKEN, assertNoResidue, startStack } from '../helpers/gateway-stack.js';

const ALICE = 'ns-test-alice-token-0123456789';
const BOB = 'ns-test-bob-token-0123456789';
const RESTRICTED = 'ns-test-restricted-token-0123456789';

test('namespaces: a caller who may not list them sees only the known ones where they may list pods; one who may sees all', async (t) => {
  const stack = await startStack(t, {
    workers: 0,
    tokens: [
      { token: ADMIN_TOKEN, context: 'admin' },
      // `load` is configured for alice, but her RBAC does not let her list pods there.
      { token: ALICE, username: 'alice', groups: ['dev'], namespaces: ['load'] },
      { token: BOB, username: 'bob', groups: ['ops'] },
      // The restricted context's own namespace is `load`; `default` is configured but not allowed.
      { token: RESTRICTED, context: 'restricted', namespaces: ['default'] },
    ],
  });
  const names = async (token: string): Promise<string[]> => {
    const res = await fetch(`${stack.url}/api/v1/namespaces`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { items: Array<{ name: string }> }).items.map((n) => n.name).sort();
  };
  assert.deepEqual(await names(ADMIN_TOKEN), ['default', 'load']);
  assert.deepEqual(await names(BOB), ['default', 'load'], 'bob may list namespaces: all of them');
  assert.deepEqual(await names(ALICE), ['default'], 'alice: her context namespace, not the configured one she may not list pods in');
  assert.deepEqual(await names(RESTRICTED), ['load'], 'restricted: its own namespace, not the configured one it may not list pods in');
  // What the list offers opens: each namespace listed for alice and restricted lists its pods.
  for (const [token, ns] of [[ALICE, 'default'], [RESTRICTED, 'load']] as const) {
    const pods = await fetch(`${stack.url}/api/v1/namespaces/${ns}/pods`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(pods.status, 200);
  }
  await assertNoResidue(stack);
});
