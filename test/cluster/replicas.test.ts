/**
 * Several replicas (issue 10; README "Several replicas"): three real `podterm serve` processes with
 * `--peers` and one sandbox. A session opened on A is resumed through B and through C (the same
 * shell, input works, close codes pass through), listed from B, survives a forwarding replica's
 * drain, ends with the reason shown on its holder's drain, and answers SessionGone within 2 s once
 * its holder is killed. Hops not signed with the cluster secret are refused. Nothing is left.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { DRAIN_MESSAGE } from '../../src/protocol/errors.js';
import { ServerOp } from '../../src/protocol/index.js';
import { HopAuth } from '../../src/cluster/hop-auth.js';
import type { SessionInfo } from '../../src/supervisor/session.js';
import { startSandboxFor } from '../helpers/gateway-stack.js';
import { TermClient, UpgradeRefused } from '../helpers/term-client.js';
import { exitWithin } from '../cli/spawn-cli.js';
import { clusterFiles, metric, startReplicas, TOKEN, type Replica } from './replica-fixture.js';

const SHELL = { namespace: 'default', pod: 'shell', container: 'main' };
type Listed = SessionInfo & { replica: string };

async function connect(t: { after(fn: () => void): void }, r: Replica, params: Record<string, string>): Promise<TermClient> {
  const c = await TermClient.connect(r.url, params, { token: TOKEN });
  t.after(() => c.terminate());
  return c;
}

/** Opens a shell on `r` and returns its client, its resume token and its shell's pid. */
async function shellOn(t: { after(fn: () => void): void }, r: Replica): Promise<{ c: TermClient; token: string; session: string; pid: string }> {
  const c = await connect(t, r, SHELL);
  const started = await Promise.race([c.started, c.failed.then((e) => assert.fail(`open on ${r.id}: ${e.code} ${e.message}`))]);
  c.stdin('echo PID=$$\n');
  await c.waitFor(/PID=(\d+)/);
  return { c, token: started.resumeToken!, session: started.session, pid: /PID=(\d+)/.exec(c.text)![1]! };
}

/** Resumes through `r`: Started (resumed, same session), then `echo $$` answers the same pid. */
async function resumeVia(t: { after(fn: () => void): void }, r: Replica, token: string, session: string, pid: string, tag: string): Promise<TermClient> {
  const c = await connect(t, r, { resume: token });
  // A refusal fails here and now (Started would never come).
  const info = await Promise.race([c.started, c.failed.then((e) => assert.fail(`resume through ${r.id}: ${e.code} ${e.message}`))]);
  assert.equal(c.frames[0]![0], ServerOp.Started);
  assert.deepEqual({ session: info.session, resumed: info.resumed, role: info.role }, { session, resumed: true, role: 'owner' });
  c.stdin(`echo ${tag}-PID=$$\n`);
  await c.waitFor(new RegExp(`${tag}-PID=(\\d+)`));
  assert.equal(new RegExp(`${tag}-PID=(\\d+)`).exec(c.text)![1], pid, `the same shell through ${r.id}`);
  return c;
}

async function dropped(c: TermClient): Promise<void> {
  c.terminate();
  await c.closed;
}

