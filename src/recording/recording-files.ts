/**
 * What a recording is on disk, shared by the writer, the catalog and retention: `ID.cast` (asciicast
 * v2, asciinema's doc/asciicast-v2.md) and its sidecar `ID.json` (podterm's own metadata, the
 * `RecordingMeta` below) side by side in the record dir. Ids name files, so they are validated
 * everywhere they enter: a fixed alphabet, no dots, no separators, so no path traversal.
 */
import type { RecordingEnd, RecordingSubject } from './writer-options.js';
import { randomBytes } from 'node:crypto';
import { closeFd, datasyncFd, openFd, renamePath, unlinkPath, writeAllFd } from './fd-io.js';
import { join } from 'node:path';
import { PodtermError } from '../protocol/errors.js';

/** Letters, digits, `-` and `_`, 1..128, not starting with `-` (a session UUID fits). */
const ID_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$/;

export const CAST_EXT = '.cast';
export const META_EXT = '.json';
/** Suffix of the sidecar's temporary file while it is written (retention removes stale ones). */
export const TMP_EXT = '.tmp';

export function isRecordingId(v: unknown): v is string {
  return typeof v === 'string' && ID_RE.test(v);
}

/** Throws BadRequest for anything that is not an id (the user sees no path). */
export function assertRecordingId(v: unknown): string {
  if (!isRecordingId(v)) throw new PodtermError('BadRequest', 'The recording id is not valid.');
  return v;
}

export function castPath(dir: string, id: string): string {
  return join(dir, assertRecordingId(id) + CAST_EXT);
}

export function metaPath(dir: string, id: string): string {
  return join(dir, assertRecordingId(id) + META_EXT);
}

/** Why a recording stopped before its session ended. */
export type StopReason =
  /** `--record-max-bytes` reached. */
  | 'max-bytes'
  /** The per-session buffer cap was reached: the disk did not keep up with the output. */
  | 'buffer-full'
  /** The file could not be created or written (ENOSPC, EIO, EPIPE...). */
  | 'write-error'
  /** close() gave up waiting for a write that did not finish. */
  | 'close-timeout';

export interface RecordingStop {
  reason: StopReason;
  /** Seconds into the recording (the asciicast time) when it stopped: the time of its stop marker. */
  at: number;
  /** Bytes of the .cast accepted before the stop (the recording is complete up to here). */
  atBytes: number;
  /** errno code of a write error (`ENOSPC`), never a message with paths. */
  errno?: string;
}

/** The sidecar (`ID.json`), version 1. Written at open (endedAt null) and again at close. */
export interface RecordingMeta extends RecordingSubject {
  version: 1;
  id: string;
  /** ISO 8601. */
  startedAt: string;
  /** ISO 8601; null while the session runs (or if the gateway died before close). */
  endedAt: string | null;
  exitCode: number | null;
  /** Why the session ended (the actor's close reason), null while it runs. */
  outcome: string | null;
  /** Size of the .cast in bytes as written. */
  bytes: number;
  /** Raw output bytes the recording was given, and input bytes (0 unless input is recorded). */
  outputBytes: number;
  inputBytes: number;
  inputRecorded: boolean;
  mode: 'best-effort' | 'strict';
  /** null when the recording covers the whole session. */
  stopped: RecordingStop | null;
  /** Events dropped after a stop. */
  droppedEvents: number;
}

/** What the writer counted, as the sidecar reports it. */
export type SidecarCounts = Pick<RecordingMeta, 'bytes' | 'outputBytes' | 'inputBytes' | 'inputRecorded' | 'mode' | 'stopped' | 'droppedEvents'>;

/** The sidecar for recording `id`: at open (`end` null) and at close. Copies the subject's arrays. */
export function sidecarMeta(id: string, s: RecordingSubject, startedAt: number, end: RecordingEnd | null, c: SidecarCounts): RecordingMeta {
  return {
    version: 1,
    id,
    session: s.session,
    user: s.user,
    groups: [...s.groups],
    replica: s.replica,
    namespace: s.namespace,
    pod: s.pod,
    container: s.container,
    command: [...s.command],
    startedAt: new Date(startedAt).toISOString(),
    endedAt: end ? new Date().toISOString() : null,
    exitCode: end ? end.exitCode : null,
    outcome: end ? end.outcome : null,
    bytes: c.bytes,
    outputBytes: c.outputBytes,
    inputBytes: c.inputBytes,
    inputRecorded: c.inputRecorded,
    mode: c.mode,
    stopped: c.stopped,
    droppedEvents: c.droppedEvents,
  };
}

/**
 * Writes `path` atomically: a temporary file beside it, then rename over it, so a reader sees the
 * old content or the new, never half. With `durable` the data is fsync'ed before the rename (the
 * final sidecar); without, a crash may leave the file empty, which readers already treat as an
 * unreadable sidecar (the first sidecar, whose fsync made every recorded session start wait for the
 * disk: tens of ms here, and a burst of session starts then piled up in memory).
 */
export async function writeFileAtomic(path: string, data: string, durable = true): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}${TMP_EXT}`;
  const fd = await openFd(tmp, 'wx', 0o640);
  try {
    await writeAllFd(fd, [Buffer.from(data, 'utf8')]);
    if (durable) await datasyncFd(fd);
  } catch (err) {
    await closeFd(fd).catch(() => undefined);
    await unlinkPath(tmp).catch(() => undefined);
    throw err;
  }
  await closeFd(fd);
  try {
    await renamePath(tmp, path);
  } catch (err) {
    await unlinkPath(tmp).catch(() => undefined);
    throw err;
  }
}
