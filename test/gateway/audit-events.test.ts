/**
 * The audit trail through the real gateway (issue 11, "Audit"): every event other than a
 * session's start and end — session.resume, file.upload/download, debug.start, log.view,
 * auth.login/logout/failed — appears once, names the right person and where the request came
 * from, and never contains a token. Static tokens here; OIDC sign-in and bearer ID tokens below
 * with the real oidc-provider.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ADMIN_TOKEN, RESTRICTED_TOKEN, type Stack } from '../helpers/gateway-stack.js';
import { signInAt, startIdentityStack } from '../helpers/identity-stack.js';
import { TermClient } from '../helpers/term-client.js';
import { api, assertNoToolResidue, filesPath, toolStack } from '../tools/tool-stack.js';

type Line = Record<string, unknown> & { event: string };
const UA = 'audit-test-agent/1.0';
const WRONG_TOKEN = 'wrong-token-must-never-be-logged-0123456789';

async function auditFile(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-audit-events-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'audit.jsonl');
}

async function lines(file: string): Promise<Line[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
}

/** The caller's live sessions as the gateway lists them (GET /api/v1/sessions). */
async function liveSessions(stack: Stack): Promise<Array<{ id: string; state: string }>> {
  const res = await api(stack, '/api/v1/sessions');
  assert.equal(res.status, 200);
  return (await res.json()) as Array<{ id: string; state: string }>;
}

