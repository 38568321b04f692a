/**
 * A recording starts at once (AsciicastWriter.start): the file is created on the thread pool while
 * the header and whatever the session does meanwhile wait in the write queue, in order, under the
 * same caps as later events; past the buffer cap the recording stops with the slow-disk marker.
 * Strict mode still refuses before the exec: opened() rejects with RecordingFailed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { recordingSubject, startRecording, type RecordedInit } from '../../src/actor/session-recording.js';
import type { RecordingSettings } from '../../src/actor-link/actor-messages.js';
import { PodtermError } from '../../src/protocol/errors.js';
import { AsciicastWriter, type WriterHost } from '../../src/recording/asciicast-writer.js';
import type { RecordingStop } from '../../src/recording/recording-files.js';
import { outputOf, parseCast } from '../helpers/asciicast.js';

const MiB = 1024 * 1024;

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-recstart-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function init(session: string): RecordedInit {
  return {
    session,
    namespace: 'default',
    pod: 'web-1',
    container: 'app',
    command: ['sh'],
    cols: 80,
    rows: 24,
    recording: { user: 'alice', groups: ['dev'] },
  } as unknown as RecordedInit;
}

function settings(dir: string, mode: 'best-effort' | 'strict' = 'best-effort'): RecordingSettings {
  return { dir, mode, maxBytes: 0, recordInput: true, replica: 'podterm-0' };
}

/** What the actor is to its recording: the subject from its init, and the stops. */
class Host implements WriterHost {
  readonly stops: RecordingStop[] = [];
  failed: PodtermError | undefined;
  constructor(readonly init: RecordedInit) {}
  recordingSubject() {
    return recordingSubject(this.init, 'podterm-0', 'app', ['sh']);
  }
  recordingStopped(stop: RecordingStop, fatal: PodtermError | undefined): void {
    this.stops.push(stop);
    this.failed ??= fatal;
  }
}

function start(dir: string, id: string, mode: 'best-effort' | 'strict' = 'best-effort'): { rec: AsciicastWriter; host: Host } {
  const host = new Host(init(id));
  return { rec: startRecording(host.init, settings(dir, mode), host), host };
}

