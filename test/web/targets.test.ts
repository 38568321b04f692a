/** Deep-link parsing and the "why can't I exec here" wording the picker and status line show. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { whyNotExec } from '../../src/web/api.js';
import type { ContainerInfo, PodInfo } from '../../src/web/api.js';
import { formatHash, parseHash } from '../../src/web/deep-link.js';

test('deep links round-trip, with escaping; junk is ignored', () => {
  assert.deepEqual(parseHash('#/default/shell/main'), { namespace: 'default', pod: 'shell', container: 'main' });
  assert.deepEqual(parseHash('#/load'), { namespace: 'load', pod: null, container: null });
  assert.deepEqual(parseHash('#/default/shell/'), { namespace: 'default', pod: 'shell', container: null });
  for (const h of ['', '#', '#/', '#/a/b/c/d', '#/%E0%A4%A']) assert.equal(parseHash(h), null, h);
  const odd = { namespace: 'ns', pod: 'a b', container: 'c/d' };
  assert.equal(formatHash(odd), '#/ns/a%20b/c%2Fd');
  assert.deepEqual(parseHash(formatHash(odd)), odd);
  assert.equal(formatHash(null), '#/');
});

const running: ContainerInfo = { name: 'main', ready: true, running: true, state: 'running', reason: null };
function pod(phase: string, containers: ContainerInfo[]): PodInfo {
  return { name: 'p', namespace: 'default', phase, ready: false, defaultContainer: containers[0]?.name ?? null, containers };
}

test('whyNotExec says why, in plain words, or null when a terminal can open', () => {
  assert.equal(whyNotExec(pod('Running', [running]), 'main'), null);
  assert.equal(whyNotExec(pod('Running', [running]), null), null);
  assert.equal(whyNotExec(pod('Succeeded', [{ ...running, running: false, state: 'terminated', reason: 'Completed' }]), 'main'),
    'pod p has phase Succeeded');
  assert.equal(whyNotExec(pod('Running', [{ ...running, running: false, state: 'waiting', reason: 'CrashLoopBackOff' }]), 'main'),
    'main is waiting: CrashLoopBackOff');
  assert.equal(whyNotExec(pod('Pending', [{ ...running, running: false, state: 'waiting', reason: null }]), 'main'),
    'pod p has phase Pending');
  assert.equal(whyNotExec(pod('Running', [running]), 'sidecar'), 'pod p has no container sidecar');
});
