/**
 * What a failed `tar`/`cat` in a container said on stderr -> our error. The container's own words
 * are the user's files and tools (not the API server's), so the first line is shown as it is,
 * bounded; the code follows what it means.
 */
import { PodtermError } from '../protocol/errors.js';

const MAX_SHOWN = 300;

export function firstLine(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > MAX_SHOWN ? `${line.slice(0, MAX_SHOWN)}…` : line;
}

export function containerCommandError(stderr: string, path: string, exitCode: number): PodtermError {
  const said = firstLine(stderr);
  if (/no such file or directory|cannot stat|not found/i.test(said)) return new PodtermError('NotFound', `No such file or directory: ${path}`);
  if (/permission denied|operation not permitted|read-only file system/i.test(said)) return new PodtermError('Forbidden', `Permission denied in the container: ${said}`);
  if (/no space left/i.test(said)) return new PodtermError('BadRequest', `The container's disk is full: ${said}`);
  return new PodtermError('BadRequest', said !== '' ? `The copy failed in the container: ${said}` : `The copy failed in the container (exit code ${exitCode}).`);
}

/**
 * The runtime's words for an executable that is not in the image (containerd: `exec: "tar":
 * executable file not found in $PATH`; by absolute path: `stat /bin/sh: no such file or directory`).
 */
const MISSING_EXECUTABLE = /exec: "([^"]*)": (?:executable file not found|stat [^:]*: no such file or directory)/;

export function missingExecutable(texts: ReadonlyArray<string | undefined>): string | null {
  for (const t of texts) {
    const m = t === undefined ? null : MISSING_EXECUTABLE.exec(t);
    if (m) return m[1] as string;
  }
  return null;
}
