/**
 * The actors of one thread (a piscina worker, or the main thread with `--workers 0`): their shared
 * kubeconfig, the counts the workers themselves report (podterm_actors_active, exec sockets), and
 * the answer to the supervisor's probe.
 */
import { BroadcastChannel, threadId, type MessagePort } from 'node:worker_threads';
import { KubeContexts, type KubeSource } from '../kube/config.js';
import { ExecAgents } from '../kube/exec.js';
import type { ActorInit, FromActor, HostReport, ProbeMessage, RecordingSettings, ToActor } from '../actor-link/actor-messages.js';
import { AsciicastWriter } from '../recording/asciicast-writer.js';
import { OutputSlot } from '../recording/output-slots.js';
import { collectGarbage } from '../actor-link/collect-garbage.js';
import { gcPauses, watchGcPauses } from '../actor-link/gc-pauses.js';
import { pendingTimers } from '../actor-link/pending-timers.js';
import { Lane, SessionPort } from '../actor-link/lane.js';
import { SessionActor } from './session-actor.js';
import type { ActorCounters, ActorLog } from './actor-deps.js';
import { TimerWheel } from './timer-wheel.js';

/** The rejection text of a task that reached a thread without a lane (the supervisor retries). */
export const NO_LANE = 'podterm: this worker has no lane yet';

export class ActorHost {
  readonly #kube: KubeContexts;
  readonly #agents = new ExecAgents();
  /** The coarse deadlines of every session on this thread (one Node timer while any is armed). */
  readonly #wheel = new TimerWheel();
  readonly counters: ActorCounters = { actors: 0, execs: 0, recordingStops: 0, replay: { live: 0 } };
  #probe: BroadcastChannel | undefined;
  /** This thread's one port to the supervisor, carrying every session on it. */
  #lane: Lane | undefined;

  readonly #log: ActorLog;
  readonly #recording: RecordingSettings | undefined;

  constructor(kube: KubeSource, log: ActorLog, recording?: RecordingSettings) {
    watchGcPauses();
    this.#kube = new KubeContexts(kube);
    this.#log = log;
    this.#recording = recording;
  }

  /** Answers probes on the supervisor's channel (workers only; the main thread is asked directly). */
  listen(channelName: string): void {
    const bc = new BroadcastChannel(channelName);
    // The worker lives as long as piscina keeps it; the channel must not keep it alive on its own.
    bc.unref();
    bc.onmessage = (ev) => {
      const m = (ev as unknown as { data: ProbeMessage }).data;
      if (m.t !== 'probe') return;
      void this.report(m.gc).then((report) => bc.postMessage({ t: 'report', id: m.id, report } satisfies ProbeMessage));
    };
    this.#probe = bc;
  }

  async report(gc: boolean): Promise<HostReport> {
    if (gc) await collectGarbage();
    return { threadId, actors: this.counters.actors, execs: this.counters.execs, recordings: AsciicastWriter.live, recordingSlots: OutputSlot.inUse, recordingStops: this.counters.recordingStops, replayBuffers: this.counters.replay.live, timers: pendingTimers(), heapUsed: threadMemory(), gc: gcPauses() };
  }

  /**
   * Runs one session's actor on this thread's lane. A task may bring a lane: the first one is kept,
   * later ones are closed (the supervisor sees their 'close'). A thread without a lane refuses the
   * task with NO_LANE, and the supervisor retries it with one.
   */
  run(init: ActorInit, lane?: MessagePort): Promise<void> {
    if (lane) this.adoptLane(lane);
    const current = this.#lane;
    if (!current) return Promise.reject(new Error(NO_LANE));
    const port = new SessionPort<ToActor, FromActor>(init.session);
    port.bind(current);
    return new SessionActor(port, init, { kube: this.#kube, agents: this.#agents, counters: this.counters, threadId, log: this.#log, wheel: this.#wheel, recording: this.#recording }).run();
  }

  adoptLane(port: MessagePort): void {
    if (this.#lane) {
      port.close();
      return;
    }
    const lane = new Lane(port, undefined, () => {
      if (this.#lane === lane) this.#lane = undefined;
    });
    this.#lane = lane;
  }

  close(): void {
    this.#wheel.close();
    this.#probe?.close();
    this.#probe = undefined;
    this.#lane?.close();
    this.#lane = undefined;
  }
}

function threadMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
