/**
 * What happens when the disk fails or does not keep up, with targets that really fail: /dev/full
 * (every write is ENOSPC), a FIFO whose reader leaves (EPIPE), a FIFO nobody reads (a disk that
 * stalls: writes block in the thread pool), and --record-max-bytes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdtemp, open, readFile, rm, symlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PodtermError } from '../../src/protocol/errors.js';
import { OutputSlot } from '../../src/recording/output-slots.js';
import { AsciicastWriter, type AsciicastWriterOptions } from '../../src/recording/asciicast-writer.js';
import type { RecordingStop } from '../../src/recording/recording-files.js';
import { outputOf, parseCast, writerHost } from '../helpers/asciicast.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ID = 'sess-1';
const SUBJECT = {
  session: ID, user: 'alice', groups: [], replica: 'podterm-0', namespace: 'default', pod: 'web-1', container: 'app', command: ['sh'],
};

type Stops = Array<{ stop: RecordingStop; fatal: PodtermError | undefined }>;

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-recfail-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function opts(dir: string, stops: Stops, extra: Partial<AsciicastWriterOptions> = {}): AsciicastWriterOptions {
  return { dir, id: ID, host: writerHost(SUBJECT, { recordingStopped: (stop, fatal) => stops.push({ stop, fatal }) }), width: 80, height: 24, ...extra };
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A FIFO at the .cast's path and its read end (opened while the writer opens the write end). */
async function fifoCast(dir: string, t: { after: (fn: () => Promise<void>) => void }): Promise<{ path: string; reader: () => Promise<FileHandle> }> {
  const path = join(dir, `${ID}.cast`);
  assert.equal(spawnSync('mkfifo', [path]).status, 0, 'mkfifo');
  const readerP = open(path, 'r');
  t.after(async () => (await readerP.catch(() => undefined))?.close().catch(() => undefined));
  return { path, reader: () => readerP };
}

async function readAll(fh: FileHandle): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) return Buffer.concat(parts);
    parts.push(buf.subarray(0, bytesRead));
  }
}

test('strict: a file that cannot be written (/dev/full) refuses the session with RecordingFailed; nothing is left open', async (t) => {
  const dir = await tempDir(t);
  await symlink('/dev/full', join(dir, `${ID}.cast`));
  const stops: Stops = [];
  const err = await AsciicastWriter.open(opts(dir, stops, { mode: 'strict', exclusive: false })).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof PodtermError);
  assert.equal(err.code, 'RecordingFailed');
  assert.equal(err.closeCode, 4414);
  assert.equal(err.httpStatus, 503);
  assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOSPC', 'the cause is the real write error');
  assert.deepEqual(stops, [], 'a refused open reports through its rejection only');
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(OutputSlot.inUse, 0, 'every write slot is back in the pool');
  await assert.rejects(access(join(dir, `${ID}.json`)), 'no sidecar for a refused session');
  // A record dir that does not exist is refused the same way (and leaves no file).
  await assert.rejects(AsciicastWriter.open(opts(join(dir, 'missing'), stops, { mode: 'strict' })), { code: 'RecordingFailed' });
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(OutputSlot.inUse, 0, 'every write slot is back in the pool');
});

test('best-effort: /dev/full keeps the session going, reports ENOSPC once, and the sidecar says where it stopped', async (t) => {
  const dir = await tempDir(t);
  await symlink('/dev/full', join(dir, `${ID}.cast`));
  const stops: Stops = [];
  const w = await AsciicastWriter.open(opts(dir, stops, { exclusive: false }));
  // Best-effort open() waits for the file, not for the header's write: that fails just after.
  await until(() => stops.length > 0, 'the stop');
  assert.equal(w.state, 'stopped');
  assert.equal(stops.length, 1);
  const { at, ...stop } = stops[0]!.stop;
  assert.deepEqual(stop, { reason: 'write-error', atBytes: 0, errno: 'ENOSPC' });
  assert.ok(at >= 0 && at < 5, `at: when it stopped, in seconds of the recording (${at})`);
  assert.equal(stops[0]!.fatal, undefined);
  for (let i = 0; i < 100; i++) assert.equal(w.output(Buffer.from('still going\r\n')), true);
  w.marker('join bob');
  const { meta, metaWritten } = await w.close({ exitCode: 0, outcome: 'exit' });
  assert.equal(metaWritten, true);
  assert.equal(stops.length, 1, 'reported once');
  assert.equal(meta.stopped?.reason, 'write-error');
  assert.equal(meta.stopped?.errno, 'ENOSPC');
  assert.equal(meta.droppedEvents, 102);
  assert.equal(meta.exitCode, 0);
  assert.deepEqual(JSON.parse(await readFile(join(dir, `${ID}.json`), 'utf8')), meta);
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(OutputSlot.inUse, 0, 'every write slot is back in the pool');
});

