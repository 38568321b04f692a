/**
 * Where actors run. `PiscinaActorPool`: each session is a long-lived piscina task in a worker
 * (concurrentTasksPerWorker far above 1, no AbortSignal). `InlineActorPool` (`--workers 0`): the
 * same actor code on the main thread, over the same port protocol through a MessageChannel.
 */
import { BroadcastChannel, type MessagePort } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { Piscina } from 'piscina';
import type { KubeSource } from '../kube/config.js';
import { ActorHost } from '../../workers/actor-host.js';
import type { ActorTask, ActorWorkerData } from '../../workers/actor-task.js';
import type { ActorInit, HostReport, ProbeMessage } from './actor-messages.js';

export interface ActorPool {
  readonly workers: number;
  /** Runs one actor; resolves when it has released everything, rejects if its worker died. */
  run(port: MessagePort, init: ActorInit): Promise<void>;
  /** Every host's counts (and heap after a GC when asked). */
  probe(gc: boolean): Promise<HostReport[]>;
  /** Ends the worker thread that runs `threadId` (a stuck actor); piscina starts a fresh one. */
  recycle(threadId: number): Promise<void>;
  /** Test hook: ends one worker thread. */
  terminateOne(): Promise<void>;
  close(): Promise<void>;
}

const ACTOR_TASK = new URL('../../workers/actor-task.js', import.meta.url).href;
const PROBE_TIMEOUT_MS = 2000;

export class PiscinaActorPool implements ActorPool {
  readonly workers: number;
  readonly #pool: Piscina<ActorTask, void>;
  readonly #channel: BroadcastChannel;
  #nextProbe = 1;

  constructor(kube: KubeSource, workers: number) {
    this.workers = workers;
    const probeChannel = `podterm-probe-${randomUUID()}`;
    this.#channel = new BroadcastChannel(probeChannel);
    this.#channel.unref();
    const workerData: ActorWorkerData = { kube, probeChannel };
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

  run(port: MessagePort, init: ActorInit): Promise<void> {
    return this.#pool.run({ port, init }, { transferList: [port] });
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

  async recycle(threadId: number): Promise<void> {
    const worker = this.#pool.threads.find((w) => w.threadId === threadId);
    if (worker) await worker.terminate();
  }

  async terminateOne(): Promise<void> {
    const worker = this.#pool.threads[0];
    if (worker) await worker.terminate();
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
    this.#channel.close();
  }
}

export class InlineActorPool implements ActorPool {
  readonly workers = 0;
  readonly #host: ActorHost;

  constructor(kube: KubeSource) {
    this.#host = new ActorHost(kube);
  }

  run(port: MessagePort, init: ActorInit): Promise<void> {
    return this.#host.run(port, init);
  }

  async probe(gc: boolean): Promise<HostReport[]> {
    return [await this.#host.report(gc)];
  }

  async recycle(): Promise<void> {
    // No thread to recycle on the main thread; the deadline miss is counted by the supervisor.
  }

  async terminateOne(): Promise<void> {
    throw new Error('terminateWorker needs --workers >= 1');
  }

  async close(): Promise<void> {
    this.#host.close();
  }
}
