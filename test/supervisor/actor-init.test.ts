/**
 * actorInit builds every session's init with the same V8 hidden classes (see actor-init.ts): two
 * sessions of different people, with and without recording, compared with %HaveSameMap in a child
 * node run with --allow-natives-syntax (the only way to ask V8 whether two objects share a map).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const MODULE = new URL('../../src/supervisor/actor-init.js', import.meta.url).href;

const SCRIPT = `
import { actorInit } from ${JSON.stringify(MODULE)};
const limits = { maxSessions: 10, maxSessionsPerToken: 10, idleTimeoutMs: 0, maxSessionAgeMs: 0, detachGraceMs: 5000, replayBytes: 65536, highWaterBytes: 1, lowWaterBytes: 1 };
const records = (rec) => ({ replica: 'r1', ...(rec ? { recording: { dir: '/tmp/rec', mode: 'best-effort', maxBytes: 0, recordInput: false, replica: 'r1' } } : {}) });
const req = (i) => ({ namespace: 'ns', pod: 'pod-' + i, container: 'c', command: ['sh'], cols: 80, rows: 24, ownerKey: 'user-' + i, context: undefined, person: { user: 'user-' + i, groups: ['g' + i], via: 'oidc' }, as: { user: 'user-' + i, groups: ['g' + i] } });
const out = {};
for (const rec of [false, true]) {
  const r = records(rec);
  // Warm the call site the way a gateway does: many sessions before the two compared.
  const inits = [];
  for (let i = 0; i < 50; i++) inits.push(actorInit('s' + i, req(i), limits, r, 'token-' + i));
  const [a, b] = [inits[48], inits[49]];
  out[rec ? 'recording' : 'plain'] = { init: %HaveSameMap(a, b), ...(rec ? { recordingConfig: %HaveSameMap(a.recording, b.recording), recordingKeys: Object.keys(b.recording) } : {}) };
}
// The owner of an impersonated session is its impersonation object, on both threads; anyone else's
// (a token standing for a kubeconfig context, a person's own bearer token) is their own object.
const r = records(true);
const own = actorInit('own', req(1), limits, r, 't');
const cloned = structuredClone(own);
const bearer = actorInit('bearer', { ...req(2), as: { bearer: 'x' } }, limits, r, 't');
const other = actorInit('other', { ...req(3), as: { user: 'someone-else', groups: ['g3'] } }, limits, r, 't');
out.shared = { main: own.recording === own.as, clone: cloned.recording === cloned.as, bearer: bearer.recording.user, other: [other.recording === other.as, other.recording.user] };
console.log(JSON.stringify(out));
`;

// A recorded session's init carries only its owner: the thread has the settings (ActorWorkerData),
// so an idle recorded session does not pay for its own copy of them on both threads.
test('the inits of two sessions share their hidden classes, with and without recording', () => {
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', SCRIPT], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim()), { plain: { init: true }, recording: { init: true, recordingConfig: true, recordingKeys: ['user', 'groups'] }, shared: { main: true, clone: true, bearer: 'user-2', other: [false, 'user-3'] } });
});
