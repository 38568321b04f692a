/**
 * listener.ts on its own: a reload swaps apps only for a new certificate, keeps every earlier app
 * until close(), never listens again once stopped, and a plain listener has nothing to reload.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TemplatedApp } from 'uWebSockets.js';
import { ListenError } from '../../src/server/listen.js';
import { Listener } from '../../src/server/listener.js';
import { makeTestPki, servedFingerprint } from '../helpers/test-pki.js';

const mount = (app: TemplatedApp): void => void app.get('/*', (res) => void res.end('ok'));

test('a TLS listener: same certificate = no swap; a renewal swaps; stopped = no listen again; close ends every app', async (t) => {
  const pki = await makeTestPki(t);
  const served = await pki.issue('server');
  const listener = await Listener.open({ host: '127.0.0.1', port: 0, tls: served, mount });
  t.after(() => listener.close());
  assert.notEqual(listener.port, 0);
  assert.equal(listener.scheme, 'https');

  const same = await listener.reload();
  assert.equal(same.swapped, false);
  assert.equal(listener.apps, 1, 'a SIGHUP without a renewal builds nothing');

  await pki.install(await pki.issue('renewed'), served);
  const renewed = await listener.reload();
  assert.equal(renewed.swapped, true);
  assert.equal(listener.apps, 2, 'the old app stays for its connections');
  assert.equal(await servedFingerprint(listener.port, pki.caPem), renewed.certificate.fingerprint256);

  listener.stopListening();
  await pki.install(await pki.issue('third'), served);
  await assert.rejects(listener.reload(), (err: unknown) => err instanceof ListenError && err.code === 'ECLOSED');
  await assert.rejects(servedFingerprint(listener.port, pki.caPem), /ECONNREFUSED/, 'a stopped listener does not listen again');
  listener.close();
  assert.equal(listener.apps, 0);
});

test('a plain listener has nothing to reload', async (t) => {
  const listener = await Listener.open({ host: '127.0.0.1', port: 0, mount });
  t.after(() => listener.close());
  assert.equal(listener.scheme, 'http');
  await assert.rejects(listener.reload(), TypeError);
});
