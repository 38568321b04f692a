/**
 * What the supervisor sees of the place actors run: the only way it reaches them. The pools
 * themselves live in src/actor (piscina workers, or inline on the main thread).
 */
import type { ActorInit, FromActor, HostReport, ToActor } from './actor-messages.js';
import type { SessionPort } from './lane.js';

/** Told once when an actor's run is over. */
export interface ActorRunEnd {
  /** `err` undefined: the actor released everything; otherwise its worker died or refused it. */
  actorRunEnded(err: unknown): void;
}

export interface ActorPool {
  readonly workers: number;
  /**
   * Runs one actor, talking to it through `port` (bound to the actor's lane once the actor speaks);
   * tells `ended` once it has released everything (no error), or that its worker died (the error).
   * A callback object, not a promise: a promise chain per idle session cost ~0.7 KB of heap on the
   * main thread (issue 13).
   */
  run(port: SessionPort<FromActor, ToActor>, init: ActorInit, ended: ActorRunEnd): void;
  /** Every host's counts (and heap after a GC when asked). */
  probe(gc: boolean): Promise<HostReport[]>;
  /** Whether the thread `threadId` answers a probe (its event loop runs), within a bounded wait. */
  alive(threadId: number): Promise<boolean>;
  /** Ends the worker thread that runs `threadId` (a stuck actor); piscina starts a fresh one. */
  recycle(threadId: number): Promise<void>;
  /** Test hook: ends one worker thread. */
  terminateOne(): Promise<void>;
  close(): Promise<void>;
}
