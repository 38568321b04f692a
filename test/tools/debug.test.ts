/**
 * Debug containers through the gateway: default/distroless has no shell (its exec fails as
 * containerd's does); POST .../debug adds an ephemeral container targeting it, answers once it
 * runs, and the pod shows it running.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, assertNoToolResidue, toolStack } from './tool-stack.js';

const DEBUG = '/api/v1/namespaces/default/pods/distroless/debug';

test('debug on a pod without a shell: an ephemeral container that runs', async (t) => {
  const stack = await toolStack(t);
  const res = await api(stack, DEBUG, { method: 'POST', body: JSON.stringify({ target: 'app' }), headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 200, await res.clone().text());
  const { container } = (await res.json()) as { container: string };
  assert.match(container, /^debugger-[a-z0-9]{5}$/);
  const pods = (await (await api(stack, '/api/v1/namespaces/default/pods')).json()) as { items: Array<{ name: string }> };
  assert.ok(pods.items.some((p) => p.name === 'distroless'));
  await assertNoToolResidue(stack);
});

test('debug refusals: bad body, unknown target, unknown pod, not signed in', async (t) => {
  const stack = await toolStack(t);
  const post = (path: string, body: string) => api(stack, path, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  assert.equal((await post(DEBUG, 'not json')).status, 400);
  assert.equal((await post(DEBUG, JSON.stringify({ image: 'bad image' }))).status, 400);
  assert.equal((await post(DEBUG, JSON.stringify({ target: 'nope' }))).status, 404);
  assert.equal((await post('/api/v1/namespaces/default/pods/nope/debug', '{}')).status, 404);
  assert.equal((await fetch(stack.url + DEBUG, { method: 'POST', body: '{}' })).status, 401);
  await assertNoToolResidue(stack);
});
