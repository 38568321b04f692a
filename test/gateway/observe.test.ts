/**
 * Read-only watchers (docs/protocol.md, Additions: shares, `?observe=TOKEN`, ops 5 and 6, TooSlow),
 * against the real gateway and the sandbox cluster: a share link lets another signed-in person watch
 * live output and size changes; what the watcher types never reaches the pod (a marker that must not
 * appear in the shell's output nor in the recording); join and leave reach everyone as viewers
 * frames; a revoke ends the watchers and the links; the session's end ends them; a watcher that does
 * not read is cut with TooSlow while the owner's flood completes. Nothing stays open afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { randomBytes } from 'node:crypto';
import { ShareTokens } from '../../src/auth/share-token.js';
import { tokenReplica } from '../../src/auth/signed-token.js';
import { ServerOp, type Viewer } from '../../src/protocol/index.js';
import { parseCast } from '../helpers/asciicast.js';
import { ADMIN_TOKEN, assertNoResidue, RESTRICTED_TOKEN, startStack, type Stack } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';

const SHELL = { namespace: 'default', pod: 'shell', container: 'main' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Share {
  token: string;
  url: string;
  expiresAt: string;
}

async function tempDir(t: TestContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function connect(t: TestContext, stack: Stack, params: Record<string, string | number | string[]>, token = ADMIN_TOKEN): Promise<TermClient> {
  const c = await TermClient.connect(stack.url, params, { token });
  t.after(() => c.terminate());
  return c;
}

async function share(stack: Stack, session: string, body: unknown = { ttlSeconds: 600 }, token = ADMIN_TOKEN): Promise<{ status: number; body: Share & { code?: string } }> {
  const res = await fetch(`${stack.url}/api/v1/sessions/${session}/shares`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Share & { code?: string } };
}

async function revoke(stack: Stack, session: string, token = ADMIN_TOKEN): Promise<number> {
  return (await fetch(`${stack.url}/api/v1/sessions/${session}/shares`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status;
}

/** The last viewers frame a client got, as `role:user` strings, sorted. */
function lastViewers(c: TermClient): string[] | undefined {
  const f = c.frames.filter((x) => x[0] === ServerOp.Viewers).at(-1) as readonly [6, { viewers: Viewer[] }] | undefined;
  return f?.[1].viewers.map((v) => `${v.role}:${v.user}`).sort();
}

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The last `n` bytes or so of a client's output, from its frames (cheap on a big output). */
function tail(c: TermClient, n: number): string {
  const parts: Buffer[] = [];
  let size = 0;
  for (let i = c.frames.length - 1; i >= 0 && size < n; i--) {
    const f = c.frames[i]!;
    if (f[0] !== ServerOp.Stdout) continue;
    parts.unshift(Buffer.from(f[1]));
    size += f[1].byteLength;
  }
  return Buffer.concat(parts).toString('latin1');
}

async function expectGone(c: TermClient): Promise<void> {
  const [err, closed] = await Promise.all([c.failed, c.closed]);
  assert.equal(err.code, 'SessionGone');
  assert.equal(closed.code, 4411);
}

