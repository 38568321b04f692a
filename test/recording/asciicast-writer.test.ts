import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { OutputSlot } from '../../src/recording/output-slots.js';
import { AsciicastWriter, type AsciicastWriterOptions } from '../../src/recording/asciicast-writer.js';
import type { RecordingMeta } from '../../src/recording/recording-files.js';
import { asciinemaCat, outputOf, parseCast, writerHost } from '../helpers/asciicast.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const SUBJECT = {
  session: 'c0ffee00-0000-4000-8000-000000000001',
  user: 'alice',
  groups: ['dev', 'oncall'],
  replica: 'podterm-0',
  namespace: 'default',
  pod: 'web-1',
  container: 'app',
  command: ['/bin/bash', '-l'],
};

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-rec-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function opts(dir: string, extra: Partial<AsciicastWriterOptions> = {}): AsciicastWriterOptions {
  return { dir, id: SUBJECT.session, host: writerHost(SUBJECT), width: 80, height: 24, ...extra };
}

/** Every chunk boundary: split into pieces of `n` bytes, so multi-byte characters break everywhere. */
function pieces(b: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += n) out.push(b.subarray(i, i + n));
  return out;
}

const TEXT = Buffer.from(
  'plain ascii\r\n' +
  'héllo wörld — “quotes” ½ €\r\n' +
  '日本語のテキスト、中文字符、한국어 텍스트\r\n' +
  'emoji 👩‍💻 🇩🇪 𝄞 and a variation selector ☃️\r\n' +
  '\x1b[1;31mred\x1b[0m \x1b]0;title\x07 \x1b[?1049h\x1b[2J\x1b[H alt screen \x1b[?1049l\r\n' +
  'backslash \\ quote " tab \t bell \x07 nul \x00 del \x7f U+2028 \u2028 U+202E \u202e\r\n',
  'utf8',
);

test('a session recording: header, UTF-8 split at every byte, resize, markers; asciinema cat prints the same bytes', async (t) => {
  const dir = await tempDir(t);
  const w = await AsciicastWriter.open(opts(dir, { flushBytes: 1024 }));
  assert.equal(AsciicastWriter.live, 1);
  for (const [i, size] of [1, 2, 3, 5, 7, 4096].entries()) {
    for (const p of pieces(TEXT, size)) assert.equal(w.output(p), true);
    if (i === 2) w.resize(120, 40);
    if (i === 3) w.marker('join bob (observer)');
    await sleep(2);
  }
  const { meta, metaWritten } = await w.close({ exitCode: 0, outcome: 'exit' });
  assert.equal(metaWritten, true);
  assert.equal(AsciicastWriter.live, 0, 'the file handle is closed');

  const file = join(dir, `${SUBJECT.session}.cast`);
  const raw = await readFile(file);
  const cast = parseCast(raw.toString('utf8'));
  const expected = Buffer.concat(Array.from({ length: 6 }, () => TEXT));
  assert.equal(sha(outputOf(cast)), sha(expected), 'o events carry exactly the bytes given');
  assert.ok(!cast.events.some((e) => e[1] === 'o' && e[2].includes('\ufffd')), 'no split character was replaced');
  assert.deepEqual(cast.header, {
    version: 2, width: 80, height: 24, timestamp: cast.header.timestamp,
    command: '/bin/bash -l', title: 'default/web-1/app', env: { TERM: 'xterm-256color', SHELL: '/bin/bash' },
  });
  assert.ok(Math.abs((cast.header.timestamp as number) - Date.now() / 1000) < 60);
  assert.deepEqual(cast.events.filter((e) => e[1] === 'r').map((e) => e[2]), ['120x40']);
  assert.deepEqual(cast.events.filter((e) => e[1] === 'm').map((e) => e[2]), ['join bob (observer)', 'end: exit']);
  assert.equal(cast.events.at(-1)![1], 'm', 'the end marker is last');

  const printed = await asciinemaCat(file);
  assert.equal(sha(printed), sha(expected), 'asciinema cat prints exactly the recorded output');

  const side = JSON.parse(await readFile(join(dir, `${SUBJECT.session}.json`), 'utf8')) as RecordingMeta;
  assert.deepEqual(side, meta);
  assert.equal(side.bytes, raw.length);
  assert.equal(side.outputBytes, expected.length);
  assert.equal(side.exitCode, 0);
  assert.equal(side.stopped, null);
  assert.equal(side.user, 'alice');
  assert.deepEqual(side.groups, ['dev', 'oncall']);
  assert.ok(side.endedAt && side.endedAt >= side.startedAt);
});

