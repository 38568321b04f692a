/**
 * Issue 9, the gateway side, with real components: the OpenID provider's own login forms, the
 * gateway acting with the sandbox's least-privilege `podterm-gateway` identity, and the sandbox's
 * audit log as the proof of whom the cluster believes it served.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignJWT, generateKeyPair } from 'jose';
import { assertNoResidue } from '../helpers/gateway-stack.js';
import { ADMIN_TOKEN, cookieOf, execEvents, signInAt, startIdentityStack, type IdentityStack } from '../helpers/identity-stack.js';
import { TermClient, UpgradeRefused } from '../helpers/term-client.js';

const SHELL = { namespace: 'default', pod: 'shell', container: 'main' };

async function get(stack: IdentityStack, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.url}${path}`, { headers });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function waitForEvents(stack: IdentityStack, pred: (e: Awaited<ReturnType<IdentityStack['audit']>>[number]) => boolean) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = (await stack.audit()).filter(pred);
    if (found.length > 0 || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An ID token from the test IdP's own key; `claims` override the valid defaults. */
async function idToken(stack: IdentityStack, claims: Record<string, unknown> = {}, header: { alg?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return stack.idp.sign({ iss: stack.idp.issuer, aud: stack.idp.clientId, sub: 'alice', email: 'alice@example.com', email_verified: true,
    groups: ['dev'], iat: now, exp: now + 600, ...claims }, header);
}

test('alice signs in with the provider\'s forms: whoami, pods she may open, and an exec the cluster sees as alice impersonated by the gateway', async (t) => {
  const stack = await startIdentityStack(t);
  const agent = await signInAt(stack, 'alice');
  const cookie = cookieOf(agent);
  const who = await get(stack, '/api/v1/whoami', { cookie });
  assert.equal(who.status, 200);
  assert.equal(who.body.username, 'alice@example.com');
  assert.deepEqual(who.body.groups, ['dev']);
  assert.equal(who.body.via, 'oidc');
  assert.ok(who.body.expiresAt > Date.now() / 1000);

  const pods = await get(stack, '/api/v1/namespaces/default/pods', { cookie });
  assert.equal(pods.status, 200);
  assert.equal(pods.body.execAllowed, true);
  assert.ok(pods.body.items.every((p: { execAllowed: boolean }) => p.execAllowed === true));
  // alice may not list namespaces: the gateway falls back to its context's namespace.
  const ns = await get(stack, '/api/v1/namespaces', { cookie });
  assert.deepEqual(ns.body.items, [{ name: 'default' }]);

  const c = await TermClient.connect(stack.url, { ...SHELL, command: ['sh', '-c', 'echo hi-from-$0; sleep 0.2'] }, { cookie, origin: stack.url });
  t.after(() => c.terminate());
  await c.started;
  assert.equal((await c.exited).exitCode, 0);
  const [exec] = await waitForEvents(stack, (e) => e.objectRef?.subresource === 'exec' && e.stage === 'ResponseComplete');
  assert.ok(exec, 'the exec is in the audit log');
  assert.equal(exec.user.username, 'podterm-gateway');
  assert.equal(exec.impersonatedUser?.username, 'alice@example.com');
  assert.deepEqual(exec.impersonatedUser?.groups, ['dev', 'system:authenticated']);
  // Every request the gateway made for alice carried her: lists, reviews, the exec.
  const forAlice = (await stack.audit()).filter((e) => e.user.username === 'podterm-gateway');
  assert.ok(forAlice.length >= 4);
  assert.ok(forAlice.every((e) => e.impersonatedUser?.username === 'alice@example.com'), JSON.stringify(forAlice.map((e) => e.requestURI)));
  await assertNoResidue(stack);
});

test('bob: pods marked not allowed, and a direct exec gets Forbidden (4403) with no exec request at the API server', async (t) => {
  const stack = await startIdentityStack(t);
  const cookie = cookieOf(await signInAt(stack, 'bob'));
  const pods = await get(stack, '/api/v1/namespaces/default/pods', { cookie });
  assert.equal(pods.status, 200);
  assert.equal(pods.body.execAllowed, false);
  assert.ok(pods.body.items.length > 0);
  assert.ok(pods.body.items.every((p: { execAllowed: boolean }) => p.execAllowed === false));
  // bob may list namespaces: he sees them all.
  const ns = await get(stack, '/api/v1/namespaces', { cookie });
  assert.ok(ns.body.items.length > 1);

  const c = await TermClient.connect(stack.url, SHELL, { cookie, origin: stack.url });
  t.after(() => c.terminate());
  const failed = await c.failed;
  assert.equal(failed.code, 'Forbidden');
  assert.match(failed.message, /namespace default/);
  assert.equal((await c.closed).code, 4403);
  const events = await stack.audit();
  assert.deepEqual(execEvents(events, 'shell'), [], 'no exec request reached the API server');
  const review = events.find((e) => e.objectRef?.resource === 'selfsubjectaccessreviews' && e.impersonatedUser?.username === 'bob@example.com');
  assert.ok(review, 'the review was asked as bob');
  await assertNoResidue(stack);
});

test('bearer ID tokens: a valid one works for a non-browser client; expired, wrong audience, wrong issuer, alg none and re-signed get 401 and never reach the API server', async (t) => {
  const stack = await startIdentityStack(t);
  const good = await idToken(stack);
  const who = await get(stack, '/api/v1/whoami', { authorization: `Bearer ${good}` });
  assert.equal(who.status, 200);
  assert.equal(who.body.username, 'alice@example.com');
  const c = await TermClient.connect(stack.url, { ...SHELL, command: ['sh', '-c', 'sleep 0.2'] }, { token: good });
  t.after(() => c.terminate());
  await c.started;
  assert.equal((await c.exited).exitCode, 0);
  const [exec] = await waitForEvents(stack, (e) => e.objectRef?.subresource === 'exec');
  assert.equal(exec?.impersonatedUser?.username, 'alice@example.com');
  await assertNoResidue(stack);

  const now = Math.floor(Date.now() / 1000);
  const other = await generateKeyPair('RS256');
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const payload = { iss: stack.idp.issuer, aud: stack.idp.clientId, sub: 'alice', email: 'alice@example.com', groups: ['dev'], iat: now, exp: now + 600 };
  const bad: Record<string, string> = {
    expired: await idToken(stack, { iat: now - 7200, exp: now - 3600 }),
    'wrong audience': await idToken(stack, { aud: 'someone-else' }),
    'wrong issuer': await idToken(stack, { iss: 'http://127.0.0.1:1' }),
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`,
    're-signed': await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'test-idp-key-1', typ: 'JWT' }).sign(other.privateKey),
    tampered: (() => { const [h, , s] = good.split('.'); return `${h}.${b64({ ...payload, groups: ['system:masters'] })}.${s}`; })(),
  };
  const before = (await stack.audit()).length;
  for (const [what, token] of Object.entries(bad)) {
    for (const path of ['/api/v1/whoami', '/api/v1/namespaces', '/api/v1/namespaces/default/pods']) {
      const r = await get(stack, path, { authorization: `Bearer ${token}` });
      assert.equal(r.status, 401, `${what} ${path}`);
      assert.equal(r.body.code, 'Unauthorized');
    }
    await assert.rejects(TermClient.connect(stack.url, SHELL, { token }), (err: unknown) => err instanceof UpgradeRefused && err.status === 401, what);
  }
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await stack.audit()).length, before, 'a refused token made no request to the API server');
  await assertNoResidue(stack);
});

test('inbound Impersonate-* headers are never forwarded: the person stays who they signed in as', async (t) => {
  const stack = await startIdentityStack(t);
  const cookie = cookieOf(await signInAt(stack, 'bob'));
  const smuggle = { 'Impersonate-User': 'admin', 'Impersonate-Group': 'system:masters' };
  const pods = await get(stack, '/api/v1/namespaces/default/pods', { cookie, ...smuggle });
  assert.equal(pods.body.execAllowed, false);
  const c = await TermClient.connect(stack.url, SHELL, { cookie, origin: stack.url, headers: smuggle });
  t.after(() => c.terminate());
  assert.equal((await c.failed).code, 'Forbidden');
  const gatewayCalls = (await stack.audit()).filter((e) => e.user.username === 'podterm-gateway');
  assert.ok(gatewayCalls.length > 0);
  for (const e of gatewayCalls) assert.deepEqual(e.impersonatedUser, { username: 'bob@example.com', groups: ['ops', 'system:authenticated'] });
  await assertNoResidue(stack);
});

test('sign out clears the cookie and sends the browser to the provider\'s end_session; the API then answers 401', async (t) => {
  const stack = await startIdentityStack(t);
  const agent = await signInAt(stack, 'alice');
  assert.equal((await get(stack, '/api/v1/namespaces', { cookie: cookieOf(agent) })).status, 200);
  const res = await fetch(`${stack.url}/auth/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: cookieOf(agent), origin: stack.url } });
  assert.equal(res.status, 303);
  const location = new URL(res.headers.get('location') ?? '');
  assert.equal(location.origin, stack.idp.issuer);
  assert.equal(location.searchParams.get('post_logout_redirect_uri'), `${stack.url}/`);
  assert.match(res.headers.getSetCookie().join('\n'), /^podterm_session=; .*Max-Age=0/m);
  const page = await fetch(`${stack.url}/`, { redirect: 'manual' });
  assert.equal(page.status, 302, 'without a session the page goes to sign-in');
  assert.equal(page.headers.get('location'), '/auth/login');
  assert.equal((await get(stack, '/api/v1/namespaces', {})).status, 401);
  // A cross-site form cannot sign anyone out.
  const foreign = await fetch(`${stack.url}/auth/logout`, { method: 'POST', redirect: 'manual', headers: { origin: 'http://evil.example' } });
  assert.equal(foreign.status, 403);
});

