/**
 * The messages on a session's port (a SessionPort on its worker's lane, see lane.ts) between the
 * supervisor (main thread) and its actor
 * (worker or, with `--workers 0`, the main thread). Bytes travel as transferred ArrayBuffers; the
 * actor decodes client frames and encodes server frames, so the main thread only moves buffers.
 *
 * | t       | direction        | fields              | meaning                                          |
 * |---------|------------------|---------------------|--------------------------------------------------|
 * | attach  | main -> actor    | socket, role        | a browser socket joins (Started + replay to it)  |
 * | detach  | main -> actor    | socket              | it left; the last owner leaving detaches         |
 * | in      | main -> actor    | socket, data, ack?  | one raw client message (+ piggybacked ack)       |
 * | ack     | main -> actor    | bytes               | output bytes the owner's sockets have taken      |
 * | close   | main -> actor    | reason              | end the session (client, owner, drain)           |
 * | hello   | actor -> main    | threadId            | the actor runs (where, for recycling)            |
 * | opened  | actor -> main    | container, command  | the exec is open (what it runs, for the list)    |
 * | out     | actor -> main    | data, epoch, to?, except? | one encoded server frame (`to`: see FromActor) |
 * | end     | actor -> main    | code, reason, exitCode? | close every browser socket with this code    |
 *
 * Sockets are numbered by the main thread, per session. `epoch` counts the session's detaches: both
 * sides bump it when the owner's last socket leaves (the main thread decides, `detach` tells the
 * actor), so output the actor posted before it saw a detach is recognised as stale by the main
 * thread (neither delivered to a socket that attached since nor acknowledged: the actor forgot it).
 */
import type { GcPauses } from './gc-pauses.js';
import type { ExecParams } from '../protocol/index.js';
import type { ActAs } from '../kube/act-as.js';

/**
 * `--record-dir` and its switches, and the replica that records: the same for every session, so
 * each actor thread gets one copy when it starts (workerData), not one per session's init.
 */
export interface RecordingSettings {
  dir: string;
  mode: 'best-effort' | 'strict';
  maxBytes: number;
  recordInput: boolean;
  replica: string;
}

/** Whose session a recording is (its sidecar names them): the only per-session part of recording. */
export interface RecordingOwner {
  user: string;
  groups: string[];
}

export interface ActorInit extends ExecParams {
  session: string;
  /**
   * The owner socket that opened the session, numbered by the main thread before the actor runs.
   * It is in the init, not in an `attach` message, because the actor may finish opening the exec
   * before an attach reaches it (the main thread binds the port only when the actor says hello): an
   * actor that knew no socket then took the session for one whose sockets had all left.
   */
  opener: number;
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
  /**
   * Record this session (asciicast v2) when present, as this person's; where and how are the
   * thread's RecordingSettings.
   */
  recording?: RecordingOwner;
  /** Opaque, signed by the main thread; the actor only puts it in the owner's Started frames. */
  resumeToken?: string;
  /** How long a session without owner socket lives on (0: the main thread ends it at once). */
  detachGraceMs?: number;
  /** Replay ring size; 0 = no replay. */
  replayBytes?: number;
}

export type SocketRole = 'owner' | 'observer';

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

/** `ended`: the owner ended the session (DELETE /api/v1/sessions/{id}); watchers get SessionGone. */
export type CloseRequest = 'client-gone' | 'shutdown' | 'ended';

export type ToActor =
  | { t: 'attach'; socket: number; role: SocketRole }
  | { t: 'detach'; socket: number }
  | { t: 'in'; socket: number; data: ArrayBuffer; ack?: number }
  | { t: 'ack'; bytes: number }
  | { t: 'close'; reason: CloseRequest };

export type FromActor =
  | { t: 'hello'; threadId: number }
  | { t: 'opened'; container: string; command: string[] }
  /**
   * `to`: one socket; absent: every socket that got its Started; 'all': every socket (the end
   * frames). `except` (with `to` absent): every socket that got its Started but that one (a size
   * change goes to every socket but the one that asked).
   */
  | { t: 'out'; data: ArrayBuffer; epoch: number; to?: number | 'all'; except?: number }
  | { t: 'end'; code: number; reason: string; exitCode?: number | null };

/** What each actor host (one per worker thread, or the main thread) reports when probed. */
export interface HostReport {
  threadId: number;
  actors: number;
  execs: number;
  /** Recordings open (AsciicastWriter.live on that thread). */
  recordings: number;
  /** Recording write slots taken on that thread (OutputSlot.inUse: a flood's lines not yet written). */
  recordingSlots: number;
  /** Recordings that stopped early (write error, cap, slow disk), since the thread started. */
  recordingStops: number;
  /** Replay rings created and not yet closed. */
  replayBuffers: number;
  /** Timers pending on that thread's event loop (Node's active resources of type Timeout). */
  timers: number;
  /** V8 heap plus external memory (ArrayBuffers in port queues included) of that thread. */
  heapUsed: number;
  /** That thread's GC pauses since it started (gc-pauses.ts). */
  gc: GcPauses;
}

/** Probe on the BroadcastChannel shared by the supervisor and its worker hosts. */
export type ProbeMessage = { t: 'probe'; id: number; gc: boolean } | { t: 'report'; id: number; report: HostReport };
