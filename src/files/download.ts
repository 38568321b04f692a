/**
 * Download from a container: `tar -cf - -C DIR NAME` (no shell needed), read with tar-stream. A
 * regular file comes back as itself (its size known from the tar header, so the browser shows
 * progress); a directory as a tar whose entries were checked (tar-guard.ts; entries pointing out
 * are left out, as kubectl cp does). Without tar in the image, a file still comes with `cat`.
 * Every failure found before the first byte (no such file, permission) is a PodtermError, so the
 * route answers JSON instead of a broken stream.
 */
import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

import { PodtermError } from '../protocol/errors.js';
import { containerCommandError } from './container-errors.js';
import { ExecProcess, type ExecEnd, type OpenExec } from './exec-process.js';
import { copyEntries, type TarSource } from './tar-transform.js';

export interface Download {
  kind: 'file' | 'directory';
  /** The name to save as: the file's name, or the directory's name + `.tar`. */
  fileName: string;
  /** Bytes, when known before the first byte (a file through tar). */
  size: number | null;
  body: Readable;
  /** Resolves when the container side ended well; rejects when it failed mid-stream. */
  done: Promise<void>;
  /** Drops the exec (the client went away). */
  abort(): void;
}

function endError(end: ExecEnd, path: string): PodtermError | null {
  if ('error' in end) return end.error;
  if (end.exitCode === 0) return null;
  return containerCommandError(end.stderr, path, end.exitCode);
}

export async function startDownload(open: OpenExec, path: string, skipped: (problem: string) => void): Promise<Download> {
  const dir = posix.dirname(path);
  const name = posix.basename(path);
  const proc = await ExecProcess.start(open, ['tar', '-cf', '-', '-C', dir, name]);
  const extract = tar.extract();
  const parsed = pipeline(proc.stdout, extract as unknown as NodeJS.WritableStream);
  parsed.catch(() => undefined);
  const it = extract[Symbol.asyncIterator]();
  let first: IteratorResult<TarSource>;
  try {
    first = await it.next();
  } catch {
    first = { done: true, value: undefined };
  }
  if (first.done) {
    const end = await proc.ended;
    await proc.close();
    if ('exitCode' in end && end.missing === 'tar') return catFile(open, path, name);
    throw endError(end, path) ?? new PodtermError('NotFound', `No such file or directory: ${path}`);
  }
  const finish = async (): Promise<void> => {
    const end = await proc.ended;
    await proc.close();
    const err = endError(end, path);
    if (err) throw err;
  };
  const entry = first.value;
  if ((entry.header.type === 'file' || entry.header.type === 'contiguous-file') && posix.normalize(entry.header.name) === name) {
    // The tar of one file holds that one entry; what follows is the end-of-archive blocks.
    const body = new PassThrough({ highWaterMark: 256 * 1024 });
    const done = pipeline(entry as unknown as Readable, body).then(async () => {
      while (!(await it.next()).done) {
        // nothing else is expected; drained so tar's exit status arrives
      }
      await finish();
    });
    done.catch(() => body.destroy());
    return { kind: 'file', fileName: name, size: entry.header.size ?? null, body, done, abort: () => void proc.close() };
  }
  const pack = tar.pack();
  const rest: AsyncIterable<TarSource> = {
    async *[Symbol.asyncIterator]() {
      yield entry;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    },
  };
  const done = copyEntries(rest, pack, { mode: 'skip', skipped }).then(finish);
  done.catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  return { kind: 'directory', fileName: `${name}.tar`, size: null, body: pack as unknown as Readable, done, abort: () => void proc.close() };
}

/** No tar in the image: `cat PATH`, run directly (no shell needed either). */
async function catFile(open: OpenExec, path: string, name: string): Promise<Download> {
  const proc = await ExecProcess.start(open, ['cat', '--', path]);
  // The first chunk or the end, whichever comes first, decides between a body and an error.
  const firstChunk = await new Promise<Buffer | null>((resolve) => {
    proc.stdout.once('readable', () => resolve(proc.stdout.read() as Buffer | null));
  });
  if (firstChunk === null) {
    const end = await proc.ended;
    await proc.close();
    if ('exitCode' in end && end.missing !== null) throw new PodtermError('BadRequest', 'The container has neither tar nor cat; files cannot be copied out of it.');
    const err = endError(end, path);
    if (err) throw err;
  }
  const body = new PassThrough({ highWaterMark: 256 * 1024 });
  if (firstChunk) body.write(firstChunk);
  const done = pipeline(proc.stdout, body).then(async () => {
    const end = await proc.ended;
    await proc.close();
    const err = endError(end, path);
    if (err) throw err;
  });
  done.catch(() => body.destroy());
  return { kind: 'file', fileName: name, size: null, body, done, abort: () => void proc.close() };
}
