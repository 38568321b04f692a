import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AsciicastWriter } from '../../src/recording/asciicast-writer.js';
import { RecordingCatalog, mayView } from '../../src/recording/catalog.js';
import { RecordingRetention, sweepRecordings } from '../../src/recording/retention.js';
import { assertHandlesBack, handleCounts } from '../helpers/handles.js';
import { writerHost } from '../helpers/asciicast.js';

const DAY = 24 * 60 * 60 * 1000;

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-cat-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function record(dir: string, id: string, user: string, namespace: string, pod: string): Promise<void> {
  const w = await AsciicastWriter.open({
    dir, id, width: 80, height: 24,
    host: writerHost({ session: id, user, groups: [], replica: 'r0', namespace, pod, container: 'c', command: ['sh'] }),
  });
  w.output(Buffer.from(`hello from ${pod}\r\n`));
  await w.close({ exitCode: 0, outcome: 'exit' });
}

const alice = { username: 'alice', groups: ['dev'] };
const bob = { username: 'bob', groups: [] };
const carol = { username: 'carol', groups: ['auditors'] };
const mallory = { username: 'mallory', groups: ['dev'] };

test('catalog: owners see their own, the recordings group sees all, filters, and junk in the dir is never listed', async (t) => {
  const dir = await tempDir(t);
  await record(dir, 'a1', 'alice', 'default', 'web-1');
  await new Promise((r) => setTimeout(r, 5));
  await record(dir, 'a2', 'alice', 'prod', 'db-0');
  await record(dir, 'b1', 'bob', 'default', 'web-1');
  // Junk: a sidecar naming another id, a symlinked sidecar, an oversized one, a cast with no sidecar.
  const a1 = JSON.parse(await readFile(join(dir, 'a1.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(dir, 'forged.json'), JSON.stringify({ ...a1, user: 'mallory' }));
  await symlink(join(dir, 'b1.json'), join(dir, 'linked.json'));
  await writeFile(join(dir, 'huge.json'), JSON.stringify({ ...a1, id: 'huge', pad: 'x'.repeat(300_000) }));
  await writeFile(join(dir, 'orphan.cast'), '{"version":2,"width":80,"height":24}\n');
  await writeFile(join(dir, 'bad name.json'), JSON.stringify({ ...a1, id: 'bad name' }));

  const catalog = new RecordingCatalog({ dir, recordingsGroup: 'auditors' });
  const mine = await catalog.list(alice);
  assert.deepEqual(mine.map((r) => r.id), ['a2', 'a1'], 'newest first, only her own');
  assert.deepEqual(Object.keys(mine[0]!).sort(), ['bytes', 'container', 'endedAt', 'exitCode', 'id', 'namespace', 'pod', 'startedAt', 'user']);
  assert.equal(mine[0]!.bytes, (await readFile(join(dir, 'a2.cast'))).length);
  assert.deepEqual((await catalog.list(carol)).map((r) => r.id).sort(), ['a1', 'a2', 'b1']);
  assert.deepEqual((await catalog.list(carol, { namespace: 'default' })).map((r) => r.id).sort(), ['a1', 'b1']);
  assert.deepEqual((await catalog.list(carol, { user: 'bob', pod: 'web-1' })).map((r) => r.id), ['b1']);
  assert.deepEqual((await catalog.list(carol, { pod: 'nope' })), []);
  assert.deepEqual(await catalog.list(mallory), []);
  assert.deepEqual((await catalog.list(alice, { user: 'bob' })), [], 'a filter never widens what one may see');
  assert.deepEqual(await new RecordingCatalog({ dir: join(dir, 'missing') }).list(alice), []);
  // Without a recordings group nobody sees others' recordings (an empty group name is not a group).
  assert.deepEqual((await new RecordingCatalog({ dir, recordingsGroup: '' }).list(carol)), []);
  assert.equal(mayView({ username: '', groups: [] }, '', undefined), false, 'an empty user owns nothing');
});

test('catalog: get and openCast authorize, validate ids and refuse symlinks', async (t) => {
  const dir = await tempDir(t);
  await record(dir, 'a1', 'alice', 'default', 'web-1');
  await record(dir, 'b1', 'bob', 'default', 'web-1');
  await symlink('/etc/hostname', join(dir, 'b2.cast'));
  const b1 = JSON.parse(await readFile(join(dir, 'b1.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(dir, 'b2.json'), JSON.stringify({ ...b1, id: 'b2' }));
  const catalog = new RecordingCatalog({ dir, recordingsGroup: 'auditors' });

  assert.equal((await catalog.get(alice, 'a1')).user, 'alice');
  await assert.rejects(catalog.get(mallory, 'a1'), { code: 'Forbidden', message: 'You are not allowed to see this recording.' });
  await assert.rejects(catalog.get(bob, 'a1'), { code: 'Forbidden' });
  assert.equal((await catalog.get(carol, 'a1')).id, 'a1');
  await assert.rejects(catalog.get(alice, 'zz'), { code: 'NotFound' });
  for (const id of ['../a1', 'a1.json', '/etc/passwd', '..', '', 'a1/../a1', 'a1\u0000']) {
    await assert.rejects(catalog.get(carol, id), { code: 'BadRequest' }, JSON.stringify(id));
  }

  const { fh, size, meta } = await catalog.openCast(alice, 'a1');
  try {
    assert.equal(meta.id, 'a1');
    const text = await fh.readFile('utf8');
    assert.equal(text.length, size);
    assert.match(text, /hello from web-1/);
  } finally {
    await fh.close();
  }
  await assert.rejects(catalog.openCast(bob, 'b2'), { code: 'NotFound' }, 'a symlinked cast is not served');
  await assert.rejects(catalog.openCast(mallory, 'b1'), { code: 'Forbidden' });
});

test('retention: pairs older than N days go (cast first), fresh or live ones and foreign files stay', async (t) => {
  const dir = await tempDir(t);
  const now = Date.now();
  const old = new Date(now - 10 * DAY);
  for (const id of ['old', 'fresh', 'live', 'half-fresh', 'cast-only', 'meta-only']) await writeFile(join(dir, `${id}.cast`), '{}\n');
  for (const id of ['old', 'fresh', 'live', 'half-fresh', 'meta-only']) await writeFile(join(dir, `${id}.json`), '{}\n');
  await rm(join(dir, 'meta-only.cast'));
  await writeFile(join(dir, 'notes.txt'), 'keep');
  await writeFile(join(dir, 'odd name.cast'), 'keep');
  await writeFile(join(dir, 'old.json.1234.abcdef.tmp'), '{');
  for (const f of ['old.cast', 'old.json', 'live.cast', 'live.json', 'half-fresh.json', 'cast-only.cast', 'meta-only.json', 'notes.txt', 'odd name.cast', 'old.json.1234.abcdef.tmp']) {
    await utimes(join(dir, f), old, old);
  }
  const r = await sweepRecordings(dir, now - 7 * DAY, (id) => id === 'live');
  assert.deepEqual(r.deleted.sort(), ['cast-only', 'meta-only', 'old']);
  assert.equal(r.temps, 1);
  assert.equal(r.errors, 0);
  assert.deepEqual((await readdir(dir)).sort(), [
    'fresh.cast', 'fresh.json', 'half-fresh.cast', 'half-fresh.json', 'live.cast', 'live.json', 'notes.txt', 'odd name.cast',
  ]);
});

test('retention timer: sweeps off the hot path, unref\'d, and close() stops it and leaves no timer', async (t) => {
  const dir = await tempDir(t);
  const baseline = handleCounts();
  await writeFile(join(dir, 'x.cast'), '');
  await utimes(join(dir, 'x.cast'), new Date(Date.now() - 3 * DAY), new Date(Date.now() - 3 * DAY));
  const sweeps: string[][] = [];
  const errors: unknown[] = [];
  const ret = new RecordingRetention({ dir, days: 1, firstDelayMs: 10, intervalMs: 20, onSweep: (r) => sweeps.push(r.deleted), onError: (e) => errors.push(e) });
  t.after(() => ret.close());
  const deadline = Date.now() + 10_000;
  while (sweeps.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(sweeps.slice(0, 3), [['x'], [], []], 'swept at once, then on the interval');
  await ret.close();
  await ret.close();
  assert.equal(ret.state, 'closed');
  const n = sweeps.length;
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(sweeps.length, n, 'no sweep after close');
  assert.equal(await ret.sweep(), undefined);
  await assertHandlesBack(baseline);
  assert.deepEqual(errors, []);

  const brokenErrors: unknown[] = [];
  const broken = new RecordingRetention({ dir: join(dir, 'missing'), days: 1, firstDelayMs: 0, onError: (e) => brokenErrors.push(e) });
  assert.equal(await broken.sweep(), undefined);
  await broken.close();
  assert.equal((brokenErrors[0] as NodeJS.ErrnoException).code, 'ENOENT');
  assert.throws(() => new RecordingRetention({ dir, days: 0 }), RangeError);
  await assertHandlesBack(baseline);
});