test('static tokens: a context token acts as that context (no impersonation); --person tokens are impersonated, with one header line per group', async (t) => {
  const stack = await startIdentityStack(t, { tokens: [{ token: 'carol-token-0123456789', username: 'carol', groups: ['dev', 'ops'] }] });
  const admin = await get(stack, '/api/v1/whoami', { authorization: `Bearer ${ADMIN_TOKEN}` });
  assert.match(admin.body.username, /^token:[0-9a-f]{12}$/, 'named by a hash of the token, never the token');
  assert.deepEqual({ ...admin.body, username: '' }, { username: '', groups: [], via: 'token', expiresAt: null });
  const a = await TermClient.connect(stack.url, { namespace: 'load', pod: 'echo', container: 'main' }, { token: ADMIN_TOKEN });
  t.after(() => a.terminate());
  await a.started;
  a.terminate();
  const [adminExec] = await waitForEvents(stack, (e) => e.objectRef?.subresource === 'exec' && e.objectRef.name === 'echo');
  assert.equal(adminExec?.user.username, 'admin');
  assert.equal(adminExec?.impersonatedUser, undefined);

  const carol = await get(stack, '/api/v1/whoami', { authorization: 'Bearer carol-token-0123456789' });
  assert.deepEqual(carol.body, { username: 'carol', groups: ['dev', 'ops'], via: 'token', expiresAt: null });
  const c = await TermClient.connect(stack.url, { ...SHELL, command: ['sh', '-c', 'sleep 0.2'] }, { token: 'carol-token-0123456789' });
  t.after(() => c.terminate());
  await c.started;
  assert.equal((await c.exited).exitCode, 0);
  const [exec] = await waitForEvents(stack, (e) => e.objectRef?.subresource === 'exec' && e.objectRef.name === 'shell');
  assert.equal(exec?.user.username, 'podterm-gateway');
  assert.deepEqual(exec?.impersonatedUser, { username: 'carol', groups: ['dev', 'ops', 'system:authenticated'] });
  // API calls too (client-node's own request path): two Impersonate-Group lines, not "dev,ops".
  assert.equal((await get(stack, '/api/v1/namespaces/default/pods', { authorization: 'Bearer carol-token-0123456789' })).status, 200);
  const [list] = await waitForEvents(stack, (e) => e.verb === 'list' && e.impersonatedUser?.username === 'carol');
  assert.deepEqual(list?.impersonatedUser?.groups, ['dev', 'ops', 'system:authenticated']);
  await assertNoResidue(stack);
});

