/**
 * `--record-retention-days`: recordings older than N days are deleted by a timer, off the hot path
 * (an unref'd interval on the main thread; one sweep at a time; async fs in the thread pool).
 * Age is the newest mtime of the pair (`.cast`, `.json`): a session still writing keeps its
 * recording fresh, and a pair whose sidecar is missing or unreadable still ages out. Stale
 * temporary sidecars (`*.tmp`, left by a crash mid-write) go the same way.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CAST_EXT, META_EXT, TMP_EXT, isRecordingId } from './recording-files.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface SweepResult {
  /** Recording ids whose files were deleted. */
  deleted: string[];
  /** Stale temporary files removed. */
  temps: number;
  /** Files that could not be stat'ed or deleted (errno codes), kept for the next sweep. */
  errors: number;
}

export interface RetentionOptions {
  dir: string;
  /** Keep recordings this many days (> 0; fractions allowed, e.g. in tests). */
  days: number;
  /** How often to sweep; default one hour. The first sweep runs after `firstDelayMs` (default 1 s). */
  intervalMs?: number;
  firstDelayMs?: number;
  /** Recordings of sessions that are still live on this replica are never deleted. */
  isLive?: (id: string) => boolean;
  /** Each sweep's outcome (a log line, a metric). */
  onSweep?: (r: SweepResult) => void;
  /** A sweep failed as a whole (the dir is unreadable). */
  onError?: (err: unknown) => void;
  now?: () => number;
}

/** Deletes the pairs whose newest file is older than `cutoffMs` (epoch ms). */
export async function sweepRecordings(dir: string, cutoffMs: number, isLive: (id: string) => boolean = () => false): Promise<SweepResult> {
  const result: SweepResult = { deleted: [], temps: 0, errors: 0 };
  const byId = new Map<string, string[]>();
  for (const name of await readdir(dir)) {
    if (name.endsWith(TMP_EXT)) {
      if (await olderThan(join(dir, name), cutoffMs, result)) {
        if (await remove(join(dir, name), result)) result.temps++;
      }
      continue;
    }
    const ext = name.endsWith(CAST_EXT) ? CAST_EXT : name.endsWith(META_EXT) ? META_EXT : undefined;
    if (!ext) continue;
    const id = name.slice(0, -ext.length);
    if (!isRecordingId(id)) continue;
    byId.set(id, [...(byId.get(id) ?? []), name]);
  }
  for (const [id, names] of byId) {
    if (isLive(id)) continue;
    let old = true;
    for (const n of names) if (!(await olderThan(join(dir, n), cutoffMs, result))) old = false;
    if (!old) continue;
    // The .cast goes first: a sidecar without its cast is not listed, a cast without sidecar would be.
    names.sort((a, b) => Number(b.endsWith(CAST_EXT)) - Number(a.endsWith(CAST_EXT)));
    let all = true;
    for (const n of names) if (!(await remove(join(dir, n), result))) all = false;
    if (all) result.deleted.push(id);
  }
  return result;
}

async function olderThan(path: string, cutoffMs: number, r: SweepResult): Promise<boolean> {
  try {
    const s = await stat(path);
    return s.isFile() && s.mtimeMs < cutoffMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') r.errors++;
    return false;
  }
}

async function remove(path: string, r: SweepResult): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    r.errors++;
    return false;
  }
}

export type RetentionState = 'running' | 'closed';

/** Owns the sweep timer; `close()` stops it and waits for a sweep in progress. */
export class RecordingRetention {
  #state: RetentionState = 'running';
  readonly #o: Required<Omit<RetentionOptions, 'onSweep' | 'onError' | 'isLive'>> & RetentionOptions;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<SweepResult | undefined> | undefined;

  constructor(opts: RetentionOptions) {
    if (!(opts.days > 0) || !Number.isFinite(opts.days)) throw new RangeError('retention: days must be a positive number');
    this.#o = { intervalMs: 60 * 60 * 1000, firstDelayMs: 1000, now: Date.now, ...opts };
    this.#arm(this.#o.firstDelayMs);
  }

  get state(): RetentionState {
    return this.#state;
  }

  /** One sweep now (or the one in progress). Never rejects; failures go to onError. */
  sweep(): Promise<SweepResult | undefined> {
    if (this.#state === 'closed') return Promise.resolve(undefined);
    this.#sweeping ??= this.#run().finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async close(): Promise<void> {
    this.#state = 'closed';
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.sweep().then(() => {
        if (this.#state === 'running') this.#arm(this.#o.intervalMs);
      });
    }, ms);
    this.#timer.unref();
  }

  async #run(): Promise<SweepResult | undefined> {
    try {
      const r = await sweepRecordings(this.#o.dir, this.#o.now() - this.#o.days * DAY_MS, this.#o.isLive);
      this.#o.onSweep?.(r);
      return r;
    } catch (err) {
      try {
        this.#o.onError?.(err);
      } catch {
        // the callback's own failure stays there
      }
      return undefined;
    }
  }
}
