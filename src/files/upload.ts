/**
 * Upload into a container. A file: a one-entry tar (tar-transform.ts) into `tar -xmf - -C DIR`;
 * an archive (`application/x-tar`): its entries checked (tar-guard.ts, the first one that escapes
 * fails the upload) into `tar -xmf - -C PATH`. stdin ends with the v5 close signal, so tar sees EOF
 * and its exit status still arrives (no guessed delay before closing, as clients without v5 need).
 * Without tar in the image a file goes through `sh -c 'cat > "$1"'`; with neither, a clear error.
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PodtermError } from '../protocol/errors.js';
import { containerCommandError } from './container-errors.js';
import { ExecProcess, type ExecEnd, type OpenExec } from './exec-process.js';
import { guardedRepack, singleFileTar } from './tar-transform.js';

export type UploadBody = { kind: 'file'; size: number; body: Readable } | { kind: 'tar'; body: Readable };

export interface UploadResult {
  path: string;
  /** The command that wrote it: `tar` or `cat` (the fallback). */
  via: 'tar' | 'cat';
}

/** Whether `command` exists in the container: an exec of it whose Status does not say "not found". */
async function has(open: OpenExec, command: readonly string[]): Promise<boolean> {
  const probe = await ExecProcess.start(open, command);
  probe.stdout.resume();
  probe.stdin.end();
  const end = await probe.ended;
  await probe.close();
  if ('error' in end) throw end.error;
  return end.missing === null;
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
  if (await has(open, ['tar', '--version'])) {
    if (body.kind === 'tar') {
      await run(open, ['tar', '-xmf', '-', '-C', path], () => guardedRepack(body.body, { mode: 'fail' }), path);
    } else {
      const dir = posix.dirname(path);
      await run(open, ['tar', '-xmf', '-', '-C', dir], () => singleFileTar(posix.basename(path), body.size, body.body), dir);
    }
    return { path, via: 'tar' };
  }
  if (body.kind === 'tar') throw new PodtermError('BadRequest', 'The container has no tar: only single files can be uploaded to it.');
  if (!(await has(open, ['sh', '-c', ':']))) throw new PodtermError('BadRequest', 'The container has neither tar nor sh: files cannot be copied into it.');
  await run(open, ['sh', '-c', 'cat > "$1"', 'podterm-upload', path], () => body.body, path);
  return { path, via: 'cat' };
}
