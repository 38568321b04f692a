/**
 * The piscina task entry. Each session is one long-lived task: it carries the session's init (and,
 * until this worker has one, the transferred MessagePort of its lane) and resolves when the actor
 * has released everything. One ActorHost per worker thread, built from workerData on first load
 * (this file is the worker's composition root).
 */
import { threadId, workerData, type MessagePort } from 'node:worker_threads';
import { createLogger, logFn, type LogLevel } from '../log/logger.js';
import type { KubeSource } from '../kube/config.js';
import type { ActorInit, RecordingSettings } from '../actor-link/actor-messages.js';
import { ActorHost } from './actor-host.js';

export interface ActorWorkerData {
  kube: KubeSource;
  probeChannel: string;
  /** The workers log with a pino logger of their own (functions cannot cross threads). */
  logLevel: LogLevel;
  /** How this thread's actors record their sessions (`--record-dir`); absent: recording is off. */
  recording?: RecordingSettings;
}
export interface ActorTask {
  init: ActorInit;
  /** Present until every worker has a lane (see ActorHost.run). */
  lane?: MessagePort;
}

const data = workerData as ActorWorkerData;
const host = new ActorHost(data.kube, logFn(createLogger({ level: data.logLevel }).child({ component: 'actor', threadId })), data.recording);
host.listen(data.probeChannel);

export default function runActorTask(task: ActorTask): Promise<void> {
  return host.run(task.init, task.lane);
}