test('strict: a write that fails mid-session (the reader of a FIFO leaves: EPIPE) reports a fatal RecordingFailed', async (t) => {
  const dir = await tempDir(t);
  const fifo = await fifoCast(dir, t);
  const stops: Stops = [];
  const w = await AsciicastWriter.open(opts(dir, stops, { mode: 'strict', exclusive: false, flushIntervalMs: 20 }));
  const reader = await fifo.reader();
  const head = Buffer.alloc(4096);
  const { bytesRead } = await reader.read(head, 0, head.length, null);
  assert.equal(JSON.parse(head.subarray(0, bytesRead).toString('utf8').split('\n')[0]!).version, 2);
  await reader.close();
  assert.equal(w.output(Buffer.from('typed after the disk went away')), true);
  await until(() => stops.length > 0, 'the stop');
  assert.equal(stops.length, 1);
  assert.equal(stops[0]!.stop.reason, 'write-error');
  assert.equal(stops[0]!.stop.errno, 'EPIPE');
  assert.equal(stops[0]!.fatal?.code, 'RecordingFailed', 'strict: the session must end');
  assert.equal(w.state, 'stopped');
  const { meta } = await w.close({ exitCode: null, outcome: 'recording-failed' });
  assert.equal(meta.stopped?.reason, 'write-error');
  assert.equal(meta.outcome, 'recording-failed');
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(OutputSlot.inUse, 0, 'every write slot is back in the pool');
});

test('--record-max-bytes: best-effort stops with a marker where it stops; strict reports it as fatal', async (t) => {
  const dir = await tempDir(t);
  const stops: Stops = [];
  const w = await AsciicastWriter.open(opts(dir, stops, { maxBytes: 4096, coalesceMs: 0 }));
  const input = Buffer.from('0123456789'.repeat(10));
  for (let i = 0; i < 100; i++) {
    w.output(input);
    await sleep(1);
  }
  const { meta } = await w.close({ exitCode: 0, outcome: 'exit' });
  assert.equal(stops.length, 1);
  assert.equal(stops[0]!.stop.reason, 'max-bytes');
  assert.equal(stops[0]!.fatal, undefined);
  const raw = await readFile(join(dir, `${ID}.cast`));
  const cast = parseCast(raw.toString('utf8'));
  const last = cast.events.at(-1)!;
  assert.deepEqual(last.slice(1), ['m', 'recording stopped: --record-max-bytes reached']);
  assert.ok(raw.length - Buffer.byteLength(JSON.stringify(last)) - 1 <= 4096, `the events before the marker fit the cap (${raw.length})`);
  const out = outputOf(cast);
  assert.ok(out.length > 2000 && out.length < 4096);
  assert.ok(Buffer.concat(Array.from({ length: 100 }, () => input)).subarray(0, out.length).equals(out), 'what is recorded is a prefix');
  assert.equal(meta.stopped?.reason, 'max-bytes');
  const markerLine = raw.length - (raw.lastIndexOf(0x0a, raw.length - 2) + 1);
  assert.equal(meta.stopped?.atBytes, raw.length - markerLine, 'atBytes: where the complete part ends');
  assert.ok(meta.droppedEvents > 50);

  const strictStops: Stops = [];
  const s = await AsciicastWriter.open(opts(dir, strictStops, { id: 'strict-cap', maxBytes: 1024, mode: 'strict' }));
  s.output(Buffer.alloc(2048, 0x61));
  await s.close({ exitCode: 0, outcome: 'exit' });
  assert.equal(strictStops[0]?.stop.reason, 'max-bytes');
  assert.equal(strictStops[0]?.fatal?.code, 'RecordingFailed');
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(OutputSlot.inUse, 0, 'every write slot is back in the pool');
});

