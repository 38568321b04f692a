/**
 * Where actors run. `PiscinaActorPool`: each session is a long-lived piscina task in a worker
 * (concurrentTasksPerWorker far above 1, no AbortSignal). `InlineActorPool` (`--workers 0`): the
 * same actor code on the main thread, over the same port protocol through a MessageChannel.
 */
import { BroadcastChannel, MessageChannel, type MessagePort } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { Piscina } from 'piscina';
import type { KubeSource } from '../kube/config.js';
import { ActorHost, NO_LANE } from './actor-host.js';
import type { ActorLog } from './actor-deps.js';
import type { LogLevel } from '../log/logger.js';
import type { ActorTask, ActorWorkerData } from './actor-task.js';
import type { ActorInit, FromActor, HostReport, ProbeMessage, RecordingSettings, ToActor } from '../actor-link/actor-messages.js';
import type { ActorPool, ActorRunEnd } from '../actor-link/actor-pool.js';
import { Lane, SessionPort } from '../actor-link/lane.js';


/** Sessions whose actor has not spoken yet: the lane it speaks on binds them. */
class WaitingSessions {
  readonly #ports = new Map<string, SessionPort<FromActor, ToActor>>();

  add(port: SessionPort<FromActor, ToActor>): void {
    this.#ports.set(port.id, port);
  }
  delete(id: string): void {
    this.#ports.delete(id);
  }
  /** Lane callback for a message from a session it does not know yet. */
  readonly bind = (lane: Lane, id: string): SessionPort<unknown, unknown> | undefined => {
    const port = this.#ports.get(id);
    if (!port) return undefined;
    this.#ports.delete(id);
    port.bind(lane);
    return port as SessionPort<unknown, unknown>;
  };
}

const ACTOR_TASK = new URL('./actor-task.js', import.meta.url).href;
const PROBE_TIMEOUT_MS = 2000;

export class PiscinaActorPool implements ActorPool {
  readonly workers: number;
  readonly #pool: Piscina<ActorTask, void>;
  readonly #channel: BroadcastChannel;
  readonly #lanes = new Set<Lane>();
  readonly #waiting = new WaitingSessions();
  #nextProbe = 1;

  constructor(kube: KubeSource, workers: number, logLevel: LogLevel, recording?: RecordingSettings) {
    this.workers = workers;
    const probeChannel = `podterm-probe-${randomUUID()}`;
    this.#channel = new BroadcastChannel(probeChannel);
    this.#channel.unref();
    const workerData: ActorWorkerData = { kube, probeChannel, logLevel, ...(recording ? { recording } : {}) };
    this.#pool = new Piscina<ActorTask, void>({
      filename: ACTOR_TASK,
      minThreads: workers,
      maxThreads: workers,
      // Sessions are long-lived async tasks that mostly wait on sockets.
      concurrentTasksPerWorker: 10_000,
      // Workers must keep running their event loops between tasks, never block in Atomics.wait.
      atomics: 'disabled',
      maxQueue: Number.MAX_SAFE_INTEGER,
      workerData,
    });
  }

  run(port: SessionPort<FromActor, ToActor>, init: ActorInit, ended: ActorRunEnd): void {
    this.#waiting.add(port);
    this.#runTask(init, ended, 0);
  }

  /**
   * Tasks carry a new lane until there are as many lanes as workers (a worker keeps the first it
   * gets and closes the others). A task that lands on a worker without a lane is refused with
   * NO_LANE and retried with one.
   */
  #runTask(init: ActorInit, ended: ActorRunEnd, attempt: number): void {
    const lane = attempt > 0 || this.#lanes.size < this.workers ? this.#newLane() : undefined;
    this.#pool.run({ init, ...(lane ? { lane } : {}) }, { transferList: lane ? [lane] : [] }).then(
      () => {
        this.#waiting.delete(init.session);
        ended.actorRunEnded(undefined);
      },
      (err: unknown) => {
        if (attempt < 20 && err instanceof Error && err.message.includes(NO_LANE)) return this.#runTask(init, ended, attempt + 1);
        this.#waiting.delete(init.session);
        ended.actorRunEnded(err ?? new Error('podterm: the actor failed without a reason'));
      },
    );
  }

  #newLane(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    const lane: Lane = new Lane(port1, this.#waiting.bind, () => this.#lanes.delete(lane));
    this.#lanes.add(lane);
    return port2;
  }

  probe(gc: boolean): Promise<HostReport[]> {
    const id = this.#nextProbe++;
    const expected = this.#pool.threads.length;
    return new Promise((resolve) => {
      const reports = new Map<number, HostReport>();
      const onMessage = (ev: Event): void => {
        const m = (ev as unknown as { data: ProbeMessage }).data;
        if (m.t !== 'report' || m.id !== id) return;
        reports.set(m.report.threadId, m.report);
        if (reports.size >= expected) finish();
      };
      const finish = (): void => {
        clearTimeout(timer);
        this.#channel.removeEventListener('message', onMessage);
        resolve([...reports.values()]);
      };
      const timer = setTimeout(finish, PROBE_TIMEOUT_MS);
      this.#channel.addEventListener('message', onMessage);
      this.#channel.postMessage({ t: 'probe', id, gc } satisfies ProbeMessage);
    });
  }

  async alive(threadId: number): Promise<boolean> {
    return (await this.probe(false)).some((r) => r.threadId === threadId);
  }

  async recycle(threadId: number): Promise<void> {
    const worker = this.#pool.threads.find((w) => w.threadId === threadId);
    if (worker) await worker.terminate();
  }

  async terminateOne(): Promise<void> {
    const worker = this.#pool.threads[0];
    if (worker) await worker.terminate();
  }

  #closing: Promise<void> | undefined;

  /** Idempotent: later callers await the first close. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#pool.destroy();
      for (const lane of this.#lanes) lane.close();
      this.#channel.close();
    })();
    return this.#closing;
  }
}

export class InlineActorPool implements ActorPool {
  readonly workers = 0;
  readonly #host: ActorHost;
  readonly #lane: Lane;
  readonly #waiting = new WaitingSessions();

  constructor(kube: KubeSource, log: ActorLog, recording?: RecordingSettings) {
    this.#host = new ActorHost(kube, log, recording);
    const { port1, port2 } = new MessageChannel();
    this.#host.adoptLane(port2);
    this.#lane = new Lane(port1, this.#waiting.bind);
  }

  run(port: SessionPort<FromActor, ToActor>, init: ActorInit, ended: ActorRunEnd): void {
    this.#waiting.add(port);
    this.#host.run(init).then(
      () => {
        this.#waiting.delete(init.session);
        ended.actorRunEnded(undefined);
      },
      (err: unknown) => {
        this.#waiting.delete(init.session);
        ended.actorRunEnded(err ?? new Error('podterm: the actor failed without a reason'));
      },
    );
  }

  async probe(gc: boolean): Promise<HostReport[]> {
    return [await this.#host.report(gc)];
  }

  async alive(): Promise<boolean> {
    // The main thread runs this very code: it answers.
    return true;
  }

  async recycle(): Promise<void> {
    // No thread to recycle on the main thread; the deadline miss is counted by the supervisor.
  }

  async terminateOne(): Promise<void> {
    throw new Error('terminateWorker needs --workers >= 1');
  }

  /** Idempotent (the host and the lane close once). */
  async close(): Promise<void> {
    this.#host.close();
    this.#lane.close();
  }
}