/** Polls the session list until `ok`; fails with the last list after `ms`. */
async function untilSessions(stack: Stack, what: string, ok: (l: Array<{ id: string; state: string }>) => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let l = await liveSessions(stack); !ok(l); l = await liveSessions(stack)) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; sessions: ${JSON.stringify(l)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The one line of `event` (fails when there are none or several). */
function one(all: Line[], event: string): Line {
  const found = all.filter((l) => l.event === event);
  assert.equal(found.length, 1, `${event} appears once: ${JSON.stringify(all.map((l) => l.event))}`);
  return found[0]!;
}

test('static tokens: resume, files, logs, debug, token sign-in, sign-out and refused tokens are audited once, as the right person, without a token', async (t) => {
  const file = await auditFile(t);
  const stack = await toolStack(t, { auditLog: file, replicaId: 'replica-audit', detachGraceMs: 20_000 });
  const admin = `token:${createHash('sha256').update(ADMIN_TOKEN).digest('hex').slice(0, 12)}`;
  const headers = { 'user-agent': UA };
  const scratch = await mkdtemp(join(tmpdir(), 'podterm-audit-files-'));
  t.after(() => rm(scratch, { recursive: true, force: true }));

  // A terminal, dropped and resumed, then ended. The client's own close says nothing of when the
  // gateway sees the drop (its FIN may come after the resume's upgrade on a loaded machine): then
  // the resume joined a still-attached session, the 1000 close below left it to the dropped socket,
  // and the session was detached for its 20 s grace at the residue check. So wait for the detach.
  const c1 = await TermClient.connect(stack.url, { namespace: 'default', pod: 'shell', container: 'main' }, { token: ADMIN_TOKEN, headers });
  t.after(() => c1.terminate());
  const started = await c1.started;
  c1.terminate();
  await c1.closed;
  await untilSessions(stack, 'the dropped session to be detached', (l) => l.length === 1 && l[0]!.id === started.session && l[0]!.state === 'detached');
  const c2 = await TermClient.connect(stack.url, { resume: started.resumeToken! }, { token: ADMIN_TOKEN, headers: { 'user-agent': `${UA} resumed` } });
  t.after(() => c2.terminate());
  assert.equal((await c2.started).resumed, true);
  c2.ws.close(1000);
  await c2.closed;
  // The owner's last socket closed with 1000: the session ends (not detached), before any residue check.
  await untilSessions(stack, 'the session to end after the 1000 close', (l) => l.length === 0);

  // Files, logs, debug.
  const target = join(scratch, 'up.txt');
  const up = await api(stack, filesPath('shell', 'main', target), { method: 'PUT', body: 'hello audit\n', headers });
  assert.equal(up.status, 200, await up.clone().text());
  const down = await api(stack, filesPath('shell', 'main', target), { headers });
  assert.equal(await down.text(), 'hello audit\n');
  const log = await api(stack, '/api/v1/namespaces/default/pods/logs/log?container=main&tailLines=1', { headers });
  assert.equal(log.status, 200);
  await log.text();
  const debug = await api(stack, '/api/v1/namespaces/default/pods/distroless/debug', { method: 'POST', body: JSON.stringify({ target: 'app' }), headers: { ...headers, 'content-type': 'application/json' } });
  assert.equal(debug.status, 200, await debug.clone().text());
  const { container } = (await debug.json()) as { container: string };

  // The token exchange, a sign-out, and refused tokens (as a bearer and in the exchange).
  const login = await fetch(`${stack.url}/?token=${RESTRICTED_TOKEN}`, { redirect: 'manual', headers });
  assert.equal(login.status, 303);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const logout = await fetch(`${stack.url}/auth/logout`, { method: 'POST', redirect: 'manual', headers: { ...headers, cookie, accept: 'application/json' } });
  assert.equal(logout.status, 200);
  assert.equal((await fetch(`${stack.url}/api/v1/whoami`, { headers: { ...headers, authorization: `Bearer ${WRONG_TOKEN}` } })).status, 401);
  assert.equal((await fetch(`${stack.url}/?token=${WRONG_TOKEN}x`, { redirect: 'manual', headers })).status, 401);
  // No credential at all is not a failed authentication: nothing is written for it.
  assert.equal((await fetch(`${stack.url}/api/v1/whoami`)).status, 401);
  await assertNoToolResidue(stack);
  await stack.gateway.close(); // flushes the audit log

  const all = await lines(file);
  const text = await readFile(file, 'utf8');
  for (const secret of [ADMIN_TOKEN, RESTRICTED_TOKEN, WRONG_TOKEN]) assert.ok(!text.includes(secret), 'no token in the audit log');
  for (const l of all) assert.equal(l.replica, 'replica-audit', l.event);

  const resume = one(all, 'session.resume');
  assert.deepEqual(
    [resume.user, resume.via, resume.session, resume.namespace, resume.pod, resume.container, resume.userAgent],
    [admin, 'token', started.session, 'default', 'shell', 'main', `${UA} resumed`],
  );
  assert.equal(resume.remoteAddress, one(all, 'session.start').remoteAddress);
  assert.equal(one(all, 'session.start').userAgent, UA);

  const upl = one(all, 'file.upload');
  assert.deepEqual([upl.user, upl.pod, upl.container, upl.path, upl.size, upl.outcome, upl.userAgent], [admin, 'shell', 'main', target, 12, 'ok', UA]);
  assert.match(String(upl.remoteAddress), /127\.0\.0\.1/);
  const dl = one(all, 'file.download');
  assert.deepEqual([dl.user, dl.path, dl.size, dl.outcome], [admin, target, 12, 'ok']);
  const lv = one(all, 'log.view');
  assert.deepEqual([lv.user, lv.namespace, lv.pod, lv.container, lv.outcome], [admin, 'default', 'logs', 'main', 'ok']);
  const dbg = one(all, 'debug.start');
  assert.deepEqual([dbg.user, dbg.pod, dbg.target, dbg.image, dbg.container, dbg.outcome], [admin, 'distroless', 'app', 'busybox:1.36', container, 'ok']);

  const restricted = `token:${createHash('sha256').update(RESTRICTED_TOKEN).digest('hex').slice(0, 12)}`;
  const li = one(all, 'auth.login');
  assert.deepEqual([li.user, li.via, li.userAgent], [restricted, 'token', UA]);
  const lo = one(all, 'auth.logout');
  assert.deepEqual([lo.user, lo.via], [restricted, 'token']);
  const failed = all.filter((l) => l.event === 'auth.failed');
  assert.deepEqual(failed.map((l) => [l.via, l.reason, l.userAgent, l.user]), [['bearer', 'unknown-token', UA, undefined], ['token', 'unknown-token', UA, undefined]]);
});

test('OIDC: a provider sign-in is auth.login as that person, a refused callback and a bad bearer ID token are auth.failed without the token', async (t) => {
  const file = await auditFile(t);
  const stack = await startIdentityStack(t, { workers: 0, gateway: { auditLog: file } });
  await signInAt(stack, 'alice');
  // A callback this browser did not start (no state cookie): refused.
  const refused = await fetch(`${stack.url}/auth/callback?code=forged-code&state=forged-state`, { headers: { 'user-agent': UA } });
  assert.equal(refused.status, 401);
  const now = Math.floor(Date.now() / 1000);
  const expired = await stack.idp.sign({ iss: stack.idp.issuer, aud: stack.idp.clientId, sub: 'alice', email: 'alice@example.com', email_verified: true, groups: ['dev'], iat: now - 7200, exp: now - 3600 });
  assert.equal((await fetch(`${stack.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${expired}`, 'user-agent': UA } })).status, 401);
  await stack.gateway.close();

  const all = await lines(file);
  const text = await readFile(file, 'utf8');
  assert.ok(!text.includes(expired) && !text.includes(expired.split('.')[2]!), 'no token in the audit log');
  const li = one(all, 'auth.login');
  assert.deepEqual([li.user, li.groups, li.via], ['alice@example.com', ['dev'], 'oidc']);
  const failed = all.filter((l) => l.event === 'auth.failed');
  assert.deepEqual(failed.map((l) => [l.via, l.reason, l.userAgent]), [['oidc', 'login-state', UA], ['bearer', 'expired', UA]]);
});
