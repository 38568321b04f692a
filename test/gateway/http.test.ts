/** HTTP side: native uWS, health, the token -> cookie exchange, the page with its CSP, the JSON API. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { assertNativeUws } from '../../src/server/gateway.js';
import { CONTENT_SECURITY_POLICY } from '../../src/server/static-files.js';
import { ADMIN_TOKEN, RESTRICTED_TOKEN, startGatewayFor, startSandboxFor } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';

test('uWebSockets.js runs its native binary, not the JS fallback', () => {
  assert.doesNotThrow(() => assertNativeUws());
});

test('health, auth, cookie, page, API', async (t) => {
  const webRoot = await mkdtemp(join(tmpdir(), 'podterm-web-'));
  t.after(() => rm(webRoot, { recursive: true, force: true }));
  await writeFile(join(webRoot, 'index.html'), '<!doctype html><title>podterm test page</title>');
  await writeFile(join(webRoot, 'main.js'), 'console.log(1)');
  const sandbox = await startSandboxFor(t);
  const gw = await startGatewayFor(t, sandbox, { workers: 0, webRoot });
  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(gw.url + path, { headers, redirect: 'manual' });

  assert.equal((await get('/healthz')).status, 200);
  assert.equal((await get('/readyz')).status, 200);
  const metrics = await (await get('/metrics')).text();
  for (const name of ['podterm_sessions_active 0', 'podterm_actors_active 0', 'podterm_bytes_total{direction="in"}', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'podterm_close_deadline_misses_total 0']) {
    assert.ok(metrics.includes(name), name);
  }

  // Not signed in: the page is not served.
  const anon = await get('/');
  assert.equal(anon.status, 401);
  assert.match(await anon.text(), /token/);
  assert.equal((await get('/main.js')).status, 401);
  assert.equal((await get('/api/v1/namespaces')).status, 401);
  assert.equal((await get('/?token=wrong')).status, 401);

  // The token becomes a signed HttpOnly cookie (never the token), and the redirect drops it from the URL.
  const login = await get(`/?token=${ADMIN_TOKEN}`);
  assert.equal(login.status, 303);
  assert.equal(login.headers.get('location'), '/');
  const setCookie = login.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /^podterm_session=[\w.-]{60,}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/);
  assert.ok(!setCookie.includes(ADMIN_TOKEN));
  const cookie = setCookie.split(';')[0] as string;
  const behindTls = await get(`/?token=${ADMIN_TOKEN}`, { 'x-forwarded-proto': 'https' });
  assert.match(behindTls.headers.get('set-cookie') ?? '', /; Secure$/);

  const page = await get('/', { cookie });
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  assert.match(await page.text(), /podterm test page/);
  const js = await get('/main.js', { cookie });
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  assert.equal((await get('/..%2Fetc', { cookie })).status, 404);
  assert.equal((await get('/missing.js', { cookie })).status, 404);

  const ns = (await (await get('/api/v1/namespaces', { cookie })).json()) as { items: Array<{ name: string }> };
  assert.ok(ns.items.some((n) => n.name === 'default') && ns.items.some((n) => n.name === 'load'));
  const pods = (await (await get('/api/v1/namespaces/default/pods', { cookie })).json()) as {
    items: Array<{ name: string; phase: string; ready: boolean; defaultContainer: string | null; containers: Array<{ name: string; running: boolean; state: string; reason: string | null }> }>;
  };
  const byName = new Map(pods.items.map((p) => [p.name, p]));
  assert.equal(byName.get('shell')?.containers[0]?.running, true);
  assert.equal(byName.get('multi')?.defaultContainer, 'app');
  assert.equal(byName.get('stopped')?.containers[0]?.state, 'waiting');
  assert.equal(byName.get('stopped')?.containers[0]?.reason, 'CrashLoopBackOff');
  assert.equal(byName.get('done')?.phase, 'Succeeded');

  // Restricted identity: may not list namespaces, falls back to its configured ones; never a 500.
  const bearer = { authorization: `Bearer ${RESTRICTED_TOKEN}` };
  const rns = await get('/api/v1/namespaces', bearer);
  assert.equal(rns.status, 200);
  assert.deepEqual(((await rns.json()) as { items: Array<{ name: string }> }).items.map((n) => n.name), ['load']);
  const forbidden = await get('/api/v1/namespaces/default/pods', bearer);
  assert.equal(forbidden.status, 403);
  assert.equal(((await forbidden.json()) as { code: string }).code, 'Forbidden');
  assert.equal((await get('/api/v1/namespaces/load/pods', bearer)).status, 200);
  assert.equal((await get('/api/v1/namespaces/Bad_NS/pods', bearer)).status, 400);

  // The cookie also authenticates the WebSocket.
  const c = await TermClient.connect(gw.url, { namespace: 'default', pod: 'shell', container: 'main', command: ['sh', '-c', 'sleep 0.3'] }, { cookie, origin: gw.url });
  t.after(() => c.terminate());
  assert.equal((await c.exited).exitCode, 0);
  assert.equal(WebSocket.CLOSED, (await c.closed, c.ws.readyState));
});

test('without a built page, / says so', async (t) => {
  const sandbox = await startSandboxFor(t);
  const gw = await startGatewayFor(t, sandbox, { workers: 0, webRoot: join(tmpdir(), 'podterm-no-such-dir') });
  const r = await fetch(`${gw.url}/`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(r.status, 200);
  assert.match(await r.text(), /not built/);
});
