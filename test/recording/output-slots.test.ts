/**
 * Large output written in place (output-slots.ts): one event per large piece, in order with
 * everything around it, the same bytes as the slab path, and every slot back in the pool, also
 * when more sessions flood than there are slots and when the recording stops at a cap.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AsciicastWriter, type AsciicastWriterOptions, type WriterHost } from '../../src/recording/asciicast-writer.js';
import { SLOT_COUNT } from '../../src/recording/json-escape.js';
import { OutputSlot } from '../../src/recording/output-slots.js';
import { incompleteTail } from '../../src/recording/utf8-bytes.js';
import { asciinemaCat, outputOf, parseCast, writerHost, type ParsedCast } from '../helpers/asciicast.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function subject(session: string): WriterHost {
  return writerHost({ session, user: 'alice', groups: [], replica: 'podterm-0', namespace: 'default', pod: 'web-1', container: 'app', command: ['sh'] });
}

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-slots-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function open(dir: string, id: string, extra: Partial<AsciicastWriterOptions> = {}): Promise<AsciicastWriter> {
  return AsciicastWriter.open({ dir, id, host: subject(id), width: 80, height: 24, ...extra });
}

/**
 * About `bytes` of a terminal stream with escapes, quotes, backslashes and multi-byte characters,
 * whole lines (the pieces cut it anywhere; its end is a character's end).
 */
function stream(bytes: number): Buffer {
  const line = Buffer.from('0123456789 "quoted" \\path\\ ÄÖÜ 日本 \x1b[32mgreen\x1b[0m\t\x00\r\n');
  return Buffer.concat(Array.from({ length: Math.ceil(bytes / line.length) }, () => line));
}

function timesNeverGoBack(cast: ParsedCast): void {
  let last = 0;
  for (const e of cast.events) {
    assert.ok(e[0] >= last, `time ${e[0]} after ${last}`);
    last = e[0];
  }
}

test('large pieces are written in place: one event each, in order with small output, resizes and markers; same bytes; slots back', async (t) => {
  const dir = await tempDir(t);
  const w = await open(dir, 'flood-1');
  const data = stream(3 * 1024 * 1024 + 777);
  // What the file must say, in order: output segments between resizes and markers.
  const expected: Array<['o', Buffer] | ['r', string] | ['m', string]> = [];
  let segment: Buffer[] = [];
  // A character split by a resize or a marker is recorded whole, after it (utf8-bytes.ts).
  let carry = Buffer.alloc(0);
  const endSegment = (): void => {
    const all = Buffer.concat([carry, ...segment]);
    const cut = incompleteTail(all);
    carry = Buffer.from(all.subarray(cut));
    if (cut > 0) expected.push(['o', all.subarray(0, cut)]);
    segment = [];
  };
  let largeCalls = 0;
  let i = 0;
  for (let off = 0; off < data.length; i++) {
    // Mostly the actor's 16,000-byte chunks, now and then a small one (a prompt) in between.
    const n = i % 7 === 3 ? 100 : 16_000;
    const piece = data.subarray(off, off + n);
    off += piece.length;
    w.output(piece);
    segment.push(piece);
    if (piece.length >= 16_000) largeCalls++;
    if (i % 11 === 5) {
      endSegment();
      w.resize(80 + (i % 40), 24);
      expected.push(['r', `${80 + (i % 40)}x24`]);
    }
    if (i % 37 === 20) {
      endSegment();
      w.marker(`mark ${i}`);
      expected.push(['m', `mark ${i}`]);
    }
    if (i % 16 === 0) await sleep(1);
  }
  endSegment();
  assert.equal(carry.length, 0);
  assert.ok(OutputSlot.inUse > 0, 'the flood took a slot');
  const { meta } = await w.close({ exitCode: 0, outcome: 'exit' });
  assert.equal(OutputSlot.inUse, 0, 'every slot is back in the pool');
  assert.equal(AsciicastWriter.live, 0);
  const file = join(dir, 'flood-1.cast');
  const cast = parseCast(await readFile(file, 'utf8'));
  timesNeverGoBack(cast);
  assert.equal(sha(outputOf(cast)), sha(data));
  assert.equal(meta.outputBytes, data.length);
  assert.ok(cast.events.filter((e) => e[1] === 'o').length >= largeCalls, 'a large piece is never merged with another');
  // Between resizes and markers the output is exactly what was sent there, in order.
  const got: Array<['o', Buffer] | ['r', string] | ['m', string]> = [];
  for (const e of cast.events) {
    if (e[1] === 'o') {
      const last = got.at(-1);
      if (last?.[0] === 'o') last[1] = Buffer.concat([last[1], Buffer.from(e[2], 'utf8')]);
      else got.push(['o', Buffer.from(e[2], 'utf8')]);
    } else if (e[1] === 'r' || (e[1] === 'm' && e[2].startsWith('mark '))) got.push([e[1], e[2]]);
  }
  assert.equal(got.length, expected.length);
  for (const [k, e] of expected.entries()) {
    const g = got[k]!;
    assert.equal(g[0], e[0], `event ${k}`);
    if (e[0] === 'o') assert.equal(sha(g[1] as Buffer), sha(e[1]), `output segment ${k}`);
    else assert.equal(g[1], e[1], `event ${k}`);
  }
  assert.equal(sha(await asciinemaCat(file)), sha(data), 'asciinema cat prints the same bytes');
});

