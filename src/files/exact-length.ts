/**
 * Uploads over v4.channel.k8s.io, which has no way to close the process's stdin (only v5 has the
 * close signal; K8S-EXEC.md "Subprotocols"). The upload knows its byte count N, so the remote side
 * reads exactly N bytes (`head -c N | tar ...`, `head -c N > PATH`) and ends without an EOF; the
 * gateway sends exactly N bytes, checked here.
 */
import { Transform, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { PodtermError } from '../protocol/errors.js';

const BLOCK = 512;

/**
 * Room above the client's archive size for the repacked archive: tar-stream writes a pax header
 * for a long name where the client's tar may have used a GNU long-name entry a block shorter.
 */
export const TAR_REPACK_SLACK = 64 * 1024;

/** The size of singleFileTar(name, size): its headers (measured: they depend on the name only), the data in blocks, the end. */
export async function singleFileTarSize(name: string, size: number): Promise<number> {
  const pack = tar.pack();
  pack.entry({ name, size: 0, mode: 0o644, mtime: new Date(), type: 'file' }, Buffer.alloc(0));
  pack.finalize();
  let headers = 0;
  for await (const chunk of pack) headers += (chunk as Buffer).length;
  return headers + Math.ceil(size / BLOCK) * BLOCK;
}

/**
 * Passes `input` on as exactly `n` bytes. More than `n` fails (the remote `head -c` would cut the
 * rest off silently); fewer fails unless `padZeros`, which appends zeros (after a tar's end blocks
 * tar reads zeros as padding, as in a tape record).
 */
export function exactLength(input: Readable, n: number, padZeros: boolean): Readable {
  let seen = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > n) return cb(new PodtermError('Internal', `The upload grew past the ${n} bytes announced to the container.`));
      cb(null, chunk);
    },
    flush(cb) {
      if (seen === n) return cb();
      if (!padZeros) return cb(new PodtermError('BadRequest', `The upload ended after ${seen} of ${n} bytes.`));
      for (let left = n - seen; left > 0; left -= 65536) out.push(Buffer.alloc(Math.min(65536, left)));
      cb();
    },
  });
  input.on('error', (err) => out.destroy(err));
  // One owner: whoever drops the output drops the input with it.
  out.once('close', () => input.destroy());
  return input.pipe(out);
}

/** `sh -c` scripts for a container reached over v4: read N bytes, no stdin EOF needed. */
const NEED_HEAD = 'command -v head >/dev/null 2>&1 || { echo "head: not found" >&2; exit 127; }';
export function boundedTarCommand(n: number, dir: string): string[] {
  return ['sh', '-c', `${NEED_HEAD}; head -c "$1" | tar -xmf - -C "$2"`, 'podterm-upload', String(n), dir];
}
export function boundedCatCommand(n: number, path: string): string[] {
  return ['sh', '-c', `${NEED_HEAD}; head -c "$1" > "$2"`, 'podterm-upload', String(n), path];
}
