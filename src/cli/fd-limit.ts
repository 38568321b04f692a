/**
 * Sessions are bounded by open files long before memory: each gateway session holds two sockets
 * (browser and exec), more when the sandbox cluster runs in the same process. At the descriptor
 * limit accept() and connect() fail with EMFILE and sessions fail late and unclearly; below it the
 * gateway refuses cleanly with TooManySessions (4429). Pure, apart from the caller reading the file.
 */

/** Descriptors kept for everything that is not a session: listeners, workers, files, the pool. */
export const RESERVED_FDS = 256;

/** The soft "Max open files" limit from the text of /proc/self/limits; undefined if unlimited or absent. */
export function softNoFileLimit(limitsText: string): number | undefined {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limitsText);
  if (!m || m[1] === 'unlimited') return undefined;
  const n = Number(m[1]);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * Descriptors one session may hold at once: the browser and exec sockets; with `--record-dir` its
 * .cast while it is written (a recording idle for a second closes it, but a busy one keeps it, and
 * every session that starts writes its header); with the sandbox in this process, the sandbox's
 * end of the exec socket and the shell's pty and pipes.
 */
export function fdsPerSession(o: { recording: boolean; sandboxed: boolean }): number {
  return 2 + (o.recording ? 1 : 0) + (o.sandboxed ? 4 : 0);
}

/** The most sessions that fit below the descriptor limit, never less than 1. */
export function sessionsWithinFds(softLimit: number | undefined, fdsPerSession: number): number {
  if (softLimit === undefined) return Number.MAX_SAFE_INTEGER;
  return Math.max(1, Math.floor((softLimit - RESERVED_FDS) / fdsPerSession));
}
