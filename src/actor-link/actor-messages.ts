/**
 * The messages on a session's port (a SessionPort on its worker's lane, see lane.ts) between the
 * supervisor (main thread) and its actor
 * (worker or, with `--workers 0`, the main thread). Bytes travel as transferred ArrayBuffers; the
 * actor decodes client frames and encodes server frames, so the main thread only moves buffers.
 *
 * | t       | direction        | fields            | meaning                                        |
 * |---------|------------------|-------------------|------------------------------------------------|
 * | in      | main -> actor    | data, ack?        | one raw client message (+ piggybacked ack)     |
 * | ack     | main -> actor    | bytes             | output bytes the browser socket has taken      |
 * | close   | main -> actor    | reason            | the client is gone or the server is draining   |
 * | hello   | actor -> main    | threadId          | the actor runs (where, for recycling)          |
 * | out     | actor -> main    | data              | one encoded server frame (< MAX_SEND_BYTES)    |
 * | end     | actor -> main    | code, reason, exitCode? | close the browser socket with this code  |
 */
import type { ExecParams } from '../protocol/index.js';
import type { ActAs } from '../kube/act-as.js';

/** `--record-dir` and friends, plus whose session it is (the recording's subject). */
export interface RecordingConfig {
  dir: string;
  mode: 'best-effort' | 'strict';
  maxBytes: number;
  recordInput: boolean;
  replica: string;
  user: string;
  groups: string[];
}

export interface ActorInit extends ExecParams {
  session: string;
  /** kubeconfig context of the token; undefined = current-context. */
  context: string | undefined;
  /**
   * Whom to act as with that context's credentials (src/kube/act-as.ts): impersonate a person
   * (`{user, groups}`) or use their token (`{bearer}`); undefined = the context itself.
   */
  as?: ActAs | undefined;
  idleTimeoutMs: number;
  maxSessionAgeMs: number;
  /** End what the session's shell started when the session ends (kill-on-close.ts). */
  killOnClose?: boolean;
  /** Record this session (asciicast v2) when present. */
  recording?: RecordingConfig;
}

/**
 * Output credit: an actor stops reading the exec socket while more than this many bytes it posted
 * are not acknowledged. The main thread acknowledges only what the browser socket took without
 * passing its high-water mark, so a stalled browser stalls the pod, and the bytes held by the
 * gateway per session stay below OUTPUT_WINDOW + the high-water mark.
 */
export const OUTPUT_WINDOW = 256 * 1024;
/**
 * Acks are sent at once from this many pending bytes (a flood never waits for the timer); smaller
 * amounts ride on the next input message or go after ACK_DELAY_MS, so an interactive session costs
 * two port messages per keystroke (input, echo), not three.
 */
export const ACK_EAGER_BYTES = OUTPUT_WINDOW / 4;
export const ACK_DELAY_MS = 200;

export type CloseRequest = 'client-gone' | 'shutdown';

export type ToActor =
  | { t: 'in'; data: ArrayBuffer; ack?: number }
  | { t: 'ack'; bytes: number }
  | { t: 'close'; reason: CloseRequest };

export type FromActor =
  | { t: 'hello'; threadId: number }
  | { t: 'out'; data: ArrayBuffer }
  | { t: 'end'; code: number; reason: string; exitCode?: number | null };

/** What each actor host (one per worker thread, or the main thread) reports when probed. */
export interface HostReport {
  threadId: number;
  actors: number;
  execs: number;
  /** Recordings open (AsciicastWriter.live on that thread). */
  recordings: number;
  /** Recordings that stopped early (write error, cap, slow disk), since the thread started. */
  recordingStops: number;
  /** V8 heap plus external memory (ArrayBuffers in port queues included) of that thread. */
  heapUsed: number;
}

/** Probe on the BroadcastChannel shared by the supervisor and its worker hosts. */
export type ProbeMessage = { t: 'probe'; id: number; gc: boolean } | { t: 'report'; id: number; report: HostReport };
