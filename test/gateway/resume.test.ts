/**
 * Sessions outlive their socket (docs/protocol.md, Additions), against the real gateway and the
 * sandbox cluster: a dropped connection detaches the session, a resume token brings back the same
 * process with the output written meanwhile, a 1000 close ends it at once, the grace ends it with
 * nothing left behind, and a token that is not the owner's, forged, expired or for an ended session
 * is SessionGone. Plus GET and DELETE /api/v1/sessions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { ResumeTokens } from '../../src/auth/resume-token.js';
import { ServerOp, type StartedInfo } from '../../src/protocol/index.js';
import type { SessionInfo } from '../../src/supervisor/session.js';
import { ADMIN_TOKEN, assertNoResidue, RESTRICTED_TOKEN, startStack, type Stack } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SHELL = { namespace: 'default', pod: 'shell', container: 'main' };

async function until<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await sleep(25);
  }
}

async function open(t: { after(fn: () => void): void }, stack: Stack, params: Record<string, string | number | string[]>, token = ADMIN_TOKEN): Promise<TermClient> {
  const c = await TermClient.connect(stack.url, params, { token });
  t.after(() => c.terminate());
  return c;
}

async function sessions(stack: Stack, token = ADMIN_TOKEN): Promise<SessionInfo[]> {
  const res = await fetch(`${stack.url}/api/v1/sessions`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  return (await res.json()) as SessionInfo[];
}

async function expectGone(c: TermClient): Promise<void> {
  const [err, closed] = await Promise.all([c.failed, c.closed]);
  assert.equal(err.code, 'SessionGone');
  assert.equal(closed.code, 4411);
}

test('a dropped connection detaches; the resume token brings back the same process, its output and its input', async (t) => {
  const stack = await startStack(t, { workers: 1, detachGraceMs: 20_000 });
  const c1 = await open(t, stack, SHELL);
  const started = await c1.started;
  assert.equal(started.resumed, false);
  assert.equal(started.role, 'owner');
  assert.equal(typeof started.resumeToken, 'string');
  c1.stdin('echo PID=$$\n');
  await c1.waitFor(/PID=(\d+)/);
  const pid = /PID=(\d+)/.exec(c1.text)![1];
  // A counter that keeps printing after the drop, then says it is done.
  c1.stdin('for i in $(seq 1 40); do echo tick-$i; sleep 0.05; done; echo LOOP-DONE\n');
  await c1.waitFor(/tick-3\r?\n/);
  c1.terminate();
  await c1.closed;
  const seen = Math.max(...[...c1.text.matchAll(/tick-(\d+)/g)].map((m) => Number(m[1])));

  // Detached: still there, with its replay ring; listed as detached.
  const [listed] = await until('the session to be detached', () => sessions(stack), (l) => l.length === 1 && l[0]!.state === 'detached');
  assert.equal(listed!.id, started.session);
  assert.ok(listed!.detachedAt !== null);
  // The time left is the grace from the detach (graceEndsAt, for the page's Sessions panel).
  assert.equal(Date.parse(listed!.graceEndsAt!) - Date.parse(listed!.detachedAt), 20_000);
  assert.equal(listed!.resumeToken, started.resumeToken);
  const g = await stack.gateway.stats();
  assert.equal(g.sessionsActive, 1);
  assert.equal(g.replayBuffers, 1);
  await sleep(600); // the loop prints into the replay ring only

  const c2 = await open(t, stack, { resume: started.resumeToken! });
  const info: StartedInfo = await c2.started;
  assert.equal(c2.frames[0]![0], ServerOp.Started, 'Started comes first, then the replay');
  assert.deepEqual(
    { session: info.session, resumed: info.resumed, role: info.role, resumeToken: info.resumeToken, container: info.container },
    { session: started.session, resumed: true, role: 'owner', resumeToken: started.resumeToken, container: 'main' },
  );
  assert.equal(typeof info.cols, 'number');
  assert.equal(typeof info.inputWindow, 'number');
  await c2.waitFor(/LOOP-DONE/);
  // The replay holds what the loop printed while nobody was attached (before the first live tick).
  const ticks = [...c2.text.matchAll(/tick-(\d+)/g)].map((m) => Number(m[1]));
  assert.ok(ticks.includes(seen + 1), `the replay has tick-${seen + 1} (written after the drop); got ${ticks.slice(0, 5).join(',')}…`);
  assert.match(c2.text, /PID=\d+/, 'the replay reaches back before the drop');
  c2.stdin('echo AGAIN=$$\n');
  await c2.waitFor(/AGAIN=\d+/);
  assert.equal(/AGAIN=(\d+)/.exec(c2.text)![1], pid, 'the same shell process');
  assert.equal((await sessions(stack))[0]!.state, 'attached');

  // The × on a tab: a 1000 close ends the session at once, grace or not.
  c2.ws.close(1000);
  await c2.closed;
  await assertNoResidue(stack, 5000);
  // The token of an ended session is SessionGone.
  await expectGone(await open(t, stack, { resume: started.resumeToken! }));
});

test('the detach grace ends the session: sessions, actors, exec sockets, replay rings, timers and processes back to zero', async (t) => {
  const stack = await startStack(t, { workers: 0, detachGraceMs: 300 });
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  await sleep(100);
  const timersBefore = timers();
  const c = await open(t, stack, { ...SHELL, command: ['sh', '-c', 'while :; do echo x; sleep 0.02; done'] });
  const { resumeToken } = await c.started;
  await c.waitFor(/x/);
  c.terminate();
  await until('the session to be detached', () => sessions(stack), (l) => l[0]?.state === 'detached');
  await assertNoResidue(stack, 5000);
  await expectGone(await open(t, stack, { resume: resumeToken! }));
  await assertNoResidue(stack, 5000);
  await until('the timers back to where they were', timers, (n) => n <= timersBefore, 3000);
});

test('with a worker thread, the gateway counts its timers (main thread and worker): the grace timer shows, then all are back to the baseline', async (t) => {
  const stack = await startStack(t, { workers: 1, detachGraceMs: 1500 });
  const timers = async (): Promise<number> => (await stack.gateway.stats()).timers;
  await sleep(200);
  const before = await timers();
  const c = await open(t, stack, { ...SHELL, command: ['sh', '-c', 'while :; do echo x; sleep 0.05; done'] });
  await c.started;
  await c.waitFor(/x/);
  c.terminate();
  await until('the session to be detached', () => sessions(stack), (l) => l[0]?.state === 'detached');
  // The actor's grace timer lives on the worker thread: the count must see it.
  await until('the grace timer to show', timers, (n) => n > before, 1000);
  await assertNoResidue(stack, 8000);
  await until('the timers back to the baseline', timers, (n) => n <= before, 3000);
});

test('resume by someone else, with a forged, expired or other-replica token: SessionGone; the session is untouched', async (t) => {
  const secret = randomBytes(32);
  const stack = await startStack(t, { workers: 1, detachGraceMs: 20_000, sessionSecret: secret, replicaId: 'replica-a' });
  const c = await open(t, stack, SHELL);
  const { resumeToken, session } = await c.started;
  const token = resumeToken!;
  c.terminate();
  await until('the session to be detached', () => sessions(stack), (l) => l[0]?.state === 'detached');

  await expectGone(await open(t, stack, { resume: token }, RESTRICTED_TOKEN));
  const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
  await expectGone(await open(t, stack, { resume: forged }));
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { o: string };
  const signer = new ResumeTokens(secret);
  const now = Math.floor(Date.now() / 1000);
  await expectGone(await open(t, stack, { resume: signer.issue({ session, owner: claims.o, replica: 'replica-a', expires: now - 1 }) }));
  await expectGone(await open(t, stack, { resume: signer.issue({ session, owner: claims.o, replica: 'replica-b', expires: now + 60 }) }));
  await expectGone(await open(t, stack, { resume: new ResumeTokens(randomBytes(32)).issue({ session, owner: claims.o, replica: 'replica-a', expires: now + 60 }) }));
  // Someone else neither sees nor ends it.
  assert.deepEqual(await sessions(stack, RESTRICTED_TOKEN), []);
  const foreign = await fetch(`${stack.url}/api/v1/sessions/${session}`, { method: 'DELETE', headers: { authorization: `Bearer ${RESTRICTED_TOKEN}` } });
  assert.equal(foreign.status, 404);

  // A token signed right (same secret, owner, replica, not expired) resumes: the checks above are the only gate.
  const again = await open(t, stack, { resume: signer.issue({ session, owner: claims.o, replica: 'replica-a', expires: now + 60 }) });
  assert.equal((await again.started).resumed, true);
  again.terminate();

  // The owner ends it over HTTP, detached or not.
  await until('detached again', () => sessions(stack), (l) => l[0]?.state === 'detached');
  const del = await fetch(`${stack.url}/api/v1/sessions/${session}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(del.status, 204);
  await assertNoResidue(stack);
  const twice = await fetch(`${stack.url}/api/v1/sessions/${session}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(twice.status, 404);
});

test('DELETE of an attached session: its socket gets SessionGone (4411)', async (t) => {
  const stack = await startStack(t, { workers: 1, detachGraceMs: 20_000 });
  const c = await open(t, stack, SHELL);
  const { session } = await c.started;
  const del = await fetch(`${stack.url}/api/v1/sessions/${session}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(del.status, 204);
  await expectGone(c);
  await assertNoResidue(stack);
});