test('a 4 MiB flood in small pieces: coalesced into larger events, bytes identical (sha-256), asciinema cat agrees', async (t) => {
  const dir = await tempDir(t);
  const w = await AsciicastWriter.open(opts(dir));
  const line = Buffer.from('0123456789 abcdefghij ÄÖÜ 日本 \x1b[32mgreen\x1b[0m\r\n');
  const stream = Buffer.concat(Array.from({ length: Math.ceil((4 * 1024 * 1024) / line.length) }, () => line));
  // Pieces of an odd size below the large-piece size (those are events of their own: output-slots.test.ts):
  // most boundaries fall inside a character.
  const parts = pieces(stream, 1_021);
  for (const [i, p] of parts.entries()) {
    w.output(p);
    if (i % 256 === 0) await sleep(1);
  }
  const { meta } = await w.close({ exitCode: null, outcome: 'client-gone' });
  const file = join(dir, `${SUBJECT.session}.cast`);
  const cast = parseCast(await readFile(file, 'utf8'));
  assert.equal(sha(outputOf(cast)), sha(stream));
  assert.ok(cast.events.filter((e) => e[1] === 'o').length < parts.length / 4, 'output is coalesced into fewer events');
  assert.equal(meta.outputBytes, stream.length);
  assert.equal(sha(await asciinemaCat(file)), sha(stream));
});

test('invalid UTF-8 from the pod: U+FFFD per invalid sequence (WHATWG), never a lone surrogate; a BOM is kept', async (t) => {
  const dir = await tempDir(t);
  const w = await AsciicastWriter.open(opts(dir));
  const chunks = [
    Buffer.from([0xef, 0xbb, 0xbf]), // a BOM at the very start is output, not a signature
    Buffer.from('ok '),
    Buffer.from([0xff, 0xfe, 0x41]), // never valid
    Buffer.from([0xe6, 0x97]), Buffer.from([0x41]), // truncated 3-byte sequence, then ASCII
    Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate (CESU): invalid in UTF-8
    Buffer.from([0xc0, 0xaf]), // overlong '/'
    Buffer.from([0xf0, 0x9f]), Buffer.from([0x98, 0x80]), // a valid emoji split in two
    Buffer.from([0xe2, 0x82]), // incomplete at the end of the session
  ];
  for (const c of chunks) w.output(c);
  await w.close({ exitCode: 1, outcome: 'exit' });
  const file = join(dir, `${SUBJECT.session}.cast`);
  const text = outputOf(parseCast(await readFile(file, 'utf8'))).toString('utf8');
  assert.equal(text, new TextDecoder('utf-8', { ignoreBOM: true }).decode(Buffer.concat(chunks)));
  assert.equal(text, '\ufeffok \ufffd\ufffdA\ufffdA\ufffd\ufffd\ufffd\ufffd\ufffd😀\ufffd');
  assert.equal(/\p{Cs}/u.test(text), false, 'well-formed');
  assert.equal((await asciinemaCat(file)).toString('utf8'), text);
});

test('input is recorded only with recordInput; resize with bad sizes is ignored', async (t) => {
  const dir = await tempDir(t);
  const a = await AsciicastWriter.open(opts(dir, { id: 'no-input' }));
  a.input(Buffer.from('secret\r'));
  a.output(Buffer.from('$ '));
  a.resize(0, 10);
  a.resize(1.5, 10);
  await a.close({ exitCode: 0, outcome: 'exit' });
  const ca = parseCast(await readFile(join(dir, 'no-input.cast'), 'utf8'));
  assert.deepEqual(ca.events.map((e) => e[1]), ['o', 'm']);

  const b = await AsciicastWriter.open(opts(dir, { id: 'with-input', recordInput: true }));
  b.output(Buffer.from('$ '));
  b.input(Buffer.from('l'));
  b.input(Buffer.from([0xc3]));
  b.input(Buffer.from([0xa9, 0x0d]));
  const { meta } = await b.close({ exitCode: 0, outcome: 'exit' });
  const cb = parseCast(await readFile(join(dir, 'with-input.cast'), 'utf8'));
  assert.deepEqual(cb.events.map((e) => [e[1], e[2]]), [['o', '$ '], ['i', 'l'], ['i', 'é\r'], ['m', 'end: exit']]);
  assert.equal(meta.inputRecorded, true);
  assert.equal(meta.inputBytes, 4);
});