test('best-effort, a disk that stalls (a FIFO nobody reads): output never waits, the buffer cap stops the recording with a marker', async (t) => {
  const dir = await tempDir(t);
  const fifo = await fifoCast(dir, t);
  const stops: Stops = [];
  const w = await AsciicastWriter.open(opts(dir, stops, { exclusive: false, bufferBytes: 256 * 1024, flushBytes: 16 * 1024 }));
  const reader = await fifo.reader();
  const stream = Buffer.alloc(2 * 1024 * 1024, 'abcdefgh\r\n');
  for (let off = 0; off < stream.length; off += 8192) {
    assert.equal(w.output(stream.subarray(off, off + 8192)), true, 'best-effort never asks to pause');
    if (off % 65536 === 0) await sleep(1);
  }
  assert.equal(stops.length, 1);
  assert.equal(stops[0]!.stop.reason, 'buffer-full');
  assert.equal(w.state, 'stopped');
  const [drained, { meta }] = await Promise.all([readAll(reader), w.close({ exitCode: 0, outcome: 'exit' })]);
  const cast = parseCast(drained.toString('utf8'));
  assert.deepEqual(cast.events.at(-1)!.slice(1), ['m', 'recording stopped: the disk did not keep up (buffer cap reached)']);
  const out = outputOf(cast);
  assert.ok(out.length > 100_000 && out.length < stream.length, `recorded ${out.length}`);
  assert.ok(stream.subarray(0, out.length).equals(out), 'what is recorded is a prefix');
  assert.equal(meta.stopped?.reason, 'buffer-full');
  assert.equal(meta.bytes, drained.length);
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(OutputSlot.inUse, 0, 'every write slot is back in the pool');
});

test('strict, a disk that stalls: output() asks to pause above half the cap, recordingDrained resumes, nothing is lost', async (t) => {
  const dir = await tempDir(t);
  const fifo = await fifoCast(dir, t);
  const stops: Stops = [];
  let drains = 0;
  const w = await AsciicastWriter.open(opts(dir, stops, {
    mode: 'strict', exclusive: false, bufferBytes: 256 * 1024, flushBytes: 16 * 1024,
    host: writerHost(SUBJECT, { recordingStopped: (stop, fatal) => stops.push({ stop, fatal }), recordingDrained: () => drains++ }),
  }));
  const reader = await fifo.reader();
  const stream = Buffer.alloc(2 * 1024 * 1024, 'abcdefgh\r\n');
  let off = 0;
  let paused = 0;
  const drained = (async () => {
    await sleep(100); // the reader starts late: the pipe fills and the writes block
    return readAll(reader);
  })();
  while (off < stream.length) {
    const more = w.output(stream.subarray(off, off + 8192));
    off += 8192;
    if (!more) {
      paused++;
      const seen = drains;
      await until(() => drains > seen, 'recordingDrained');
    } else if (off % 65536 === 0) {
      await sleep(1);
    }
  }
  const [bytes, { meta }] = await Promise.all([drained, w.close({ exitCode: 0, outcome: 'exit' })]);
  assert.ok(paused > 0, 'the source was asked to pause');
  assert.equal(drains, paused);
  assert.deepEqual(stops, []);
  assert.equal(meta.stopped, null);
  assert.equal(sha(outputOf(parseCast(bytes.toString('utf8')))), sha(stream));
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(OutputSlot.inUse, 0, 'every write slot is back in the pool');
});

test('close gives up on a write that does not finish (close-timeout), and the handle closes once it does', async (t) => {
  const dir = await tempDir(t);
  const fifo = await fifoCast(dir, t);
  const stops: Stops = [];
  const w = await AsciicastWriter.open(opts(dir, stops, { exclusive: false, closeTimeoutMs: 300 }));
  const reader = await fifo.reader();
  w.output(Buffer.alloc(512 * 1024, 'x'));
  const started = Date.now();
  const { meta, metaWritten } = await w.close({ exitCode: 0, outcome: 'exit' });
  assert.ok(Date.now() - started < 5000);
  assert.equal(metaWritten, true);
  assert.equal(meta.stopped?.reason, 'close-timeout');
  assert.equal(stops[0]?.stop.reason, 'close-timeout');
  assert.equal(w.state, 'closed');
  assert.equal(AsciicastWriter.live, 1, 'the stuck write still holds the handle');
  await readAll(reader);
  await until(() => AsciicastWriter.live === 0, 'the handle to close');
});
