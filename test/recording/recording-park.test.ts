/**
 * An idle recording parks its file: the descriptor closes after `parkAfterMs` with everything
 * written, and the next output opens it again for appending. The recording is the same file byte
 * for byte; a .cast that vanished while parked is a write error, never a new headerless file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, mkdtemp, readFile, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PodtermError } from '../../src/protocol/errors.js';
import { AsciicastWriter, type AsciicastWriterOptions } from '../../src/recording/asciicast-writer.js';
import type { RecordingStop } from '../../src/recording/recording-files.js';
import { asciinemaCat, outputOf, parseCast, writerHost } from '../helpers/asciicast.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ID = 'park-1';
const SUBJECT = { session: ID, user: 'alice', groups: [], replica: 'podterm-0', namespace: 'default', pod: 'web-1', container: 'app', command: ['sh'] };
type Stops = Array<{ stop: RecordingStop; fatal: PodtermError | undefined }>;

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-recpark-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function opts(dir: string, stops: Stops, extra: Partial<AsciicastWriterOptions> = {}): AsciicastWriterOptions {
  return { dir, id: ID, host: writerHost(SUBJECT, { recordingStopped: (stop, fatal) => stops.push({ stop, fatal }) }), width: 80, height: 24, flushIntervalMs: 20, parkAfterMs: 50, ...extra };
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('idle: the file parks (no descriptor) and reopens for the next output; the recording is whole, in order', async (t) => {
  const dir = await tempDir(t);
  const stops: Stops = [];
  const w = await AsciicastWriter.open(opts(dir, stops));
  t.after(() => w.close({ exitCode: null, outcome: 'test' }));
  assert.equal(AsciicastWriter.live, 1);
  await until(() => AsciicastWriter.openFiles === 0, 'the header-only file to park');
  const sent: Buffer[] = [];
  for (let burst = 0; burst < 5; burst++) {
    // A burst that splits a character across the park: the carried byte must survive it.
    const text = Buffer.from(`burst ${burst}: 日本語 €\r\n`, 'utf8');
    const cut = text.indexOf(0xe2); // inside '€'
    w.output(text.subarray(0, cut + 1));
    sent.push(text);
    if (burst === 2) w.resize(100, 30);
    await until(() => AsciicastWriter.openFiles === 1, `burst ${burst} to reopen the file`);
    await until(() => AsciicastWriter.openFiles === 0, `burst ${burst} to park`);
    w.output(text.subarray(cut + 1));
  }
  const { meta } = await w.close({ exitCode: 0, outcome: 'exit' });
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(AsciicastWriter.openFiles, 0);
  assert.deepEqual(stops, []);
  const raw = await readFile(join(dir, `${ID}.cast`));
  const cast = parseCast(raw.toString('utf8'));
  assert.equal(sha(outputOf(cast)), sha(Buffer.concat(sent)), 'the o events are the bytes given');
  assert.deepEqual(cast.events.filter((e) => e[1] === 'r').map((e) => e[2]), ['100x30']);
  assert.equal(cast.events.at(-1)?.[2], 'end: exit');
  assert.equal(meta.bytes, raw.byteLength, 'the sidecar counts every byte, across reopens');
  assert.equal(sha(await asciinemaCat(join(dir, `${ID}.cast`))), sha(Buffer.concat(sent)), 'asciinema cat agrees');
});

test('a .cast deleted while parked: the next write fails (ENOENT), nothing headerless is created; strict ends the session', async (t) => {
  for (const mode of ['best-effort', 'strict'] as const) {
    const dir = await tempDir(t);
    const stops: Stops = [];
    const w = await AsciicastWriter.open(opts(dir, stops, { mode }));
    await until(() => AsciicastWriter.openFiles === 0, 'the file to park');
    await unlink(join(dir, `${ID}.cast`));
    w.output(Buffer.from('after the delete\r\n'));
    await until(() => stops.length > 0, `${mode}: the stop`);
    assert.equal(stops[0]!.stop.reason, 'write-error');
    assert.equal(stops[0]!.stop.errno, 'ENOENT');
    assert.equal(stops[0]!.fatal?.code, mode === 'strict' ? 'RecordingFailed' : undefined);
    const { meta } = await w.close({ exitCode: null, outcome: 'test' });
    assert.equal(meta.stopped?.reason, 'write-error');
    await assert.rejects(access(join(dir, `${ID}.cast`)), { code: 'ENOENT' }, `${mode}: no new .cast`);
    assert.deepEqual((await readdir(dir)).sort(), [`${ID}.json`]);
    assert.equal(AsciicastWriter.live, 0);
    assert.equal(AsciicastWriter.openFiles, 0);
  }
});

test('a file it did not create (exclusive: false) is never parked; parkAfterMs 0 never parks', async (t) => {
  for (const extra of [{ exclusive: false }, { parkAfterMs: 0 }]) {
    const dir = await tempDir(t);
    const w = await AsciicastWriter.open(opts(dir, [], extra));
    w.output(Buffer.from('x'));
    await sleep(300);
    assert.equal(AsciicastWriter.openFiles, 1, JSON.stringify(extra));
    await w.close({ exitCode: 0, outcome: 'exit' });
    assert.equal(AsciicastWriter.openFiles, 0);
    assert.equal(AsciicastWriter.live, 0);
  }
});

test('close while parked: the end marker reopens, is written and synced, and the descriptor closes', async (t) => {
  const dir = await tempDir(t);
  const w = await AsciicastWriter.open(opts(dir, []));
  w.output(Buffer.from('hello\r\n'));
  await until(() => AsciicastWriter.openFiles === 0, 'the file to park');
  const { meta } = await w.close({ exitCode: 3, outcome: 'exit' });
  const cast = parseCast((await readFile(join(dir, `${ID}.cast`))).toString('utf8'));
  assert.equal(outputOf(cast).toString(), 'hello\r\n');
  assert.equal(cast.events.at(-1)?.[2], 'end: exit');
  assert.equal(meta.exitCode, 3);
  assert.equal(AsciicastWriter.openFiles, 0);
  assert.equal(AsciicastWriter.live, 0);
});

test('a parked writer keeps none of the objects it was opened with but its subject and events (per-session heap, issue 11)', async (t) => {
  const dir = await tempDir(t);
  const stops: Stops = [];
  let o: AsciicastWriterOptions | undefined = opts(dir, stops);
  const options = new WeakRef(o);
  const w = await AsciicastWriter.open(o);
  o = undefined;
  t.after(() => w.close({ exitCode: null, outcome: 'test' }));
  w.output(Buffer.from('prompt $ ', 'utf8'));
  await until(() => AsciicastWriter.openFiles === 1, 'the output to be written');
  await until(() => AsciicastWriter.openFiles === 0, 'the file to park');
  // The options object is garbage once open() is done: an idle recorded session pays for each
  // object its writer keeps (thousands of them per gateway).
  for (let i = 0; i < 5 && options.deref(); i++) {
    await sleep(10);
    (globalThis as { gc?: () => void }).gc?.();
  }
  assert.ok(typeof (globalThis as { gc?: unknown }).gc === 'function', 'the suite runs with --expose-gc');
  assert.equal(options.deref(), undefined, 'the writer still holds its options object');
  const { meta } = await w.close({ exitCode: 0, outcome: 'exit' });
  assert.equal(meta.user, 'alice');
  assert.equal(meta.pod, 'web-1');
});