test('events before the .cast exists are held and written in order once it does; the sidecar names the person', async (t) => {
  const dir = await tempDir(t);
  const { rec, host } = start(dir, 'early-1');
  // The file is created on the thread pool: everything below happens before it exists.
  rec.output(Buffer.from('motd 日本', 'utf8'));
  const reused = Buffer.from('語\r\n$ ', 'utf8');
  rec.output(reused);
  reused.fill(0); // the caller reuses its buffer: the queued event must be a copy
  rec.resize(100, 30);
  rec.input(Buffer.from('ls\r', 'utf8'));
  rec.marker('observer joined');
  await rec.opened();
  rec.output(Buffer.from('after\r\n', 'utf8'));
  await rec.close({ exitCode: 0, outcome: 'exit' });
  assert.equal(AsciicastWriter.live, 0);
  const cast = parseCast(await readFile(join(dir, 'early-1.cast'), 'utf8'));
  assert.equal(outputOf(cast).toString('utf8'), 'motd 日本語\r\n$ after\r\n');
  const kinds = cast.events.map((e) => (e[1] === 'o' ? 'o' : `${e[1]}:${e[2]}`));
  assert.deepEqual(kinds.filter((k, i) => k !== 'o' || kinds[i - 1] !== 'o'), ['o', 'r:100x30', 'i:ls\r', 'm:observer joined', 'o', 'm:end: exit']);
  const meta = JSON.parse(await readFile(join(dir, 'early-1.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(meta.user, 'alice');
  assert.deepEqual(meta.groups, ['dev']);
  assert.equal(meta.container, 'app');
  assert.deepEqual(host.stops, []);
});

test('more queued than the buffer cap before the file exists: what fits is written, then the slow-disk stop; nothing after it, the session goes on', async (t) => {
  const dir = await tempDir(t);
  const { rec, host } = start(dir, 'early-2');
  // 16 MiB less 2 KiB fits in the writer with its JSON framing; the 4 KiB after it passes the cap
  // while the file is being created, so it is dropped and the recording must say it stopped there.
  const fits = 16 * MiB - 2048;
  for (let left = fits; left > 0; left -= MiB) rec.output(Buffer.alloc(Math.min(MiB, left), 'x'));
  rec.output(Buffer.alloc(4096, 'y'));
  rec.marker('after the cap');
  await rec.opened();
  rec.output(Buffer.from('dropped', 'utf8'));
  await rec.close({ exitCode: 0, outcome: 'exit' });
  assert.equal(host.stops.length, 1);
  assert.equal(host.stops[0]?.reason, 'buffer-full');
  assert.equal(host.failed, undefined);
  const cast = parseCast(await readFile(join(dir, 'early-2.cast'), 'utf8'));
  const out = outputOf(cast);
  assert.equal(out.byteLength, fits, 'everything held below the cap is written');
  assert.ok(!out.includes('y') && !out.includes('dropped'), 'nothing after the cap is written');
  assert.ok(!cast.events.some((e) => e[1] === 'm' && e[2] === 'after the cap'));
  assert.match(cast.events.at(-1)?.[2] ?? '', /buffer cap reached/);
  assert.equal(AsciicastWriter.live, 0);
});

test('strict: a recording that cannot start rejects opened() with RecordingFailed, and close still settles', async () => {
  const { rec, host } = start('/proc/podterm-no-such-dir', 'early-3', 'strict');
  await assert.rejects(rec.opened(), (err: unknown) => err instanceof PodtermError && err.code === 'RecordingFailed');
  rec.output(Buffer.from('never recorded', 'utf8'));
  const end = await rec.close({ exitCode: null, outcome: 'error' });
  assert.equal(end.metaWritten, false);
  assert.deepEqual(host.stops, [], 'a refused start is the caller\'s to report, not a stop');
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(AsciicastWriter.openFiles, 0);
});

test('a session that ends before its .cast exists still gets a whole recording, and nothing is left open', async (t) => {
  const dir = await tempDir(t);
  const { rec } = start(dir, 'early-4');
  rec.output(Buffer.from('bye\r\n', 'utf8'));
  // The close funnel runs while the file is still being created (an exec that failed at once).
  await rec.close({ exitCode: null, outcome: 'error' });
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(AsciicastWriter.openFiles, 0);
  const cast = parseCast(await readFile(join(dir, 'early-4.cast'), 'utf8'));
  assert.equal(outputOf(cast).toString('utf8'), 'bye\r\n');
  assert.equal(cast.events.at(-1)?.[2], 'end: error');
  const meta = JSON.parse(await readFile(join(dir, 'early-4.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(meta.outcome, 'error');
  assert.notEqual(meta.endedAt, null);
});

test('strict: a start refused because the .cast exists leaves that file alone', async (t) => {
  const dir = await tempDir(t);
  const first = start(dir, 'taken');
  first.rec.output(Buffer.from('the first recording\r\n', 'utf8'));
  await first.rec.close({ exitCode: 0, outcome: 'exit' });
  const before = await readFile(join(dir, 'taken.cast'), 'utf8');
  const second = start(dir, 'taken', 'strict');
  await assert.rejects(second.rec.opened(), (err: unknown) => err instanceof PodtermError && err.code === 'RecordingFailed');
  await second.rec.close({ exitCode: null, outcome: 'error' });
  assert.equal(await readFile(join(dir, 'taken.cast'), 'utf8'), before, 'the exclusive create failed: the file is not this recording\'s to remove');
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(AsciicastWriter.openFiles, 0);
});

test('what happens before the .cast exists is stamped when it happened, not when the file came', async (t) => {
  const dir = await tempDir(t);
  // Hold every thread-pool thread in an open of a FIFO nobody writes to: the create waits behind them.
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const fifos = Array.from({ length: threads }, (_, i) => join(dir, `block-${i}`));
  for (const f of fifos) assert.equal(spawnSync('mkfifo', [f]).status, 0, 'mkfifo');
  const blocked = fifos.map((f) => open(f, 'r'));
  const { rec } = start(dir, 'stamped');
  rec.output(Buffer.from('first\r\n', 'utf8'));
  await new Promise((r) => setTimeout(r, 150));
  rec.output(Buffer.from('second\r\n', 'utf8'));
  assert.equal(existsSync(join(dir, 'stamped.cast')), false, 'the file is not there yet (the thread pool is held)');
  // Let the thread pool go: a writer for each FIFO ends the open that held its thread.
  for (const f of fifos) closeSync(openSync(f, 'w'));
  for (const h of blocked) await (await h).close();
  await rec.opened();
  await rec.close({ exitCode: 0, outcome: 'exit' });
  const cast = parseCast(await readFile(join(dir, 'stamped.cast'), 'utf8'));
  const [first, second] = cast.events.filter((e) => e[1] === 'o');
  assert.equal(first?.[2], 'first\r\n');
  assert.equal(second?.[2], 'second\r\n');
  assert.ok(first![0] < 0.1, `the first output at its own time (${first![0]} s), not at the create`);
  assert.ok(second![0] - first![0] >= 0.14, `the gap between them kept (${second![0] - first![0]} s)`);
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(AsciicastWriter.openFiles, 0);
});