async function list(r: Replica): Promise<{ sessions: Listed[]; unreachable: string | null }> {
  const res = await fetch(`${r.url}/api/v1/sessions`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  return { sessions: (await res.json()) as Listed[], unreachable: res.headers.get('podterm-unreachable') };
}

async function until(what: string, ok: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('three replicas with --peers: resume through any of them, list, drains, holder killed, hop refused, nothing left', async (t) => {
  const sandbox = await startSandboxFor(t);
  const files = await clusterFiles(t, sandbox);
  const replicas = await startReplicas(t, files, ['a', 'b', 'c', 'd']);
  const [a, b, c, d] = replicas as [Replica, Replica, Replica, Replica];
  // Replicas end before the sandbox does (its close, registered first, would wait on their streams).
  try {

    await t.test('a session on A resumes through B and through C: same shell, input works; B lists it', async (t) => {
      const s = await shellOn(t, a);
      await dropped(s.c);
      const viaB = await resumeVia(t, b, s.token, s.session, s.pid, 'B');
      assert.equal(await metric(b, 'podterm_forwards_active'), 1);
      const { sessions } = await list(b);
      const mine = sessions.find((x) => x.id === s.session);
      assert.ok(mine, JSON.stringify(sessions));
      assert.equal(mine.replica, 'a');
      assert.equal(mine.state, 'attached');
      assert.equal(mine.resumeToken, s.token);
      await dropped(viaB);
      const viaC = await resumeVia(t, c, s.token, s.session, s.pid, 'C');
      // The holder's end passes through the hop unchanged: the exit status, then 1000.
      viaC.stdin('sleep 0.2; exit 3\n');
      assert.equal((await viaC.exited).exitCode, 3);
      assert.equal((await viaC.closed).code, 1000);
    });

    await t.test('a forwarding replica that drains closes with 1001 and no error: the session lives on its holder', async (t) => {
      const s = await shellOn(t, b);
      await dropped(s.c);
      const viaD = await resumeVia(t, d, s.token, s.session, s.pid, 'D');
      d.run.child.kill('SIGTERM');
      assert.equal((await viaD.closed).code, 1001);
      assert.ok(!viaD.frames.some((f) => f[0] === ServerOp.Error), 'a bare 1001: the page resumes by itself');
      assert.equal((await exitWithin(d.run, 10_000)).code, 0);
      const again = await resumeVia(t, b, s.token, s.session, s.pid, 'B2');
      again.ws.close(1000);
      await again.closed;
    });

    await t.test('the holder killed: resume through B answers SessionGone within 2 s; the list says A is unreachable', async (t) => {
      const gone = await shellOn(t, a);
      await dropped(gone.c);
      // A second session, held by C and forwarded through B, for the holder's drain below.
      const held = await shellOn(t, c);
      await dropped(held.c);
      const viaB = await resumeVia(t, b, held.token, held.session, held.pid, 'HB');

      a.run.child.kill('SIGKILL');
      await a.run.exited;
      for (const r of [b, c]) {
        const t0 = Date.now();
        const late = await connect(t, r, { resume: gone.token });
        const [err, closed] = await Promise.all([late.failed, late.closed]);
        const ms = Date.now() - t0;
        assert.equal(err.code, 'SessionGone');
        assert.equal(closed.code, 4411);
        assert.ok(ms <= 2000, `SessionGone through ${r.id} took ${ms} ms`);
      }
      const listed = await list(b);
      assert.ok(listed.unreachable?.includes(a.url), `unreachable: ${listed.unreachable}`);
      assert.ok(listed.sessions.some((x) => x.id === held.session && x.replica === 'c'));

      // The holder drains (SIGTERM): its session ends with 1001 and a reason the page shows, through the hop.
      c.run.child.kill('SIGTERM');
      const [err, closed] = await Promise.all([viaB.failed, viaB.closed]);
      assert.equal(err.code, 'ServerShuttingDown');
      assert.equal(err.message, DRAIN_MESSAGE);
      assert.equal(closed.code, 1001);
      assert.equal((await exitWithin(c.run, 10_000)).code, 0);
    });

    await t.test('hops not signed with the cluster secret, replayed, or unsigned are refused', async (t) => {
      const s = await shellOn(t, b);
      const path = `/ws/exec`;
      const query = new URLSearchParams({ resume: s.token }).toString();
      const caller = { username: 'x', groups: [], via: 'token' as const };
      const wrong = new HopAuth(randomBytes(32)).sign({ method: 'GET', path, query }, caller);
      await assert.rejects(TermClient.connect(b.url, { resume: s.token }, { headers: wrong }), (e: unknown) => e instanceof UpgradeRefused && e.status === 401);
      const right = new HopAuth(files.secret);
      const sessionsPath = '/internal/v1/sessions';
      assert.equal((await fetch(`${b.url}${sessionsPath}`)).status, 401, 'no hop header');
      assert.equal((await fetch(`${b.url}${sessionsPath}`, { headers: new HopAuth(randomBytes(32)).sign({ method: 'GET', path: sessionsPath, query: '' }, caller) })).status, 401, 'another secret');
      const once = right.sign({ method: 'GET', path: sessionsPath, query: '' }, caller);
      assert.equal((await fetch(`${b.url}${sessionsPath}`, { headers: once })).status, 200, 'the right secret');
      assert.equal((await fetch(`${b.url}${sessionsPath}`, { headers: once })).status, 401, 'the same header again (replay)');
      // Signed for one path, presented on another.
      assert.equal((await fetch(`${b.url}/internal/v1/replica`, { headers: right.sign({ method: 'GET', path: sessionsPath, query: '' }, caller) })).status, 401);
      // The session was never touched by the refused hop: it is still attached to its one socket.
      const [listed] = (await list(b)).sessions.filter((x) => x.id === s.session);
      assert.equal(listed?.viewers.length, 1);
      s.c.ws.close(1000);
      await s.c.closed;
    });

    await t.test('nothing is left: sessions, forwards, sandbox streams and processes back to zero', async () => {
      await until('B to have no sessions and no forwards', async () => (await metric(b, 'podterm_sessions_active')) === 0 && (await metric(b, 'podterm_forwards_active')) === 0);
      await until('the sandbox to have no exec streams and no processes', async () => {
        const s = sandbox.stats();
        return s.execActive === 0 && s.processesActive === 0;
      });
      b.run.child.kill('SIGTERM');
      assert.equal((await exitWithin(b.run, 10_000)).code, 0);
    });
  } finally {
    for (const r of replicas) if (r.run.child.exitCode === null && r.run.child.signalCode === null) r.run.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.run.exited));
  }
});
