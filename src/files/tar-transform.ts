/**
 * The tars podterm builds and reads itself, with tar-stream (a maintained streaming tar library):
 * a one-file archive around an upload body, and a validated copy of an archive (every entry
 * checked by tar-guard.ts). All of it streams with backpressure: nothing is held beyond the
 * streams' own buffers, whatever the size.
 */
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';

/** One entry being read from a tar (tar-stream's Source). */
export type TarSource = tar.Extract extends AsyncIterable<infer S> ? S : never;
import { PodtermError } from '../protocol/errors.js';
import { entryProblem } from './tar-guard.js';

/** A tar entry the guard refused. */
export class TarEntryRefused extends PodtermError {
  constructor(readonly problem: string) {
    super('BadRequest', `The archive was refused: ${problem}.`);
  }
}

/** A tar holding one regular file `name` of `size` bytes read from `body`. */
export function singleFileTar(name: string, size: number, body: Readable, mode = 0o644): Readable {
  const pack = tar.pack();
  const entry = pack.entry({ name, size, mode, mtime: new Date(), type: 'file' }, (err) => {
    if (err) pack.destroy(err);
    else pack.finalize();
  });
  pipeline(body, entry).catch((err: unknown) => pack.destroy(err as Error));
  return pack as unknown as Readable;
}

/**
 * `fail`: the first refused entry fails the copy (uploads: a crafted archive is noticed, nothing
 * past it reaches the pod). `skip`: refused entries are left out and reported (downloads, as
 * kubectl cp skips links that point outside the copied directory, such as /etc/alternatives).
 */
export type RefusePolicy = { mode: 'fail' } | { mode: 'skip'; skipped: (problem: string) => void };

/** Copies the entries of `entries` that the guard allows into `pack`, then finalizes it. */
export async function copyEntries(entries: AsyncIterable<TarSource>, pack: tar.Pack, policy: RefusePolicy): Promise<void> {
  for await (const entry of entries) {
    const h = entry.header;
    const problem = entryProblem(h);
    if (problem !== null) {
      if (policy.mode === 'fail') throw new TarEntryRefused(problem);
      policy.skipped(problem);
      entry.resume();
      continue;
    }
    const header: Partial<tar.Header> & { name: string } = { name: h.name, size: h.size ?? 0, mode: h.mode, mtime: h.mtime, type: h.type, linkname: h.linkname, uname: h.uname, gname: h.gname, uid: h.uid, gid: h.gid };
    if (h.type === 'file' || h.type === 'contiguous-file') {
      await pipeline(entry as unknown as Readable, pack.entry(header) as unknown as NodeJS.WritableStream);
    } else {
      entry.resume();
      await new Promise<void>((resolve, reject) => pack.entry({ ...header, size: 0 }, (err) => (err ? reject(err) : resolve())));
    }
  }
  pack.finalize();
}

/** `input` read as a tar and written again with only the entries the policy lets through. */
export function guardedRepack(input: Readable, policy: RefusePolicy): Readable {
  const pack = tar.pack();
  const extract = tar.extract();
  Promise.all([pipeline(input, extract as unknown as NodeJS.WritableStream), copyEntries(extract, pack, policy)]).catch((err: unknown) => {
    extract.destroy();
    input.destroy();
    pack.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  return pack as unknown as Readable;
}