async function auditEvents(file: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('a watcher sees the replay, live output and size changes; its input and resizes reach nothing; viewers frames on join and leave; audited', async (t) => {
  const recordDir = await tempDir(t, 'podterm-observe-rec-');
  const auditLog = join(await tempDir(t, 'podterm-observe-audit-'), 'audit.jsonl');
  const stack = await startStack(t, { workers: 1, detachGraceMs: 20_000, recordDir, recordInput: true, auditLog, replicaId: 'replica-a' });
  const owner = await connect(t, stack, { ...SHELL, cols: 80, rows: 24 });
  const { session } = await owner.started;
  owner.stdin('echo BEFORE-$((20+1))\n');
  await owner.waitFor(/BEFORE-21/);

  const created = await share(stack, session);
  assert.equal(created.status, 201);
  assert.match(created.body.url, /\/#watch=v1\./);
  assert.ok(created.body.url.endsWith(created.body.token));
  const expires = Date.parse(created.body.expiresAt) - Date.now();
  assert.ok(expires > 590_000 && expires <= 601_000, `expires in ~600 s: ${expires}`);
  assert.equal(tokenReplica(created.body.token), 'replica-a', 'the share token names the replica that holds the session');

  // Another person (the restricted token) watches with the link.
  const watcher = await connect(t, stack, { observe: created.body.token }, RESTRICTED_TOKEN);
  const info = await watcher.started;
  assert.equal(watcher.frames[0]![0], ServerOp.Started, 'Started first');
  assert.deepEqual({ session: info.session, role: info.role, resumed: info.resumed, cols: info.cols, rows: info.rows }, { session, role: 'observer', resumed: true, cols: 80, rows: 24 });
  assert.equal(info.resumeToken, undefined, 'an observer never gets the resume token');
  assert.equal(info.inputWindow, undefined);
  await watcher.waitFor(/BEFORE-21/); // the replay
  await until('the owner hears of the watcher', () => lastViewers(owner)?.length === 2);
  const ownerUser = lastViewers(owner)!.find((v) => v.startsWith('owner:'))!;
  const watcherUser = lastViewers(owner)!.find((v) => v.startsWith('observer:'))!;
  assert.notEqual(ownerUser.slice(6), watcherUser.slice(9), 'two different people');
  await until('the watcher gets the viewers list', () => lastViewers(watcher)?.length === 2);

  // Live output.
  owner.stdin('echo LIVE-$((6*7))\n');
  await watcher.waitFor(/LIVE-42/);

  // The watcher types and resizes: nothing reaches the pod, nobody hears of it.
  watcher.rawStdin('echo OBSERVER-MARKER-$((3*3))\n');
  watcher.resize(50, 10);
  await sleep(300);
  owner.stdin('stty size; echo AFTER-$((5*5))\n');
  await owner.waitFor(/AFTER-25/);
  await watcher.waitFor(/AFTER-25/);
  assert.match(owner.text, /24 80/, 'the pty keeps the owner\'s size');
  for (const c of [owner, watcher]) {
    assert.doesNotMatch(c.text, /OBSERVER-MARKER/, 'the watcher\'s input never reached the shell');
  }
  assert.equal(owner.frames.filter((f) => f[0] === ServerOp.Size).length, 0, 'an observer\'s resize is not announced');

  // The owner resizes: the watcher gets [5, cols, rows], the owner (who asked) does not.
  owner.resize(100, 30);
  await until('the size frame', () => watcher.frames.some((f) => f[0] === ServerOp.Size));
  assert.deepEqual(watcher.frames.find((f) => f[0] === ServerOp.Size), [ServerOp.Size, 100, 30]);
  owner.stdin('stty size\n');
  await watcher.waitFor(/30 100/);
  assert.equal(owner.frames.filter((f) => f[0] === ServerOp.Size).length, 0);

  // A second owner tab: the size frame reaches it too when the first tab resizes.
  const tab2 = await connect(t, stack, { resume: (await owner.started).resumeToken! });
  await tab2.started;
  await until('three viewers everywhere', () => [owner, watcher, tab2].every((c) => lastViewers(c)?.length === 3));
  owner.resize(90, 28);
  await until('size frames to the others', () => [watcher, tab2].every((c) => c.frames.some((f) => f[0] === ServerOp.Size && f[1] === 90)));
  assert.ok(!owner.frames.some((f) => f[0] === ServerOp.Size), 'never to the one that asked');
  tab2.ws.close(4000);
  await tab2.closed;

  // The watcher leaves: the owner hears of it.
  watcher.ws.close(1000);
  await watcher.closed;
  await until('the owner alone again', () => lastViewers(owner)?.length === 1);
  assert.deepEqual(lastViewers(owner), [ownerUser]);
  assert.equal((await stack.gateway.stats()).sessionsActive, 1, 'a watcher leaving ends nothing');

  owner.ws.close(1000);
  await owner.closed;
  await assertNoResidue(stack);

  const cast = parseCast(await readFile(join(recordDir, `${session}.cast`), 'utf8'));
  const recorded = cast.events.map((e) => String(e[2])).join('');
  assert.match(recorded, /LIVE-/, 'the recording has the owner\'s input and output');
  assert.doesNotMatch(recorded, /OBSERVER-MARKER/, 'the watcher\'s input is not in the recording either');

  let events: Array<Record<string, unknown>> = [];
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    events = await auditEvents(auditLog);
    if (events.some((e) => e.event === 'session.end')) break;
    await sleep(50);
  }
  const byName = (n: string) => events.filter((e) => e.event === n);
  assert.equal(byName('session.share.create').length, 1);
  assert.equal(byName('session.share.create')[0]!.expiresAt, created.body.expiresAt);
  assert.equal(byName('session.observe.start').length, 1);
  assert.equal(byName('session.observe.start')[0]!.observer, watcherUser.slice(9));
  assert.equal(byName('session.observe.start')[0]!.session, session);
  assert.equal(byName('session.observe.end').length, 1);
  assert.equal(byName('session.observe.end')[0]!.outcome, 'left');
  assert.ok(!JSON.stringify(events).includes(created.body.token), 'no token in the audit log');
});

test('revoke: watchers get SessionGone and old links are refused; no token, a forged one, a resume token or another person\'s POST get nothing', async (t) => {
  const auditLog = join(await tempDir(t, 'podterm-observe-audit-'), 'audit.jsonl');
  const secret = randomBytes(32);
  const stack = await startStack(t, { workers: 0, detachGraceMs: 20_000, sessionSecret: secret, replicaId: 'replica-a', auditLog });
  const owner = await connect(t, stack, SHELL);
  const { session, resumeToken } = await owner.started;

  // Bad requests for a share.
  assert.equal((await share(stack, session, { ttlSeconds: 0 })).status, 400);
  assert.equal((await share(stack, session, { ttlSeconds: 86_401 })).status, 400);
  assert.equal((await share(stack, session, 'nope')).status, 400);
  assert.equal((await share(stack, session, {}, RESTRICTED_TOKEN)).status, 404, 'another person cannot share it');
  assert.equal((await share(stack, '00000000-0000-0000-0000-000000000000')).status, 404);
  assert.equal((await fetch(`${stack.url}/api/v1/sessions/${session}/shares`, { method: 'POST' })).status, 401);
  assert.equal(await revoke(stack, session, RESTRICTED_TOKEN), 404, 'another person cannot revoke');
  const byDefault = await share(stack, session, {});
  assert.equal(byDefault.status, 201);
  const hour = Date.parse(byDefault.body.expiresAt) - Date.now();
  assert.ok(hour > 3_590_000 && hour <= 3_601_000, `the default is one hour: ${hour}`);

  // Without a valid share token nobody watches.
  const now = Math.floor(Date.now() / 1000);
  const refusedTokens = {
    garbage: 'v1.nothing.here',
    'a resume token': resumeToken!,
    'another secret': new ShareTokens(randomBytes(32)).issue({ session, replica: 'replica-a', generation: 0, expires: now + 60 }),
    'another replica': new ShareTokens(secret).issue({ session, replica: 'replica-b', generation: 0, expires: now + 60 }),
    expired: new ShareTokens(secret).issue({ session, replica: 'replica-a', generation: 0, expires: now - 1 }),
  };
  for (const [what, token] of Object.entries(refusedTokens)) {
    const c = await connect(t, stack, { observe: token }, RESTRICTED_TOKEN);
    await expectGone(c);
    assert.ok(!c.frames.some((f) => f[0] === ServerOp.Started || f[0] === ServerOp.Stdout), `${what}: nothing of the session`);
  }

  const link = await share(stack, session);
  const w1 = await connect(t, stack, { observe: link.body.token }, RESTRICTED_TOKEN);
  const w2 = await connect(t, stack, { observe: byDefault.body.token }, ADMIN_TOKEN); // the owner may watch too
  await Promise.all([w1.started, w2.started]);
  assert.equal((await w2.started).role, 'observer');

  assert.equal(await revoke(stack, session), 204);
  await Promise.all([expectGone(w1), expectGone(w2)]);
  for (const token of [link.body.token, byDefault.body.token]) await expectGone(await connect(t, stack, { observe: token }, RESTRICTED_TOKEN));
  await until('the owner hears they left', () => lastViewers(owner)?.length === 1);

  // The owner's session goes on, and a new link works.
  owner.stdin('echo STILL-$((2*21))\n');
  await owner.waitFor(/STILL-42/);
  const again = await share(stack, session);
  const w3 = await connect(t, stack, { observe: again.body.token }, RESTRICTED_TOKEN);
  await w3.waitFor(/STILL-42/);
  w3.terminate();
  await w3.closed;

  owner.ws.close(1000);
  await owner.closed;
  await assertNoResidue(stack);
  const events = await auditEvents(auditLog);
  assert.equal(events.filter((e) => e.event === 'session.share.revoke').length, 1);
  const ends = events.filter((e) => e.event === 'session.observe.end').map((e) => e.outcome);
  assert.deepEqual(ends.sort(), ['SessionGone', 'SessionGone', 'left']);
});

test('the session\'s end reaches its watchers as SessionGone: the owner\'s ×, the grace running out, DELETE', async (t) => {
  const stack = await startStack(t, { workers: 1, detachGraceMs: 400 });
  for (const end of ['close-1000', 'grace', 'delete'] as const) {
    const owner = await connect(t, stack, SHELL);
    const { session } = await owner.started;
    const watcher = await connect(t, stack, { observe: (await share(stack, session)).body.token }, RESTRICTED_TOKEN);
    await watcher.started;
    if (end === 'close-1000') owner.ws.close(1000);
    else if (end === 'grace') owner.terminate(); // detached; the grace ends it
    else assert.equal((await fetch(`${stack.url}/api/v1/sessions/${session}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status, 204);
    await expectGone(watcher);
    await owner.closed;
    await assertNoResidue(stack);
  }
});

test('a watcher that stops reading is closed with TooSlow; the owner\'s flood goes on and completes', async (t) => {
  const stack = await startStack(t, { workers: 1, detachGraceMs: 20_000 });
  const owner = await connect(t, stack, SHELL);
  const { session } = await owner.started;
  const watcher = await connect(t, stack, { observe: (await share(stack, session)).body.token }, RESTRICTED_TOKEN);
  await watcher.started;
  await until('the viewers frame', () => lastViewers(watcher)?.length === 2);
  watcher.stopReading();
  // A flood that lasts until we stop it: first the socket buffers of the loopback fill, then the
  // gateway buffers for the watcher past its high-water mark and cuts it (the owner hears it left).
  owner.stdin('seq 1 1000000000\n');
  await until('the watcher to be cut', () => lastViewers(owner)?.length === 1, 150_000);
  const atCut = owner.outBytes;
  t.diagnostic(`the watcher was cut after the owner had received ${(atCut / 1e6).toFixed(1)} MB`);
  // The owner's output goes on, unpaced by the watcher.
  await until('more output for the owner', () => owner.outBytes > atCut + 2_000_000, 60_000);
  owner.rawStdin('\x03');
  owner.stdin('echo FLOOD-DONE-$((1+1))\n');
  // Only the tail is read while waiting: the whole text would be copied on every check.
  await owner.waitFor((c) => /FLOOD-DONE-2/.test(tail(c, 200)), 60_000);
  assert.equal((await stack.gateway.stats()).sessionsActive, 1);
  watcher.startReading();
  const [err, closed] = await Promise.all([watcher.failed, watcher.closed]);
  assert.equal(err.code, 'TooSlow');
  assert.equal(closed.code, 4412);
  owner.ws.close(1000);
  await owner.closed;
  await assertNoResidue(stack);
});

test('a watcher may join a detached session: its replay now, live output once the owner is back', async (t) => {
  const stack = await startStack(t, { workers: 1, detachGraceMs: 20_000 });
  const owner = await connect(t, stack, SHELL);
  const { session, resumeToken } = await owner.started;
  owner.stdin('echo BEFORE-DROP-$((4*4))\n');
  await owner.waitFor(/BEFORE-DROP-16/);
  const link = (await share(stack, session)).body.token;
  owner.terminate();
  await owner.closed;
  for (let state = ''; state !== 'detached'; await sleep(25)) {
    const list = (await (await fetch(`${stack.url}/api/v1/sessions`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as Array<{ state: string }>;
    state = list[0]?.state ?? '';
  }
  const watcher = await connect(t, stack, { observe: link }, RESTRICTED_TOKEN);
  assert.equal((await watcher.started).role, 'observer');
  await watcher.waitFor(/BEFORE-DROP-16/);
  await until('the viewers frame', () => lastViewers(watcher) !== undefined);
  assert.deepEqual(lastViewers(watcher)!.map((v) => v.split(':')[0]), ['observer'], 'the watcher alone while the owner is away');
  const back = await connect(t, stack, { resume: resumeToken! });
  await back.started;
  await until('the watcher hears the owner is back', () => lastViewers(watcher)?.length === 2);
  back.stdin('echo BACK-$((5*6))\n');
  await watcher.waitFor(/BACK-30/);
  back.ws.close(1000);
  await expectGone(watcher);
  await assertNoResidue(stack);
});

test('a watcher that leaves a detached session, or is cut by a revoke there, does not stop the owner\'s resume', async (t) => {
  // Regression (the churn-resume soak with watchers): the actor counted an observer's leave as a
  // detach (new epoch) while the main thread did not, so everything after, the resume's Started
  // and the grace's SessionGone frame included, was dropped as stale.
  const stack = await startStack(t, { workers: 1, detachGraceMs: 20_000 });
  for (const how of ['leave', 'revoke'] as const) {
    const owner = await connect(t, stack, SHELL);
    const { session, resumeToken } = await owner.started;
    const link = (await share(stack, session)).body.token;
    owner.terminate();
    await owner.closed;
    for (let state = ''; state !== 'detached'; await sleep(25)) {
      const list = (await (await fetch(`${stack.url}/api/v1/sessions`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as Array<{ id: string; state: string }>;
      state = list.find((s) => s.id === session)?.state ?? '';
    }
    const watcher = await connect(t, stack, { observe: link }, RESTRICTED_TOKEN);
    await watcher.started;
    if (how === 'leave') {
      watcher.ws.close(1000);
      await watcher.closed;
    } else {
      assert.equal(await revoke(stack, session), 204);
      await expectGone(watcher);
    }
    await sleep(200);
    const back = await connect(t, stack, { resume: resumeToken! });
    const started = await Promise.race([back.started.then(() => 'started'), sleep(5000).then(() => 'no Started within 5 s')]);
    assert.equal(started, 'started', `${how}: the owner's resume`);
    back.stdin('echo BACK-$((6*7))\n');
    await back.waitFor(/BACK-42/);
    back.ws.close(1000);
    await back.closed;
    await assertNoResidue(stack);
  }
});