test('more sessions flood at once than there are slots: the rest take the slab path; every file is exact', async (t) => {
  const dir = await tempDir(t);
  const n = SLOT_COUNT + 6;
  const writers = await Promise.all(Array.from({ length: n }, (_, k) => open(dir, `many-${k}`)));
  const data = Array.from({ length: n }, (_, k) => stream(400_000 + k * 1_001));
  let peak = 0;
  for (let off = 0; off < 420_000; off += 16_000) {
    for (const [k, w] of writers.entries()) {
      const piece = data[k]!.subarray(off, off + 16_000);
      if (piece.length) w.output(piece);
    }
    peak = Math.max(peak, OutputSlot.inUse);
    await sleep(1);
  }
  assert.equal(peak, SLOT_COUNT, 'every slot was in use at once');
  await Promise.all(writers.map((w) => w.close({ exitCode: 0, outcome: 'exit' })));
  assert.equal(OutputSlot.inUse, 0, 'every slot is back in the pool');
  assert.equal(AsciicastWriter.live, 0);
  for (let k = 0; k < n; k++) {
    const cast = parseCast(await readFile(join(dir, `many-${k}.cast`), 'utf8'));
    timesNeverGoBack(cast);
    assert.equal(sha(outputOf(cast)), sha(data[k]!), `recording ${k}`);
  }
});

test('a cap reached in the middle of a slot: what was accepted is written, then the marker; the slot is released', async (t) => {
  const dir = await tempDir(t);
  const w = await open(dir, 'capped', { maxBytes: 100_000 });
  const data = stream(300_000);
  for (let off = 0; off < data.length; off += 16_000) w.output(data.subarray(off, off + 16_000));
  assert.equal(w.state, 'stopped');
  const { meta } = await w.close({ exitCode: 0, outcome: 'exit' });
  assert.equal(OutputSlot.inUse, 0, 'the slot is back in the pool');
  const text = await readFile(join(dir, 'capped.cast'), 'utf8');
  const cast = parseCast(text);
  assert.deepEqual(cast.events.at(-1)!.slice(1, 2), ['m']);
  assert.match(cast.events.at(-1)![2], /recording stopped/);
  const out = outputOf(cast);
  assert.ok(out.length > 50_000 && out.length < 100_000, `recorded ${out.length}`);
  assert.ok(data.subarray(0, out.length).equals(out), 'what is recorded is a prefix');
  assert.equal(meta.stopped?.reason, 'max-bytes');
  assert.equal(meta.bytes, Buffer.byteLength(text));
});

test('a character cut at the end of a slot line and never finished: its U+FFFD comes last at close, and time does not go back', async (t) => {
  const dir = await tempDir(t);
  const w = await open(dir, 'cut');
  w.output(Buffer.from('prompt$ ')); // held output first: its event's time is older than the slot line's
  await sleep(20);
  const big = Buffer.concat([Buffer.alloc(16_000, 'x'), Buffer.from('日').subarray(0, 2)]);
  w.output(big);
  await w.close({ exitCode: 0, outcome: 'exit' });
  assert.equal(OutputSlot.inUse, 0);
  const cast = parseCast(await readFile(join(dir, 'cut.cast'), 'utf8')); // checks that times never go back
  timesNeverGoBack(cast);
  const out = outputOf(cast);
  assert.equal(out.toString('utf8'), `prompt$ ${'x'.repeat(16_000)}\ufffd`);
});
