/**
 * What a session actor is given by the host of its thread (actor-host.ts): the kube contexts and
 * agents, the thread's counters, its log and its timer wheel. Shared by every actor on the thread.
 */
import type { KubeContexts } from '../kube/config.js';
import type { ExecAgents } from '../kube/exec.js';
import type { ReplayCounter } from './replay-buffer.js';
import type { TimerWheel } from './timer-wheel.js';
import type { RecordingSettings } from '../actor-link/actor-messages.js';

/** Counts owned by the host of this thread; the actor adjusts them where it acquires/releases. */
export interface ActorCounters {
  actors: number;
  execs: number;
  recordingStops: number;
  /** Replay rings open on this thread (ReplayBuffer keeps it). */
  replay: ReplayCounter;
}

export type ActorLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface ActorDeps {
  kube: KubeContexts;
  agents: ExecAgents;
  counters: ActorCounters;
  threadId: number;
  /** Where the actor logs the cause of its end, once, from its close funnel. */
  log: ActorLog;
  /**
   * This thread's coarse deadlines: the exec ping, idle timeout, max session age and detach grace
   * of every session on it (at most WHEEL_TICK_MS late; timer-wheel.ts).
   */
  wheel: TimerWheel;
  /** How this thread records sessions whose init asks for it; undefined: recording is off. */
  recording: RecordingSettings | undefined;
}
