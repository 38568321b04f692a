/**
 * The recordings in a record dir, as `GET /api/v1/recordings` and `GET /api/v1/recordings/{id}`
 * serve them (docs/protocol.md, HTTP additions). Everything is read from the sidecars; a `.cast`
 * without a readable sidecar is not listed (its owner is unknown, so nobody may see it).
 * Who may see what: the owner sees their own recordings, members of `recordingsGroup` see all,
 * anyone else gets Forbidden (the caller writes the audit line saying who tried).
 */
import type { RecordingSummary } from '../protocol/http.js';
import { constants } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { PodtermError } from '../protocol/errors.js';
import { CAST_EXT, META_EXT, assertRecordingId, castPath, isRecordingId, metaPath, type RecordingMeta } from './recording-files.js';

/** Who asks (an `Identity` from src/auth fits). */
export interface Viewer {
  username: string;
  groups: readonly string[];
}

/** One row of the list: the wire shape, defined once in src/protocol/http.ts. */
export type { RecordingSummary };

export interface RecordingFilter {
  namespace?: string;
  pod?: string;
  user?: string;
}

export interface CatalogOptions {
  dir: string;
  /** `--recordings-group`: members see every recording. Unset: only owners see theirs. */
  recordingsGroup?: string;
  /** At most this many rows, newest first (default 1000). */
  maxList?: number;
}

/** A sidecar larger than this is not ours. */
const MAX_META_BYTES = 256 * 1024;
const READ_CONCURRENCY = 16;

export function mayView(viewer: Viewer, owner: string, recordingsGroup: string | undefined): boolean {
  if (viewer.username !== '' && viewer.username === owner) return true;
  return recordingsGroup !== undefined && recordingsGroup !== '' && viewer.groups.includes(recordingsGroup);
}

export class RecordingCatalog {
  readonly #dir: string;
  readonly #group: string | undefined;
  readonly #max: number;

  constructor(opts: CatalogOptions) {
    this.#dir = opts.dir;
    this.#group = opts.recordingsGroup || undefined;
    this.#max = opts.maxList ?? 1000;
  }

  /** The recordings `viewer` may see that match `filter` (exact matches), newest first. */
  async list(viewer: Viewer, filter: RecordingFilter = {}): Promise<RecordingSummary[]> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const ids = names.filter((n) => n.endsWith(META_EXT)).map((n) => n.slice(0, -META_EXT.length)).filter(isRecordingId);
    const rows: RecordingSummary[] = [];
    for (let i = 0; i < ids.length; i += READ_CONCURRENCY) {
      const metas = await Promise.all(ids.slice(i, i + READ_CONCURRENCY).map((id) => readMeta(this.#dir, id)));
      for (const m of metas) {
        if (!m || !mayView(viewer, m.user, this.#group)) continue;
        if (filter.namespace !== undefined && m.namespace !== filter.namespace) continue;
        if (filter.pod !== undefined && m.pod !== filter.pod) continue;
        if (filter.user !== undefined && m.user !== filter.user) continue;
        rows.push(summary(m, await castSize(this.#dir, m.id)));
      }
    }
    rows.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
    return rows.slice(0, this.#max);
  }

  /** One recording's sidecar. BadRequest for a bad id, NotFound, or Forbidden. */
  async get(viewer: Viewer, id: string): Promise<RecordingMeta> {
    assertRecordingId(id);
    const meta = await readMeta(this.#dir, id);
    if (!meta) throw new PodtermError('NotFound', 'The recording does not exist.');
    if (!mayView(viewer, meta.user, this.#group)) throw new PodtermError('Forbidden', 'You are not allowed to see this recording.');
    return meta;
  }

  /**
   * Opens the .cast for streaming (`application/x-asciicast`) after the same checks as get(). The
   * caller owns `fh` and closes it. Symlinks are refused (O_NOFOLLOW), and so is anything that is
   * not a regular file.
   */
  async openCast(viewer: Viewer, id: string): Promise<{ meta: RecordingMeta; fh: FileHandle; size: number }> {
    const meta = await this.get(viewer, id);
    const fh = await openRegular(castPath(this.#dir, id));
    if (!fh) throw new PodtermError('NotFound', 'The recording does not exist.');
    try {
      const s = await fh.stat();
      return { meta, fh, size: s.size };
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }
}

function summary(m: RecordingMeta, size: number | undefined): RecordingSummary {
  return {
    id: m.id, user: m.user, namespace: m.namespace, pod: m.pod, container: m.container,
    startedAt: m.startedAt, endedAt: m.endedAt, exitCode: m.exitCode, bytes: size ?? m.bytes,
  };
}

async function castSize(dir: string, id: string): Promise<number | undefined> {
  try {
    return (await stat(join(dir, id + CAST_EXT))).size;
  } catch {
    return undefined;
  }
}

/** A regular file opened read-only without following a symlink, or undefined if there is none. */
async function openRegular(path: string): Promise<FileHandle | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP') return undefined;
    throw err;
  }
  try {
    if ((await fh.stat()).isFile()) return fh;
  } catch {
    // fall through: not usable
  }
  await fh.close().catch(() => undefined);
  return undefined;
}

/** The sidecar of `id`, validated, or undefined if it is missing, too large or not ours. */
export async function readMeta(dir: string, id: string): Promise<RecordingMeta | undefined> {
  const fh = await openRegular(metaPath(dir, id)).catch(() => undefined);
  if (!fh) return undefined;
  try {
    const s = await fh.stat();
    if (s.size > MAX_META_BYTES) return undefined;
    const parsed: unknown = JSON.parse(await fh.readFile('utf8'));
    return isMeta(parsed) && parsed.id === id ? parsed : undefined;
  } catch {
    return undefined;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

function isMeta(v: unknown): v is RecordingMeta {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  const str = (k: string): boolean => typeof m[k] === 'string';
  return m.version === 1 && ['id', 'user', 'namespace', 'pod', 'container', 'startedAt', 'session'].every(str)
    && (m.endedAt === null || str('endedAt'))
    && (m.exitCode === null || Number.isInteger(m.exitCode))
    && Number.isInteger(m.bytes)
    && Array.isArray(m.groups) && Array.isArray(m.command);
}
