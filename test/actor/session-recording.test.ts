/**
 * The actor's recording starts beside the exec in best-effort mode (session-recording.ts): what
 * the session does before the .cast exists is held, in order, and written once it does; past the
 * buffer cap the recording stops with the slow-disk marker. Strict mode still refuses before the
 * exec: started() rejects with RecordingFailed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SessionRecording, type RecordedInit, type RecordingHost } from '../../src/actor/session-recording.js';
import type { RecordingSettings } from '../../src/actor-link/actor-messages.js';
import { PodtermError } from '../../src/protocol/errors.js';
import { AsciicastWriter } from '../../src/recording/asciicast-writer.js';
import type { RecordingStop } from '../../src/recording/recording-files.js';
import { outputOf, parseCast } from '../helpers/asciicast.js';

const MiB = 1024 * 1024;

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-sessrec-'));
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

class Host implements RecordingHost {
  readonly stops: RecordingStop[] = [];
  failed: PodtermError | undefined;
  recordingFailed(err: PodtermError): void {
    this.failed = err;
  }
  recordingPaced(): void {}
  recordingStopped(stop: RecordingStop): void {
    this.stops.push(stop);
  }
}
const log = (): void => undefined;

test('events before the .cast exists are held and written in order once it does; the sidecar names the person', async (t) => {
  const dir = await tempDir(t);
  const host = new Host();
  const rec = SessionRecording.begin(init('early-1'), settings(dir), 'app', ['sh'], host, log);
  // The file is created on the thread pool: everything below happens before it exists.
  rec.output(Buffer.from('motd 日本', 'utf8'));
  const reused = Buffer.from('語\r\n$ ', 'utf8');
  rec.output(reused);
  reused.fill(0); // the caller reuses its buffer: the held event must be a copy
  rec.resize(100, 30);
  rec.input(Buffer.from('ls\r', 'utf8'));
  rec.marker('observer joined');
  await rec.started();
  rec.output(Buffer.from('after\r\n', 'utf8'));
  await rec.close(0, 'exit');
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

test('more held than the buffer cap: what fits is written, then the slow-disk stop; nothing after it, the session goes on', async (t) => {
  const dir = await tempDir(t);
  const host = new Host();
  const rec = SessionRecording.begin(init('early-2'), settings(dir), 'app', ['sh'], host, log);
  // 16 MiB less 2 KiB fits in the writer with its JSON framing; the 4 KiB after it passes the cap
  // while the file is being created, so it is dropped and the recording must say it stopped there.
  const fits = 16 * MiB - 2048;
  for (let left = fits; left > 0; left -= MiB) rec.output(Buffer.alloc(Math.min(MiB, left), 'x'));
  rec.output(Buffer.alloc(4096, 'y'));
  rec.marker('after the cap');
  await rec.started();
  rec.output(Buffer.from('dropped', 'utf8'));
  await rec.close(0, 'exit');
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

test('strict: a recording that cannot start rejects started() with RecordingFailed, and close still settles', async () => {
  const host = new Host();
  const rec = SessionRecording.begin(init('early-3'), settings('/proc/podterm-no-such-dir', 'strict'), 'app', ['sh'], host, log);
  await assert.rejects(rec.started(), (err: unknown) => err instanceof PodtermError && err.code === 'RecordingFailed');
  rec.output(Buffer.from('never recorded', 'utf8'));
  await rec.close(null, 'error');
  assert.equal(AsciicastWriter.live, 0);
});

test('a session that ends before its .cast exists still gets a whole recording, and nothing is left open', async (t) => {
  const dir = await tempDir(t);
  const host = new Host();
  const rec = SessionRecording.begin(init('early-4'), settings(dir), 'app', ['sh'], host, log);
  rec.output(Buffer.from('bye\r\n', 'utf8'));
  // The close funnel runs while the file is still being created (an exec that failed at once).
  await rec.close(null, 'error');
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(AsciicastWriter.openFiles, 0);
  const cast = parseCast(await readFile(join(dir, 'early-4.cast'), 'utf8'));
  assert.equal(outputOf(cast).toString('utf8'), 'bye\r\n');
  assert.equal(cast.events.at(-1)?.[2], 'end: error');
  const meta = JSON.parse(await readFile(join(dir, 'early-4.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(meta.outcome, 'error');
  assert.notEqual(meta.endedAt, null);
});