test('per-person limits key on the username: a cookie and a bearer token of the same person share one allowance', async (t) => {
  const stack = await startIdentityStack(t, { gateway: { maxSessionsPerToken: 1 } });
  const cookie = cookieOf(await signInAt(stack, 'alice'));
  const first = await TermClient.connect(stack.url, SHELL, { cookie, origin: stack.url });
  t.after(() => first.terminate());
  await first.started;
  const second = await TermClient.connect(stack.url, SHELL, { token: await idToken(stack) });
  t.after(() => second.terminate());
  assert.equal((await second.failed).code, 'TooManySessions');
  // Another person has their own allowance.
  const other = await TermClient.connect(stack.url, { namespace: 'load', pod: 'echo', container: 'main' }, { token: ADMIN_TOKEN });
  t.after(() => other.terminate());
  await other.started;
  first.terminate();
  other.terminate();
  await assertNoResidue(stack);
});

test('--identity passthrough: the person\'s ID token is the bearer, for browser sessions and bearer clients alike', async (t) => {
  const stack = await startIdentityStack(t, { identity: 'passthrough' });
  const cookie = cookieOf(await signInAt(stack, 'alice'));
  const pods = await get(stack, '/api/v1/namespaces/default/pods', { cookie });
  assert.equal(pods.status, 200, JSON.stringify(pods.body));
  assert.equal(pods.body.execAllowed, true);
  const c = await TermClient.connect(stack.url, { ...SHELL, command: ['sh', '-c', 'sleep 0.2'] }, { cookie, origin: stack.url });
  t.after(() => c.terminate());
  await c.started;
  assert.equal((await c.exited).exitCode, 0);
  const [exec] = await waitForEvents(stack, (e) => e.objectRef?.subresource === 'exec');
  assert.equal(exec?.user.username, 'alice@example.com');
  assert.equal(exec?.impersonatedUser, undefined);
  const bob = await get(stack, '/api/v1/namespaces/default/pods', { authorization: `Bearer ${await idToken(stack, { sub: 'bob', email: 'bob@example.com', groups: ['ops'] })}` });
  assert.equal(bob.body.execAllowed, false);
  const calls = (await stack.audit()).filter((e) => e.user.username !== 'alice@example.com' && e.user.username !== 'bob@example.com');
  assert.deepEqual(calls.map((e) => e.requestURI), [], 'the gateway used no credentials of its own');
  await assertNoResidue(stack);
});
