/**
 * Logs through the gateway: default/logs writes a line a second. A follow streams new lines and,
 * when the client goes away, the gateway's and the sandbox's log streams go back to zero; tail,
 * timestamps and the refusals (no previous container, unknown container) answer as documented.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { api, assertNoToolResidue, toolStack } from './tool-stack.js';

const LOG = '/api/v1/namespaces/default/pods/logs/log';

test('follow streams new lines; the client leaving ends the stream on both sides', async (t) => {
  const stack = await toolStack(t);
  const ctl = new AbortController();
  const res = await api(stack, `${LOG}?container=main&follow=true&tailLines=1&timestamps=true`, { signal: ctl.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const reader = res.body!.getReader();
  let text = '';
  const deadline = Date.now() + 8000;
  // The tail line, then at least two new ones written after the request.
  while (text.split('\n').filter((l) => l !== '').length < 3) {
    assert.ok(Date.now() < deadline, `lines arrive: ${JSON.stringify(text)}`);
    const { value, done } = await reader.read();
    assert.ok(!done, 'the follow stays open');
    text += Buffer.from(value).toString('utf8');
  }
  for (const line of text.trim().split('\n')) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /, line);
  assert.equal((await stack.gateway.stats()).logStreamsOpen, 1);
  ctl.abort();
  await assertNoToolResidue(stack);
});

test('tail without follow ends; previous without a restart and an unknown container are JSON errors', async (t) => {
  const stack = await toolStack(t);
  await delay(1200); // at least one line written
  const tail = await api(stack, `${LOG}?container=main&tailLines=1`);
  assert.equal(tail.status, 200);
  assert.equal((await tail.text()).trim().split('\n').length, 1);
  const previous = await api(stack, `${LOG}?container=main&previous=true`);
  assert.equal(previous.status, 404);
  assert.equal(((await previous.json()) as { code: string }).code, 'NotFound');
  const unknown = await api(stack, `${LOG}?container=nope`);
  assert.equal(unknown.status, 404);
  const bad = await api(stack, `${LOG}?tailLines=-1`);
  assert.equal(bad.status, 400);
  await assertNoToolResidue(stack);
});

test('a follow whose client stops reading holds the upstream, not memory; closing frees it', async (t) => {
  const stack = await toolStack(t);
  const ctl = new AbortController();
  const res = await api(stack, `${LOG}?container=main&follow=true`, { signal: ctl.signal });
  assert.equal(res.status, 200);
  await delay(1500); // never read: uWS buffers at most what the socket holds
  assert.equal((await stack.gateway.stats()).logStreamsOpen, 1);
  assert.equal(stack.sandbox.toolStats().logStreamsActive, 1);
  ctl.abort();
  await assertNoToolResidue(stack);
});
