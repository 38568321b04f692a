/**
 * The recording writer's lifecycle (asciicast-writer.ts, STYLE.md 3): its states, the table of
 * edges that rejects illegal ones, and how a stop is told (the marker's text, the errno logged).
 */
import type { StopReason } from './recording-files.js';

export type WriterState = 'open' | 'stopped' | 'closing' | 'closed';
const EDGES: Readonly<Record<WriterState, readonly WriterState[]>> = {
  // -> closed directly only when a strict open() fails (nothing to flush, no sidecar).
  open: ['stopped', 'closing', 'closed'],
  stopped: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
};

/** Returns `to`, or throws when the table has no edge from `from` to it. */
export function writerTransition(from: WriterState, to: WriterState): WriterState {
  if (!EDGES[from].includes(to)) throw new Error(`recording: illegal transition ${from} -> ${to}`);
  return to;
}

/** The label of the marker event a stop leaves in the .cast (players show it as a chapter). */
export const STOP_TEXT: Record<StopReason, string> = {
  'max-bytes': 'recording stopped: --record-max-bytes reached',
  'buffer-full': 'recording stopped: the disk did not keep up (buffer cap reached)',
  'write-error': 'recording stopped: write error',
  'close-timeout': 'recording stopped: the last writes did not finish',
};

/** The errno code of a file system error (`EUNKNOWN` when it has none): logged, never its message. */
export function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : 'EUNKNOWN';
}
