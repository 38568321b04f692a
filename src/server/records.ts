/**
 * Recording and audit for a gateway (issue 11): `--record-dir` (asciicast v2 per session, written
 * by the actors), `--record-retention-days` (a timer deletes old ones, never on the hot path),
 * `--recordings-group` (who may watch everyone's), `--audit-log` (JSON lines, escaped). One owner
 * with one close for all of them.
 */
import { hostname } from 'node:os';
import { AuditLog } from '../audit/audit-log.js';
import type { LogFn } from '../log/logger.js';
import { RecordingCatalog } from '../recording/catalog.js';
import { RecordingRetention } from '../recording/retention.js';
import type { SessionRecords } from '../supervisor/supervisor.js';

export interface RecordsOptions {
  /** Turns recording on. */
  recordDir?: string;
  recordMode?: 'best-effort' | 'strict';
  /** Per-session cap of the .cast in bytes; 0 = none. */
  recordMaxBytes?: number;
  /** Also record input (`i` events): this captures passwords typed at prompts. */
  recordInput?: boolean;
  /** Delete recordings older than this many days; 0 or absent = keep. */
  recordRetentionDays?: number;
  /** Members see every recording. */
  recordingsGroup?: string;
  /** A file, or `-` for stdout. */
  auditLog?: string;
  /** Names this gateway in recordings and audit lines (default: the host name). */
  replicaId?: string;
}

export interface Records {
  readonly sessions: SessionRecords;
  readonly catalog: RecordingCatalog | undefined;
  readonly audit: AuditLog | undefined;
  close(): Promise<void>;
}

export async function openRecords(o: RecordsOptions, log: LogFn): Promise<Records> {
  const replica = o.replicaId ?? hostname();
  const audit = o.auditLog === undefined ? undefined : await AuditLog.open({ dest: o.auditLog, base: { replica } });
  const dir = o.recordDir;
  const catalog = dir === undefined ? undefined : new RecordingCatalog({ dir, ...(o.recordingsGroup ? { recordingsGroup: o.recordingsGroup } : {}) });
  const retention =
    dir !== undefined && (o.recordRetentionDays ?? 0) > 0
      ? new RecordingRetention({
          dir,
          days: o.recordRetentionDays as number,
          onSweep: (r) => log('info', 'old recordings deleted', { ...r }),
          onError: (err) => log('warn', 'recording retention sweep failed', { err }),
        })
      : undefined;
  if (dir !== undefined) log('info', 'recording sessions', { dir, mode: o.recordMode ?? 'best-effort', input: o.recordInput === true });
  let closing: Promise<void> | undefined;
  return {
    sessions: {
      replica,
      ...(dir !== undefined ? { recording: { dir, mode: o.recordMode ?? 'best-effort', maxBytes: o.recordMaxBytes ?? 0, recordInput: o.recordInput === true, replica } } : {}),
      ...(audit ? { audit } : {}),
    },
    catalog,
    audit,
    close: () =>
      (closing ??= (async () => {
        retention?.close();
        await audit?.close();
      })()),
  };
}