test('close is idempotent and final: one promise, nothing recorded after, the file is not overwritten by a second writer', async (t) => {
  const dir = await tempDir(t);
  const w = await AsciicastWriter.open(opts(dir));
  w.output(Buffer.from('x'));
  const p1 = w.close({ exitCode: 0, outcome: 'exit' });
  const p2 = w.close({ exitCode: 9, outcome: 'other' });
  assert.equal(p1, p2);
  w.output(Buffer.from('late'));
  w.marker('late');
  const { meta } = await p1;
  assert.equal(meta.exitCode, 0);
  assert.equal(w.state, 'closed');
  const cast = parseCast(await readFile(join(dir, `${SUBJECT.session}.cast`), 'utf8'));
  assert.deepEqual(cast.events.map((e) => e[2]), ['x', 'end: exit']);
  // O_EXCL: a second recording with the same id does not clobber the first (best-effort: stopped).
  const stops: string[] = [];
  const again = await AsciicastWriter.open(opts(dir, { host: writerHost(SUBJECT, { recordingStopped: (s) => stops.push(`${s.reason}:${s.errno}`) }) }));
  assert.deepEqual(stops, ['write-error:EEXIST']);
  await again.close({ exitCode: 0, outcome: 'exit' });
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(OutputSlot.inUse, 0, 'every write slot is back in the pool');
});

test('while a recording runs its first sidecar is on disk (endedAt null: a crash leaves it listed), written beside the start', async (t) => {
  const dir = await tempDir(t);
  const w = await AsciicastWriter.open(opts(dir));
  w.output(Buffer.from('$ ', 'utf8'));
  // Best-effort open() waits only for the .cast: the first sidecar follows it.
  let side: RecordingMeta | undefined;
  for (let i = 0; i < 200 && !side; i++) {
    side = await readFile(join(dir, `${SUBJECT.session}.json`), 'utf8').then((text) => JSON.parse(text) as RecordingMeta, () => undefined);
    if (!side) await sleep(10);
  }
  assert.ok(side, 'the first sidecar was written');
  assert.equal(side.endedAt, null);
  assert.equal(side.user, 'alice');
  assert.deepEqual(side.groups, ['dev', 'oncall']);
  assert.equal(side.replica, 'podterm-0');
  const { meta } = await w.close({ exitCode: 0, outcome: 'exit' });
  assert.notEqual(meta.endedAt, null);
  assert.deepEqual(JSON.parse(await readFile(join(dir, `${SUBJECT.session}.json`), 'utf8')), meta, 'the last sidecar, not the first');
  assert.equal(AsciicastWriter.live, 0);
});

test('ids are validated: no path can be smuggled in', async (t) => {
  const dir = await tempDir(t);
  for (const id of ['../x', 'a/b', '', '.hidden', 'a.b', '-x', 'x'.repeat(129), 'a\0b']) {
    await assert.rejects(AsciicastWriter.open(opts(dir, { id })), { code: 'BadRequest' }, id);
  }
  assert.equal(AsciicastWriter.live, 0);
  assert.equal(OutputSlot.inUse, 0, 'every write slot is back in the pool');
});

test('in a worker thread (where the session actor runs): the file is the same, the live count is per thread and back to zero', async (t) => {
  const dir = await tempDir(t);
  const { Worker } = await import('node:worker_threads');
  const mod = new URL('../../src/recording/asciicast-writer.js', import.meta.url).href;
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const { AsciicastWriter } = await import(workerData.mod);
      const w = await AsciicastWriter.open({ ...workerData.opts, host: { recordingSubject: () => workerData.subject } });
      const liveOpen = AsciicastWriter.live;
      for (let i = 0; i < 64; i++) w.output(Buffer.from(workerData.text));
      w.resize(100, 30);
      const { meta } = await w.close({ exitCode: 3, outcome: 'exit' });
      parentPort.postMessage({ liveOpen, liveClosed: AsciicastWriter.live, meta });
    })().catch((err) => parentPort.postMessage({ error: String(err) }));
  `, { eval: true, workerData: { mod, opts: { dir, id: 'in-worker', width: 80, height: 24 }, subject: SUBJECT, text: TEXT.toString('utf8') } });
  t.after(() => worker.terminate());
  const exited = once(worker, 'exit');
  const [msg] = await once(worker, 'message') as [{ liveOpen: number; liveClosed: number; meta: RecordingMeta; error?: string }];
  assert.equal(msg.error, undefined);
  assert.equal(msg.liveOpen, 1);
  assert.equal(msg.liveClosed, 0);
  assert.equal(AsciicastWriter.live, 0, 'the main thread never counted it');
  assert.equal(msg.meta.exitCode, 3);
  const file = join(dir, 'in-worker.cast');
  const expected = Buffer.concat(Array.from({ length: 64 }, () => TEXT));
  assert.equal(sha(outputOf(parseCast(await readFile(file, 'utf8')))), sha(expected));
  assert.equal(sha(await asciinemaCat(file)), sha(expected));
  await exited;
});
