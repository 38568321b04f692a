/**
 * The forwarded socket in detail, with two in-process gateways (real uWS, real sandbox) that are
 * peers: backpressure through the hop reaches the holder and every byte arrives; DELETE through a
 * replica ends a session another one holds; a holder that accepts TCP but never answers, and a
 * peer that never answers, give SessionGone within 2 s and an `unreachable` list entry, never a hang.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { ResumeTokens } from '../../src/auth/resume-token.js';
import { ServerOp } from '../../src/protocol/index.js';
import { Peers } from '../../src/cluster/peers.js';
import type { Gateway } from '../../src/server/gateway.js';
import { ADMIN_TOKEN, RESTRICTED_TOKEN, startGatewayFor, startSandboxFor } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';
import { freePorts } from './replica-fixture.js';

const SHELL = { namespace: 'default', pod: 'shell', container: 'main' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A TCP server that accepts and never says a word (a replica whose process hangs). */
async function blackhole(t: TestContext): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A peer that answers the directory only: replica `id` is at `url` (any hop accepted: a test stand-in). */
async function directoryPeer(t: TestContext, id: string, url: string): Promise<string> {
  const server = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, url })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.closeAllConnections() ?? server.close(() => r())));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function bytesOut(gw: Gateway): Promise<number> {
  return Number(/^podterm_bytes_total\{direction="out"\} (\d+)$/m.exec(await gw.metricsText())?.[1]);
}

async function pair(t: TestContext, extraPeers: string[] = []): Promise<{ a: Gateway; b: Gateway; secret: Buffer; sandbox: Awaited<ReturnType<typeof startSandboxFor>> }> {
  const sandbox = await startSandboxFor(t);
  const secret = randomBytes(32);
  const [pa, pb] = (await freePorts(2)) as [number, number];
  const peers = [...[pa, pb].map((port) => ({ host: '127.0.0.1', port })), ...extraPeers.map((p) => ({ host: '127.0.0.1', port: Number(p.split(':')[1]) }))];
  const [a, b] = await Promise.all([
    startGatewayFor(t, sandbox, { workers: 0, port: pa, replicaId: 'a', peers: new Peers(peers), clusterSecret: secret, detachGraceMs: 20_000 }),
    startGatewayFor(t, sandbox, { workers: 0, port: pb, replicaId: 'b', peers: new Peers(peers), clusterSecret: secret, detachGraceMs: 20_000 }),
  ]);
  return { a, b, secret, sandbox };
}

test('backpressure through the hop: a browser that stops reading stops the holder; then every byte arrives', async (t) => {
  const { a, b } = await pair(t);
  const first = await TermClient.connect(a.url, SHELL, { token: ADMIN_TOKEN });
  t.after(() => first.terminate());
  const { resumeToken } = await first.started;
  first.terminate();
  await first.closed;
  const c = await TermClient.connect(b.url, { resume: resumeToken! }, { token: ADMIN_TOKEN });
  t.after(() => c.terminate());
  await c.started;
  const N = 32 * 1024 * 1024;
  c.stdin(`head -c ${N} /dev/zero | tr '\\0' a; echo; echo DONE-$((6*7))\n`);
  await c.waitFor((x) => x.outBytes > 512 * 1024);
  c.stopReading();
  // The socket buffers of two loopback hops fill first (several MB, at the pty's pace on a loaded
  // machine): wait until the holder's output stays put for 700 ms.
  let stalledAt = await bytesOut(a);
  for (const deadline = Date.now() + 30_000; ; ) {
    await sleep(700);
    const now = await bytesOut(a);
    if (now === stalledAt) break;
    stalledAt = now;
    assert.ok(Date.now() < deadline, 'the holder never stopped sending');
  }
  assert.ok(stalledAt < N, `the holder did not send the whole flood (${stalledAt} of ${N})`);
  assert.ok(!c.frames.slice(-8).some((f) => f[0] === ServerOp.Stdout && Buffer.from(f[1]).includes('DONE-42')));
  t.diagnostic(`holder stalled at ${stalledAt} bytes of ${N}`);
  c.startReading();
  // Looks at the last frames only: c.text re-joins everything received on every call.
  await c.waitFor((x) => x.frames.slice(-8).some((f) => f[0] === ServerOp.Stdout && Buffer.from(f[1]).includes('DONE-42')), 60_000);
  const out = c.output;
  let run = 0;
  for (let i = 0, n = 0; i < out.length; i++) run = Math.max(run, (n = out[i] === 0x61 ? n + 1 : 0));
  assert.equal(run, N, 'every byte, in order');
  assert.ok(c.maxMessageBytes < 16 * 1024, `largest message ${c.maxMessageBytes}`);
  c.ws.close(1000);
  assert.equal((await c.closed).code, 1000);
  assert.match(await a.metricsText(), /^podterm_backpressure_pauses_total [1-9]/m);
  const until = Date.now() + 5000;
  while ((await a.stats()).sessionsActive + (await b.stats()).forwardsOpen > 0 && Date.now() < until) await sleep(50);
  assert.deepEqual([(await a.stats()).sessionsActive, (await b.stats()).forwardsOpen], [0, 0]);
});

