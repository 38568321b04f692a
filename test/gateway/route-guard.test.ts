/**
 * Issue 8 items 1 and 9 (HTTP part): no request can make a uWS handler throw, malformed
 * percent-encoding is a 400, conflicting Content-Length is refused, and a WebSocket version other
 * than 13 gets 426. Raw sockets, since fetch will not send most of these.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import uws from 'uWebSockets.js';
import type { LogFn } from '../../src/log/logger.js';
import { guardRoute } from '../../src/server/route-guard.js';
import { ADMIN_TOKEN, startGatewayFor, startSandboxFor } from '../helpers/gateway-stack.js';
import { RawConnection, rawRequest, type NoResponse, type RawResponse } from '../helpers/raw-http.js';

function answered(r: RawResponse | NoResponse): RawResponse {
  if (r.kind === 'none') assert.fail(`no answer: ${JSON.stringify(r)}`);
  return r;
}

function jsonError(r: RawResponse): { code: string; message: string } {
  assert.match(r.headers.get('content-type')?.[0] ?? '', /^application\/json/);
  const body = JSON.parse(r.body.toString('utf8')) as { code: string; message: string };
  assert.equal(typeof body.code, 'string');
  assert.equal(typeof body.message, 'string');
  return body;
}

test('malformed percent-encoding in a path parameter is 400 BadRequest, and the gateway lives on', async (t) => {
  const sandbox = await startSandboxFor(t);
  const gw = await startGatewayFor(t, sandbox, { workers: 0 });
  const auth = `Authorization: Bearer ${ADMIN_TOKEN}\r\n`;
  const c = await RawConnection.open(gw.port);
  t.after(() => c.close());
  for (const ns of ['%ff', '%E0%A4%A', '%', 'a%zzb']) {
    const r = answered(await c.request(`GET /api/v1/namespaces/${ns}/pods HTTP/1.1\r\nHost: x\r\n${auth}\r\n`));
    assert.equal(r.status, 400, ns);
    assert.equal(jsonError(r).code, 'BadRequest', ns);
  }
  // The same keep-alive connection still serves, so nothing was torn down.
  const ok = answered(await c.request(`GET /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\n${auth}\r\n`));
  assert.equal(ok.status, 200);
  assert.equal(answered(await c.request('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200);
});

test('HEAD answers carry no body (uWS would write one) and end the connection', async (t) => {
  const sandbox = await startSandboxFor(t);
  const gw = await startGatewayFor(t, sandbox, { workers: 0 });
  const c = await RawConnection.open(gw.port);
  t.after(() => c.close());
  // Pipelined: a body after the HEAD answer would be read as the start of the next answer.
  const head = answered(await c.request('HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n', { head: true }));
  assert.equal(head.status, 404);
  assert.equal(head.body.length, 0);
  assert.ok(await c.waitClosed());
  const next = answered(await rawRequest(gw.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
  assert.equal(next.status, 200);
  assert.equal(next.body.toString(), 'ok\n');
});

test('conflicting Content-Length headers are refused with 400 and the connection is closed (RFC 9112 §6.3)', async (t) => {
  const sandbox = await startSandboxFor(t);
  const gw = await startGatewayFor(t, sandbox, { workers: 0 });
  for (const [a, b] of [['3', '5'], ['5', '3'], ['5', '5, 3']] as const) {
    const c = await RawConnection.open(gw.port);
    t.after(() => c.close());
    // Without the check, uWS takes the first value and reads the rest as the next request.
    const r = answered(await c.request(`GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: ${a}\r\nContent-Length: ${b}\r\n\r\nabcde`));
    assert.equal(r.status, 400, `${a} / ${b}`);
    assert.equal(jsonError(r).code, 'BadRequest');
    assert.ok(await c.waitClosed(), 'connection closed after the 400');
  }
  // A length that is not a number: uWS's parser drops the connection before any handler runs.
  const c = await RawConnection.open(gw.port);
  t.after(() => c.close());
  const nan = await c.request('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\nContent-Length: 5\r\n\r\nabcde');
  assert.ok(nan.kind === 'none' || nan.status === 400, JSON.stringify(nan));
  assert.ok(await c.waitClosed());
  // Repeated identical values are one length (RFC 9110 §8.6): accepted.
  const same = answered(await rawRequest(gw.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab'));
  assert.equal(same.status, 200);
});

test('a WebSocket upgrade with Sec-WebSocket-Version other than 13 gets 426 and the supported version (RFC 6455 §4.4)', async (t) => {
  const sandbox = await startSandboxFor(t);
  const gw = await startGatewayFor(t, sandbox, { workers: 0 });
  const upgrade = (version: string, token = ADMIN_TOKEN): string =>
    'GET /ws/exec?namespace=default&pod=shell HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: ${version}\r\nSec-WebSocket-Protocol: podterm.v1\r\n` +
    `Authorization: Bearer ${token}\r\n\r\n`;
  for (const version of ['8', '12', '', 'x']) {
    const r = answered(await rawRequest(gw.port, upgrade(version)));
    assert.equal(r.status, 426, `version ${JSON.stringify(version)}`);
    assert.deepEqual(r.headers.get('sec-websocket-version'), ['13']);
    assert.equal(jsonError(r).code, 'BadRequest');
  }
  // Version 13 passes this check and meets the next one (here: a wrong token).
  const next = answered(await rawRequest(gw.port, upgrade('13', 'wrong-token')));
  assert.equal(next.status, 401);
  assert.deepEqual(next.headers.get('sec-websocket-version'), undefined);
});

test('the guard itself: a throw after answering, a late answer after the client left, no answer, a rejected non-Error', async (t) => {
  const failures: unknown[] = [];
  const onFailure = (err: unknown): void => void failures.push(err);
  process.on('uncaughtException', onFailure);
  process.on('unhandledRejection', onFailure);
  t.after(() => {
    process.off('uncaughtException', onFailure);
    process.off('unhandledRejection', onFailure);
  });
  const logged: string[] = [];
  const log: LogFn = (_level, msg) => void logged.push(msg);
  const env = { log, tls: false };
  const app = uws.App();
  let releaseLate!: () => void;
  const late = new Promise<void>((r) => (releaseLate = r));
  let lateDone!: (answeredAfterAbort: boolean) => void;
  const lateResult = new Promise<boolean>((r) => (lateDone = r));
  app.get('/twice', guardRoute(env, 'twice', (_req, reply) => {
    reply.json(200, { first: true });
    reply.json(200, { second: true });
    throw new Error('after answering');
  }));
  app.get('/late', guardRoute(env, 'late', async (_req, reply) => {
    await late;
    reply.json(200, { late: true }); // the client is gone: must be a no-op
    lateDone(reply.done);
  }));
  app.get('/silent', guardRoute(env, 'silent', () => undefined));
  app.get('/reject', guardRoute(env, 'reject', () => Promise.reject('not an Error')));
  const listen = await new Promise<uws.us_listen_socket>((resolve) => app.listen('127.0.0.1', 0, (s) => resolve(s)));
  t.after(() => uws.us_listen_socket_close(listen));
  const port = uws.us_socket_local_port(listen);

  const c = await RawConnection.open(port);
  t.after(() => c.close());
  const twice = answered(await c.request('GET /twice HTTP/1.1\r\nHost: x\r\n\r\n'));
  assert.deepEqual(JSON.parse(twice.body.toString()), { first: true });
  const silent = answered(await c.request('GET /silent HTTP/1.1\r\nHost: x\r\n\r\n'));
  assert.equal(silent.status, 500);
  assert.equal(jsonError(silent).code, 'Internal');
  const rejected = answered(await c.request('GET /reject HTTP/1.1\r\nHost: x\r\n\r\n'));
  assert.equal(rejected.status, 500);
  // Nothing extra arrived after those answers (a second answer would be read here).
  assert.equal(answered(await c.request('GET /twice HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200);

  const gone = await RawConnection.open(port);
  gone.request('GET /late HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 100 }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 50));
  gone.close();
  await new Promise((r) => setTimeout(r, 50));
  releaseLate();
  assert.equal(await lateResult, true);
  await new Promise((r) => setTimeout(r, 50));

  assert.deepEqual(failures, []);
  assert.ok(logged.includes('route handler failed'));
});
