/**
 * Reading asciicast v2 files back in tests: parse and validate the header and events, and run the
 * real `asciinema cat` (Debian's asciinema 2.2; it opens /dev/tty, so it runs under `script`, which
 * gives it a terminal, with its stdout redirected to a file so no terminal rewrites the bytes).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordingSubject, WriterHost } from '../../src/recording/asciicast-writer.js';

export type CastEvent = [number, 'o' | 'i' | 'r' | 'm', string];

export interface ParsedCast {
  header: Record<string, unknown>;
  events: CastEvent[];
}

/** Parses and checks the format: header fields and types, 3-element events, times never going back. */
export function parseCast(text: string): ParsedCast {
  assert.ok(text.endsWith('\n'), 'the file ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  const header = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(header.version, 2);
  assert.ok(Number.isInteger(header.width) && (header.width as number) > 0, 'width');
  assert.ok(Number.isInteger(header.height) && (header.height as number) > 0, 'height');
  if ('timestamp' in header) assert.ok(Number.isInteger(header.timestamp), 'timestamp is an integer');
  const events: CastEvent[] = [];
  let last = 0;
  for (const line of lines.slice(1)) {
    const e = JSON.parse(line) as unknown;
    assert.ok(Array.isArray(e) && e.length === 3, `event shape: ${line.slice(0, 80)}`);
    const [t, code, data] = e as [unknown, unknown, unknown];
    assert.ok(typeof t === 'number' && t >= last, `time never goes back (${String(t)} after ${last})`);
    assert.ok(code === 'o' || code === 'i' || code === 'r' || code === 'm', `code ${String(code)}`);
    assert.equal(typeof data, 'string');
    if (code === 'r') assert.match(data as string, /^\d+x\d+$/);
    last = t;
    events.push(e as CastEvent);
  }
  return { header, events };
}

export function outputOf(cast: ParsedCast): Buffer {
  return Buffer.from(cast.events.filter((e) => e[1] === 'o').map((e) => e[2]).join(''), 'utf8');
}

/** What `asciinema cat FILE` prints, as bytes. */
export async function asciinemaCat(file: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-cat-'));
  try {
    const out = join(dir, 'out');
    const r = spawnSync('script', ['-qec', `asciinema cat '${file}' > '${out}'`, '/dev/null'], {
      env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `asciinema cat failed: ${r.stdout} ${r.stderr}`);
    return readFileSync(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A writer's host for tests: the subject, and any of the callbacks. */
export function writerHost(subject: RecordingSubject, on: Omit<WriterHost, 'recordingSubject'> = {}): WriterHost {
  return { recordingSubject: () => subject, ...on };
}
