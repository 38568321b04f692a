/**
 * Recording and audit through the gateway (issue 11): a session is recorded by its actor as
 * asciicast v2 whose output is exactly what the client received (checked with the real asciinema),
 * with resizes and a sidecar; the recordings API shows it to its owner and refuses someone else
 * (who is audited); the audit log has the session's start and end; strict mode refuses a session
 * it cannot record. Nothing stays open afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { asciinemaCat, outputOf, parseCast } from '../helpers/asciicast.js';
import { ADMIN_TOKEN, assertNoResidue, RESTRICTED_TOKEN, startStack } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

for (const workers of [1, 0]) {
  test(`a session is recorded exactly as the client saw it, listed for its owner only, and audited (--workers ${workers})`, async (t) => {
    const recordDir = await tempDir(t, 'podterm-rec-test-');
    const auditDir = await tempDir(t, 'podterm-audit-test-');
    const auditLog = join(auditDir, 'audit.jsonl');
    const stack = await startStack(t, { workers, recordDir, auditLog, replicaId: 'replica-a' });
    const script = `sleep 0.3; printf 'héllo 世界 \\033[1;31mred\\033[0m\\n'; sleep 0.4; stty size; exit 3`;
    const c = await TermClient.connect(stack.url, { namespace: 'default', pod: 'shell', container: 'main', command: ['sh', '-c', script], cols: 100, rows: 30 }, { token: ADMIN_TOKEN });
    t.after(() => c.terminate());
    const started = await c.started;
    await c.waitFor(/red/);
    c.resize(120, 40);
    assert.equal((await c.exited).exitCode, 3);
    await c.closed;
    await assertNoResidue(stack);

    const files = (await readdir(recordDir)).sort();
    assert.deepEqual(files, [`${started.session}.cast`, `${started.session}.json`]);
    const castFile = join(recordDir, `${started.session}.cast`);
    const cast = parseCast(await readFile(castFile, 'utf8'));
    assert.equal(cast.header.version, 2);
    assert.equal(cast.header.width, 100);
    assert.equal(cast.header.height, 30);
    assert.equal(cast.header.title, 'default/shell/main');
    assert.ok(outputOf(cast).equals(c.output), 'the o events are exactly the bytes the client received');
    assert.ok((await asciinemaCat(castFile)).equals(c.output), 'asciinema cat prints the same bytes');
    assert.ok(cast.events.some((e) => e[1] === 'r' && e[2] === '120x40'), 'the resize is recorded');
    assert.ok(!cast.events.some((e) => e[1] === 'i'), 'no input without --record-input');
    const meta = JSON.parse(await readFile(join(recordDir, `${started.session}.json`), 'utf8')) as Record<string, unknown>;
    assert.equal(meta.exitCode, 3);
    assert.equal(meta.replica, 'replica-a');

    // The owner lists and downloads it; another person gets 403, and the audit log says who tried.
    const list = (await (await fetch(`${stack.url}/api/v1/recordings`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { items: Array<{ id: string; exitCode: number }> };
    assert.deepEqual(list.items.map((i) => [i.id, i.exitCode]), [[started.session, 3]]);
    const got = await fetch(`${stack.url}/api/v1/recordings/${started.session}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'application/x-asciicast');
    assert.equal(await got.text(), await readFile(castFile, 'utf8'));
    const other = await fetch(`${stack.url}/api/v1/recordings/${started.session}`, { headers: { authorization: `Bearer ${RESTRICTED_TOKEN}` } });
    assert.equal(other.status, 403);
    const theirs = (await (await fetch(`${stack.url}/api/v1/recordings`, { headers: { authorization: `Bearer ${RESTRICTED_TOKEN}` } })).json()) as { items: unknown[] };
    assert.deepEqual(theirs.items, []);
    const bad = await fetch(`${stack.url}/api/v1/recordings/..%2F..%2Fetc%2Fpasswd`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.ok(bad.status === 400 || bad.status === 404, `a traversal id is refused (${bad.status})`);

    await stack.gateway.close(); // flushes the audit log
    const lines = (await readFile(auditLog, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const start = lines.find((l) => l.event === 'session.start');
    const end = lines.find((l) => l.event === 'session.end');
    assert.ok(start && end, `start and end audited: ${JSON.stringify(lines.map((l) => l.event))}`);
    assert.equal(end.session, started.session);
    assert.equal(end.exitCode, 3);
    assert.equal(end.recording, started.session);
    assert.equal(end.pod, 'shell');
    assert.equal(end.replica, 'replica-a');
    assert.ok((end.bytesOut as number) > 0);
    assert.ok(String(start.user).startsWith('token:'), 'the person, never the token');
    assert.ok(!JSON.stringify(lines).includes(ADMIN_TOKEN) && !JSON.stringify(lines).includes(RESTRICTED_TOKEN));
    assert.ok(lines.some((l) => l.event === 'recording.forbidden'), 'the refused viewer is audited');
  });
}

for (const workers of [1, 0]) {
  test(`a flood is recorded exactly as the client received it, written through the write slots, and every slot is back (--workers ${workers})`, async (t) => {
    const recordDir = await tempDir(t, 'podterm-rec-flood-');
    const stack = await startStack(t, { workers, recordDir });
    const bytes = 12_000_000;
    const c = await TermClient.connect(stack.url, { namespace: 'load', pod: 'flood', container: 'main', command: ['flood', String(bytes)] }, { token: ADMIN_TOKEN });
    t.after(() => c.terminate());
    const started = await c.started;
    assert.equal((await c.exited).exitCode, 0);
    await c.closed;
    assert.equal(c.output.length, bytes);
    // Sessions, actors, recordings and their write slots (residue) all back to zero.
    await assertNoResidue(stack);
    const castFile = join(recordDir, `${started.session}.cast`);
    const cast = parseCast(await readFile(castFile, 'utf8'));
    assert.ok(outputOf(cast).equals(c.output), 'the o events are exactly the bytes the client received');
    assert.ok(cast.events.filter((e) => e[1] === 'o').length >= bytes / 16_000, 'one event per output frame at least');
  });
}

test('strict mode refuses a session it cannot record (RecordingFailed), and nothing reaches the pod', async (t) => {
  const parent = await tempDir(t, 'podterm-rec-strict-');
  const stack = await startStack(t, { workers: 1, recordDir: join(parent, 'missing'), recordMode: 'strict' });
  const c = await TermClient.connect(stack.url, { namespace: 'default', pod: 'shell', container: 'main' }, { token: ADMIN_TOKEN });
  t.after(() => c.terminate());
  assert.equal((await c.failed).code, 'RecordingFailed');
  assert.equal((await c.closed).code, 4414);
  await assertNoResidue(stack);
  assert.match(await stack.gateway.metricsText(), /^podterm_session_failures_total\{code="RecordingFailed"\} 1$/m);
});

for (const mode of ['strict', 'best-effort'] as const) {
  test(`a write that fails mid-session (the .cast deleted while the idle recording is parked): ${mode === 'strict' ? 'strict ends the session with RecordingFailed' : 'best-effort keeps it'}`, async (t) => {
    const recordDir = await tempDir(t, 'podterm-rec-midfail-');
    const stack = await startStack(t, { workers: 1, recordDir, recordMode: mode });
    const c = await TermClient.connect(stack.url, { namespace: 'default', pod: 'shell', container: 'main', command: ['sh', '-c', 'echo ready; read x; echo "got $x"; read y; echo "then $y"'] }, { token: ADMIN_TOKEN });
    t.after(() => c.terminate());
    await c.waitFor(/ready/);
    // Idle for longer than the writer's park delay (1 s): the .cast is closed, then deleted.
    const [cast] = (await readdir(recordDir)).filter((f) => f.endsWith('.cast'));
    assert.ok(cast, 'the recording exists');
    await new Promise((r) => setTimeout(r, 1600));
    await rm(join(recordDir, cast));
    c.stdin('one\n');
    if (mode === 'strict') {
      assert.equal((await c.failed).code, 'RecordingFailed');
      assert.equal((await c.closed).code, 4414);
    } else {
      await c.waitFor(/got one/);
      c.stdin('two\n');
      assert.equal((await c.exited).exitCode, 0);
      assert.match(c.text, /then two/);
      await c.closed;
    }
    await assertNoResidue(stack);
    assert.match(await stack.gateway.metricsText(), /^podterm_recordings_stopped_total 1$/m);
    // Reopening never creates a file: no headerless .cast appeared.
    assert.deepEqual((await readdir(recordDir)).filter((f) => f.endsWith('.cast')), []);
  });
}

test('best-effort mode: a recording that cannot start does not stop the session', async (t) => {
  const parent = await tempDir(t, 'podterm-rec-best-');
  const stack = await startStack(t, { workers: 1, recordDir: join(parent, 'missing') });
  const c = await TermClient.connect(stack.url, { namespace: 'default', pod: 'shell', container: 'main', command: ['sh', '-c', 'sleep 0.2; echo fine'] }, { token: ADMIN_TOKEN });
  t.after(() => c.terminate());
  assert.equal((await c.exited).exitCode, 0);
  assert.match(c.text, /fine/);
  await c.closed;
  await assertNoResidue(stack);
  assert.match(await stack.gateway.metricsText(), /^podterm_recordings_stopped_total [1-9]/m);
});