test('through another replica, the holder still checks the owner; DELETE ends the session where it lives', async (t) => {
  const { a, b } = await pair(t);
  const c = await TermClient.connect(a.url, SHELL, { token: ADMIN_TOKEN });
  t.after(() => c.terminate());
  const { session, resumeToken } = await c.started;
  // Someone else with the owner's token, through B: the hop asserts who they are, A says no.
  const thief = await TermClient.connect(b.url, { resume: resumeToken! }, { token: RESTRICTED_TOKEN });
  t.after(() => thief.terminate());
  const [refused, refusedClose] = await Promise.all([thief.failed, thief.closed]);
  assert.deepEqual([refused.code, refusedClose.code], ['SessionGone', 4411]);
  const theirs = await fetch(`${b.url}/api/v1/sessions`, { headers: { authorization: `Bearer ${RESTRICTED_TOKEN}` } });
  assert.deepEqual(await theirs.json(), []);
  assert.equal((await fetch(`${b.url}/api/v1/sessions/${session}`, { method: 'DELETE', headers: { authorization: `Bearer ${RESTRICTED_TOKEN}` } })).status, 404);
  const del = (id: string) => fetch(`${b.url}/api/v1/sessions/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal((await del('00000000-0000-4000-8000-000000000000')).status, 404);
  assert.equal((await del(session)).status, 204);
  const [err, closed] = await Promise.all([c.failed, c.closed]);
  assert.equal(err.code, 'SessionGone');
  assert.equal(closed.code, 4411);
});

test('a holder that never answers, or a peer that never answers: SessionGone within 2 s, the list still answers', async (t) => {
  const hung = await blackhole(t);
  const directory = await directoryPeer(t, 'x', hung); // says replica x is at the hung address
  const silent = new URL(await blackhole(t)).host; // a peer that never answers anything
  const { b, secret } = await pair(t, [directory, silent]);
  const tokens = new ResumeTokens(secret);
  const owner = (await (await fetch(`${b.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { username: string };
  for (const replica of ['x', 'nobody']) {
    const token = tokens.issue({ session: 'ffffffff-0000-4000-8000-000000000000', owner: owner.username, replica, expires: Math.floor(Date.now() / 1000) + 60 });
    const t0 = Date.now();
    const c = await TermClient.connect(b.url, { resume: token }, { token: ADMIN_TOKEN });
    t.after(() => c.terminate());
    const [err, closed] = await Promise.all([c.failed, c.closed]);
    const ms = Date.now() - t0;
    assert.equal(err.code, 'SessionGone', replica);
    assert.equal(closed.code, 4411);
    assert.ok(ms <= 2000, `replica ${replica}: SessionGone after ${ms} ms`);
  }
  const t0 = Date.now();
  const res = await fetch(`${b.url}/api/v1/sessions`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(res.status, 200);
  assert.ok(Date.now() - t0 < 2000);
  assert.deepEqual(await res.json(), []);
  assert.ok(res.headers.get('podterm-unreachable')?.includes(`http://${silent}`), `${res.headers.get('podterm-unreachable')}`);
  assert.equal((await b.stats()).forwardsOpen, 0);
});

test('a share link of a session on A, made and revoked through B, watches through B: read-only, live output', async (t) => {
  const { a, b } = await pair(t);
  const owner = await TermClient.connect(a.url, SHELL, { token: ADMIN_TOKEN });
  t.after(() => owner.terminate());
  const { session } = await owner.started;
  // The page's Share button may reach any replica: B asks the holder.
  const res = await fetch(`${b.url}/api/v1/sessions/${session}/shares`, {
    method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ ttlSeconds: 600 }),
  });
  assert.equal(res.status, 201);
  const { token } = (await res.json()) as { token: string };
  // Another person, signed in on B, with the link.
  const watcher = await TermClient.connect(b.url, { observe: token }, { token: RESTRICTED_TOKEN });
  t.after(() => watcher.terminate());
  const info = await Promise.race([watcher.started, watcher.failed.then((e) => assert.fail(`${e.code} ${e.message}`))]);
  assert.deepEqual([info.session, info.role], [session, 'observer']);
  assert.equal((await b.stats()).forwardsOpen, 1);
  owner.stdin('echo LIVE-$((6*7))\n');
  await watcher.waitFor(/LIVE-42/);
  watcher.stdin('echo WATCHER-TYPED\n'); // ignored by the holder: observers cannot type
  await sleep(300);
  assert.ok(!owner.text.includes('WATCHER-TYPED'));
  const revoke = (gw: Gateway, token: string) => fetch(`${gw.url}/api/v1/sessions/${session}/shares`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  assert.equal((await revoke(b, RESTRICTED_TOKEN)).status, 404, 'not theirs to revoke');
  assert.equal((await revoke(b, ADMIN_TOKEN)).status, 204);
  const [err, closed] = await Promise.all([watcher.failed, watcher.closed]);
  assert.deepEqual([err.code, closed.code], ['SessionGone', 4411]);
  owner.ws.close(1000);
  await owner.closed;
});
