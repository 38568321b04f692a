/**
 * Issue 12: every container tool "goes through the same identity, permission check
 * (SelfSubjectAccessReview) and audit as a terminal does". With the sandbox's RBAC (alice: exec,
 * attach and logs in default; bob: read-only with logs, no exec; carol: nothing) and the gateway
 * acting as its least-privilege identity, a refused tool answers 403 Forbidden, the sandbox's own
 * audit log shows that no request reached the exec, attach, log or ephemeralcontainers endpoint,
 * and podterm's audit log says who was refused.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { assertNoResidue } from '../helpers/gateway-stack.js';
import { cookieOf, signInAt, startIdentityStack, type AuditEvent, type IdentityStack } from '../helpers/identity-stack.js';
import { TermClient } from '../helpers/term-client.js';

const CAROL = 'carol-token-0123456789-abcdef';
const TARGET = `/tmp/podterm-access-test-${process.pid}`;
const FILES = `/api/v1/namespaces/default/pods/shell/files?container=main&path=${encodeURIComponent(TARGET)}`;
const LOG = '/api/v1/namespaces/default/pods/logs/log?container=main&tailLines=1';
const DEBUG = '/api/v1/namespaces/default/pods/distroless/debug';

type Line = Record<string, unknown> & { event: string };

async function stackWithAudit(t: TestContext): Promise<{ stack: IdentityStack; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-tool-access-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'audit.jsonl');
  const stack = await startIdentityStack(t, { workers: 0, tokens: [{ token: CAROL, username: 'carol', groups: [] }], gateway: { auditLog: file } });
  return { stack, file };
}

async function expectForbidden(res: Response, what: string): Promise<void> {
  assert.equal(res.status, 403, what);
  const body = (await res.json()) as { code: string; message: string };
  assert.equal(body.code, 'Forbidden', what);
  assert.match(body.message, /namespace default/, what);
}

/** Requests that reached a pod subresource endpoint (anything but the reviews). */
function reached(events: AuditEvent[], subresource: string): AuditEvent[] {
  return events.filter((e) => e.objectRef?.resource === 'pods' && e.objectRef.subresource === subresource);
}

async function podtermLines(stack: IdentityStack, file: string): Promise<Line[]> {
  await stack.gateway.close(); // flushes the audit log
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
}

test('bob (no exec, no attach, no debug): files, attach and debug are Forbidden before anything reaches the pod; his logs are allowed', async (t) => {
  const { stack, file } = await stackWithAudit(t);
  const cookie = cookieOf(await signInAt(stack, 'bob'));
  await expectForbidden(await fetch(stack.url + FILES, { headers: { cookie } }), 'download');
  await expectForbidden(await fetch(stack.url + FILES, { method: 'PUT', body: 'x', headers: { cookie } }), 'upload');
  await expectForbidden(await fetch(stack.url + DEBUG, { method: 'POST', body: '{"target":"app"}', headers: { cookie } }), 'debug');
  const attach = await TermClient.connect(stack.url, { namespace: 'default', pod: 'shell', container: 'main', attach: 'true' }, { cookie, origin: stack.url });
  t.after(() => attach.terminate());
  assert.equal((await attach.failed).code, 'Forbidden');
  assert.match((await attach.failed).message, /attach/);
  assert.equal((await attach.closed).code, 4403);
  const log = await fetch(stack.url + LOG, { headers: { cookie } });
  assert.equal(log.status, 200, 'bob may read logs');
  await log.text();
  await assertNoResidue(stack);

  const events = await stack.audit();
  assert.deepEqual(reached(events, 'exec'), [], 'no exec request reached the API server');
  assert.deepEqual(reached(events, 'attach'), [], 'no attach request reached the API server');
  assert.deepEqual(reached(events, 'ephemeralcontainers'), [], 'no ephemeral container patch reached the API server');
  assert.equal(reached(events, 'log').length, 1, 'the allowed log request did');
  const reviews = events.filter((e) => e.objectRef?.resource === 'selfsubjectaccessreviews' && e.impersonatedUser?.username === 'bob@example.com');
  assert.ok(reviews.length >= 5, `each action was reviewed as bob (${reviews.length})`);

  const lines = await podtermLines(stack, file);
  const refused = lines.filter((l) => l.outcome === 'Forbidden').map((l) => [l.event, l.user, l.pod]);
  assert.deepEqual(refused.sort(), [
    ['debug.start', 'bob@example.com', 'distroless'],
    ['file.download', 'bob@example.com', 'shell'],
    ['file.upload', 'bob@example.com', 'shell'],
    ['session.forbidden', 'bob@example.com', 'shell'],
  ]);
  assert.deepEqual(lines.filter((l) => l.event === 'log.view').map((l) => [l.user, l.outcome]), [['bob@example.com', 'ok']]);
});

test('alice may copy files but not start a debug container; carol (no rights) may not read logs', async (t) => {
  const { stack, file } = await stackWithAudit(t);
  const cookie = cookieOf(await signInAt(stack, 'alice'));
  t.after(() => rm(TARGET, { force: true }));
  const up = await fetch(stack.url + FILES, { method: 'PUT', body: 'from alice\n', headers: { cookie } });
  assert.equal(up.status, 200, await up.clone().text());
  await expectForbidden(await fetch(stack.url + DEBUG, { method: 'POST', body: '{"target":"app"}', headers: { cookie } }), 'debug');
  await expectForbidden(await fetch(stack.url + LOG, { headers: { authorization: `Bearer ${CAROL}` } }), 'carol logs');
  await assertNoResidue(stack);

  const events = await stack.audit();
  const execs = reached(events, 'exec');
  assert.ok(execs.length > 0 && execs.every((e) => e.impersonatedUser?.username === 'alice@example.com'), 'the upload ran as alice');
  assert.deepEqual(reached(events, 'ephemeralcontainers'), []);
  assert.deepEqual(reached(events, 'log'), []);

  const lines = await podtermLines(stack, file);
  assert.deepEqual(lines.filter((l) => l.event !== 'auth.login').map((l) => [l.event, l.user, l.outcome]), [
    ['file.upload', 'alice@example.com', 'ok'],
    ['debug.start', 'alice@example.com', 'Forbidden'],
    ['log.view', 'carol', 'Forbidden'],
  ]);
});
