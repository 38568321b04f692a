/**
 * Upload into a container. A file: a one-entry tar (tar-transform.ts) into `tar -xmf - -C DIR`;
 * an archive (`application/x-tar`): its entries checked (tar-guard.ts, the first one that escapes
 * fails the upload) into `tar -xmf - -C PATH`. stdin ends with the v5 close signal, so tar sees EOF
 * and its exit status still arrives (no guessed delay before closing, as clients without v5 need).
 * Over v4 (clusters before 1.30) there is no close signal: the upload's size is known, so the
 * container reads exactly that many bytes (`head -c N | tar ...`, exact-length.ts) and ends by
 * itself; the exit status is still checked.
 * Without tar in the image a file goes through `sh -c 'cat > "$1"'` (v4: `head -c N > "$1"`);
 * with neither, a clear error.
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PodtermError } from '../protocol/errors.js';
import { containerCommandError } from './container-errors.js';
import { ExecProcess, type ExecEnd, type OpenExec } from './exec-process.js';
import { boundedCatCommand, boundedTarCommand, exactLength, singleFileTarSize, TAR_REPACK_SLACK } from './exact-length.js';
import { guardedRepack, singleFileTar } from './tar-transform.js';

/** `size` of a tar: its Content-Length when the client sent one (needed over v4). */
export type UploadBody = { kind: 'file'; size: number; body: Readable } | { kind: 'tar'; size?: number; body: Readable };

export interface UploadResult {
  path: string;
  /** The command that wrote it: `tar` or `cat` (the fallback). */
  via: 'tar' | 'cat';
}

/**
 * Whether `command` exists in the container: an exec of it whose Status does not say "not found";
 * and whether this exec path can close stdin (v5), which decides how the upload ends.
 */
async function has(open: OpenExec, command: readonly string[]): Promise<{ found: boolean; closesStdin: boolean }> {
  const probe = await ExecProcess.start(open, command);
  probe.stdout.resume();
  probe.stdin.end();
  const end = await probe.ended;
  await probe.close();
  if ('error' in end) throw end.error;
  return { found: end.missing === null, closesStdin: probe.closesStdin };
}

/** `makeInput` runs once the exec is open: a tar transform made earlier could fail with nobody listening. */
async function run(open: OpenExec, command: readonly string[], makeInput: () => Readable, path: string): Promise<ExecEnd> {
  const proc = await ExecProcess.start(open, command);
  let input: Readable | undefined;
  try {
    input = makeInput();
    proc.stdout.resume();
    // pipeline ends stdin (the v5 close) once the input is done; the exit status follows. A failed
    // input (a refused entry, the client gone, too large) rejects the race at once.
    const sent = pipeline(input, proc.stdin);
    sent.catch(() => undefined);
    const end = await Promise.race([proc.ended, sent.then(() => proc.ended)]);
    // Ended first (tar failed at once, or read the archive's end): the rest of the input is dropped.
    if ('error' in end) throw end.error;
    if (end.exitCode !== 0) throw containerCommandError(end.stderr, path, end.exitCode);
    return end;
  } finally {
    input?.destroy();
    await proc.close();
  }
}

export async function upload(open: OpenExec, path: string, body: UploadBody): Promise<UploadResult> {
  const tarProbe = await has(open, ['tar', '--version']);
  // v4: stdin cannot be closed, so the container must know the byte count up front.
  const v4 = !tarProbe.closesStdin;
  if (tarProbe.found) {
    if (body.kind === 'tar') {
      const repack = (): Readable => guardedRepack(body.body, { mode: 'fail' });
      if (!v4) await run(open, ['tar', '-xmf', '-', '-C', path], repack, path);
      else {
        if (body.size === undefined) throw new PodtermError('BadRequest', 'This cluster cannot close an exec\'s stdin (no v5.channel.k8s.io): send the archive with a Content-Length.');
        // The repacked archive's exact size is known only at its end: announce a bound, pad with zeros.
        const n = body.size + TAR_REPACK_SLACK;
        await run(open, boundedTarCommand(n, path), () => exactLength(repack(), n, true), path);
      }
    } else {
      const dir = posix.dirname(path);
      const name = posix.basename(path);
      const tarred = (): Readable => singleFileTar(name, body.size, body.body);
      if (!v4) await run(open, ['tar', '-xmf', '-', '-C', dir], tarred, dir);
      else {
        const n = await singleFileTarSize(name, body.size);
        await run(open, boundedTarCommand(n, dir), () => exactLength(tarred(), n, false), dir);
      }
    }
    return { path, via: 'tar' };
  }
  if (body.kind === 'tar') throw new PodtermError('BadRequest', 'The container has no tar: only single files can be uploaded to it.');
  if (!(await has(open, ['sh', '-c', ':'])).found) throw new PodtermError('BadRequest', 'The container has neither tar nor sh: files cannot be copied into it.');
  const command = v4 ? boundedCatCommand(body.size, path) : ['sh', '-c', 'cat > "$1"', 'podterm-upload', path];
  await run(open, command, () => (v4 ? exactLength(body.body, body.size, false) : body.body), path);
  return { path, via: 'cat' };
}
