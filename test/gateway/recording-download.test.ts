/**
 * A recording larger than 64 MiB (the old in-memory limit) downloads whole: streamed from the file
 * with backpressure, the same SHA-256 as on disk, and the gateway's memory bounded well below the
 * file's size (the gateway runs in this process, so this process's RSS is its RSS). The file is
 * written straight into the record dir, a valid .cast with its sidecar, to save a real flood.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { ADMIN_TOKEN, assertNoResidue, startStack } from '../helpers/gateway-stack.js';

const SIZE = 80 * 1024 * 1024;

/*
 * V8 frees dead ArrayBuffers' memory on a background thread after a GC (concurrent array buffer
 * sweeping), and process.memoryUsage().arrayBuffers counts them until it has. Right after gc() it
 * held 0-29 MiB of garbage here on a loaded machine (median 18 MiB over 40 GCs of 64 MiB of
 * 16 KB Buffers; always 0 with this flag): once 17.5 MiB over the 16 MiB bound below, and a dirty
 * baseline hid as much growth. Swept within the GC, the reading after gc() is what is alive. The
 * test runs in its own process (node --test), so the flag affects nothing else.
 */
setFlagsFromString('--no-concurrent-array-buffer-sweeping');

/** A .cast of at least `bytes`: a header and `o` events of printable text. */
async function writeCast(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  const header = { version: 2, width: 80, height: 24, timestamp: 1_700_000_000, title: 'default/shell/main', env: { TERM: 'xterm-256color', SHELL: '/bin/sh' } };
  out.write(JSON.stringify(header) + '\n');
  let written = 0;
  for (let i = 0; written < bytes; i++) {
    const line = JSON.stringify([i / 1000, 'o', `line ${i} ${'x'.repeat(200)}\r\n`]) + '\n';
    written += line.length;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

test('a recording over 64 MiB streams whole: same SHA-256, gateway memory bounded, audited once', async (t) => {
  const recordDir = await mkdtemp(join(tmpdir(), 'podterm-rec-big-'));
  t.after(() => rm(recordDir, { recursive: true, force: true }));
  const auditLog = join(recordDir, 'audit.jsonl.log');
  const stack = await startStack(t, { workers: 0, recordDir, auditLog });
  const admin = `token:${createHash('sha256').update(ADMIN_TOKEN).digest('hex').slice(0, 12)}`;
  const id = randomUUID();
  const cast = join(recordDir, `${id}.cast`);
  await writeCast(cast, SIZE);
  const size = (await stat(cast)).size;
  const now = new Date().toISOString();
  await writeFile(join(recordDir, `${id}.json`), JSON.stringify({
    version: 1, id, session: id, user: admin, groups: [], replica: 'r', namespace: 'default', pod: 'shell', container: 'main', command: ['sh'],
    startedAt: now, endedAt: now, exitCode: 0, outcome: 'exit', bytes: size, outputBytes: size, inputBytes: 0, inputRecorded: false,
    mode: 'best-effort', stopped: null, droppedEvents: 0,
  }));
  const expected = createHash('sha256');
  for await (const chunk of createReadStream(cast)) expected.update(chunk as Buffer);

  // What the process holds after a GC (heap + Buffers, dead ones swept: see the flag above): an
  // in-memory copy of the file would show here whole; RSS (reported) also counts garbage not yet
  // collected and freed pages kept mapped.
  const held = (): { heap: number; buffers: number; total: number } => {
    global.gc!();
    const m = process.memoryUsage();
    return { heap: m.heapUsed, buffers: m.arrayBuffers, total: m.heapUsed + m.arrayBuffers };
  };
  const heldBefore = held();
  let heldPeak = heldBefore;
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const res = await fetch(`${stack.url}/api/v1/recordings/${id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/x-asciicast');
  assert.equal(res.headers.get('content-length'), String(size));
  const got = createHash('sha256');
  let received = 0;
  let chunks = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    got.update(chunk);
    received += chunk.byteLength;
    if (++chunks % 256 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    if (chunks % 1024 === 0) {
      const now = held();
      if (now.total > heldPeak.total) heldPeak = now;
    }
  }
  assert.equal(received, size);
  assert.equal(got.digest('hex'), expected.digest('hex'), 'the download is the file');
  const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
  const grewMiB = (heldPeak.total - heldBefore.total) / 2 ** 20;
  t.diagnostic(`held memory grew ${grewMiB.toFixed(1)} MiB (heap ${mib(heldBefore.heap)} -> ${mib(heldPeak.heap)}, buffers ${mib(heldBefore.buffers)} -> ${mib(heldPeak.buffers)} MiB), RSS ${((rssPeak - rssBefore) / 2 ** 20).toFixed(1)} MiB, for a ${(size / 2 ** 20).toFixed(0)} MiB download (${chunks} chunks)`);
  // An in-memory copy would add the file's size (80 MiB); streaming holds a chunk or so.
  assert.ok(grewMiB < 16, `held memory grew ${grewMiB.toFixed(1)} MiB while downloading ${(size / 2 ** 20).toFixed(0)} MiB`);
  // uWS copies what it is given into native memory, which only RSS sees: well below one copy.
  assert.ok(rssPeak - rssBefore < size * 0.8, `RSS grew ${((rssPeak - rssBefore) / 2 ** 20).toFixed(1)} MiB`);
  await assertNoResidue(stack);

  await stack.gateway.close();
  const views = (await readFile(auditLog, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'recording.view');
  assert.deepEqual(views.map((v) => [v.user, v.recording, v.size, v.outcome]), [[admin, id, size, 'ok']]);
});
