/**
 * TLS of its own (`tls`, `--tls-cert`/`--tls-key`): real verifying clients (node:https, tls.connect,
 * the `ws` WebSocket with `ca:`) against a certificate the test's own CA signed; a client without
 * that CA must fail verification. Secure cookies and HSTS on every kind of answer; a reload serves
 * the renewed certificate to new connections while an open terminal goes on.
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { test } from 'node:test';
import { SUBPROTOCOL } from '../../src/protocol/index.js';
import { TlsFilesError } from '../../src/server/tls-files.js';
import { ADMIN_TOKEN, assertNoResidue, startTlsStack } from '../helpers/gateway-stack.js';
import { servedFingerprint } from '../helpers/test-pki.js';
import { startTestIdp } from '../helpers/oidc-provider.js';
import { TermClient } from '../helpers/term-client.js';

const HSTS = 'max-age=31536000';
const SHELL = { namespace: 'default', pod: 'shell', container: 'main', command: ['sh'] };

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTPS request on its own connection (no agent: nothing pooled outlives the test). */
function httpsGet(url: string, o: { ca?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: o.headers, ...(o.ca ? { ca: o.ca } : {}) }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function tlsRefusal(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      reject(new Error('a client without the CA verified the certificate'));
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

test('TLS of its own: verifying clients reach the API and a terminal, clients without the CA fail; Secure cookie, HSTS on every answer', async (t) => {
  const stack = await startTlsStack(t, { workers: 0 });
  const ca = stack.pki.caPem;
  const port = new URL(stack.url).port;
  assert.match(stack.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(stack.gateway.certificate?.fingerprint256, stack.served.fingerprint256);
  assert.equal(await servedFingerprint(Number(port), ca), stack.served.fingerprint256);

  // Without the CA: verification fails, for a bare TLS client and for HTTPS.
  assert.match(await tlsRefusal(Number(port)), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED/);
  await assert.rejects(httpsGet(`${stack.url}/healthz`), (err: NodeJS.ErrnoException) => /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED/.test(err.code ?? ''));
  await assert.rejects(TermClient.connect(stack.url, SHELL, { token: ADMIN_TOKEN }), /unable to verify|self.signed/i);

  // HSTS on every kind of answer: plain, JSON, errors, a refused upgrade, a streamed body.
  const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const answers: Array<[string, Answer, number]> = [
    ['healthz', await httpsGet(`${stack.url}/healthz`, { ca }), 200],
    ['namespaces', await httpsGet(`${stack.url}/api/v1/namespaces`, { ca, headers: bearer }), 200],
    ['unauthenticated', await httpsGet(`${stack.url}/api/v1/namespaces`, { ca }), 401],
    ['not found', await httpsGet(`${stack.url}/no/such/path`, { ca }), 404],
    ['log stream', await httpsGet(`${stack.url}/api/v1/namespaces/default/pods/logs/log?tailLines=1`, { ca, headers: bearer }), 200],
    ['refused upgrade', await httpsGet(`${stack.url}/ws/exec?namespace=default&pod=shell&container=main&command=sh`, {
      ca,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': SUBPROTOCOL },
    }), 401],
  ];
  for (const [what, a, status] of answers) {
    assert.equal(a.status, status, `${what}: ${a.body}`);
    assert.equal(a.headers['strict-transport-security'], HSTS, what);
  }

  // The token exchange sets a Secure cookie, which signs in over TLS.
  const exchange = await httpsGet(`${stack.url}/?token=${ADMIN_TOKEN}`, { ca });
  assert.equal(exchange.status, 303);
  assert.equal(exchange.headers['strict-transport-security'], HSTS);
  const setCookie = exchange.headers['set-cookie']?.[0] ?? '';
  assert.match(setCookie, /; HttpOnly; SameSite=Strict;/);
  assert.match(setCookie, /; Secure$/);
  const cookie = setCookie.split(';')[0] as string;
  assert.equal((await httpsGet(`${stack.url}/api/v1/whoami`, { ca, headers: { cookie } })).status, 200);

  // A terminal end to end over wss://, the cookie and the page's own (https) origin.
  const c = await TermClient.connect(stack.url, SHELL, { cookie, origin: stack.url, ca });
  t.after(() => c.terminate());
  await c.started;
  c.stdin('echo over-$((20+22))-tls\n');
  await c.waitFor(/over-42-tls/);
  c.stdin('exit\n');
  assert.equal((await c.exited).exitCode, 0);
  await c.closed;
  await assertNoResidue(stack);
});

test('reload: new connections get the renewed certificate, an open terminal goes on; bad files keep the served one', async (t) => {
  const stack = await startTlsStack(t, { workers: 1 });
  const ca = stack.pki.caPem;
  const port = Number(new URL(stack.url).port);
  const before = await TermClient.connect(stack.url, SHELL, { token: ADMIN_TOKEN, ca });
  t.after(() => before.terminate());
  await before.started;
  before.stdin('echo before-$((1+1))\n');
  await before.waitFor(/before-2/);

  // Renew in place (new key, same file names), then reload: what SIGHUP does in `podterm serve`.
  const renewed = await stack.pki.issue('renewed', 'podterm renewed server');
  assert.notEqual(renewed.fingerprint256, stack.served.fingerprint256);
  await stack.pki.install(renewed, stack.served);
  const info = await stack.gateway.reloadTls();
  assert.equal(info.fingerprint256, renewed.fingerprint256);
  assert.equal(stack.gateway.certificate?.fingerprint256, renewed.fingerprint256);
  for (let i = 0; i < 3; i++) assert.equal(await servedFingerprint(port, ca), renewed.fingerprint256, 'a new connection sees the new certificate');

  // The session opened before the reload still works, both ways.
  before.stdin('echo still-$((3+4))-alive\n');
  await before.waitFor(/still-7-alive/);
  // And a new session opens through the new app's routes.
  const after = await TermClient.connect(stack.url, SHELL, { token: ADMIN_TOKEN, ca });
  t.after(() => after.terminate());
  await after.started;
  after.stdin('echo after-$((5+5))\n');
  await after.waitFor(/after-10/);
  assert.equal((await httpsGet(`${stack.url}/healthz`, { ca })).headers['strict-transport-security'], HSTS);

  // A bad renewal (key of another certificate) is refused; the renewed certificate stays.
  const other = await stack.pki.issue('other');
  await stack.pki.install({ ...renewed, keyFile: other.keyFile }, stack.served);
  await assert.rejects(stack.gateway.reloadTls(), (err: unknown) => err instanceof TlsFilesError && err.problem === 'mismatch');
  assert.equal(await servedFingerprint(port, ca), renewed.fingerprint256);
  before.stdin('echo survived-$((8*8))\n');
  await before.waitFor(/survived-64/);

  for (const c of [before, after]) {
    c.stdin('exit\n');
    assert.equal((await c.exited).exitCode, 0);
    await c.closed;
  }
  await assertNoResidue(stack);
});

test('sign-in under TLS: the default redirect URL is https, the login-state cookie is Secure', async (t) => {
  // The provider is asked nothing but discovery here: the redirect URL is what the gateway sends.
  const idp = await startTestIdp({ redirectUris: ['https://127.0.0.1/auth/callback'] });
  t.after(() => idp.close());
  const stack = await startTlsStack(t, { workers: 0, oidc: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret } });
  const login = await httpsGet(`${stack.url}/auth/login`, { ca: stack.pki.caPem });
  assert.equal(login.status, 302, login.body);
  assert.equal(login.headers['strict-transport-security'], HSTS);
  const location = new URL(login.headers.location ?? '');
  assert.equal(location.searchParams.get('redirect_uri'), `${stack.url}/auth/callback`);
  assert.match(stack.url, /^https:/);
  assert.match(login.headers['set-cookie']?.[0] ?? '', /; Secure$/);
});
