/** Namespace and pod listings for the page's picker (PROTOCOL.md HTTP API), in our own shapes. */
import { CoreV1Api, type V1Pod, type V1ContainerStatus } from '@kubernetes/client-node';

import type { KubeContexts } from './config.js';
import { kubeErrorToPodterm } from './errors.js';
import type { ContainerInfo, PodInfo } from '../protocol/index.js';

export type { ContainerInfo, PodInfo };

const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

function containerInfo(name: string, status: V1ContainerStatus | undefined): ContainerInfo {
  const st = status?.state;
  const state = st?.running ? 'running' : st?.waiting ? 'waiting' : st?.terminated ? 'terminated' : 'unknown';
  const reason = st?.waiting?.reason ?? st?.terminated?.reason ?? null;
  return { name, ready: status?.ready ?? false, running: state === 'running', state, reason };
}

export function podInfo(pod: V1Pod): PodInfo {
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  const statuses = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name, s]));
  const annotated = pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  const containers = names.map((n) => containerInfo(n, statuses.get(n)));
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: containers.length > 0 && containers.every((c) => c.ready),
    defaultContainer: annotated && names.includes(annotated) ? annotated : (names[0] ?? null),
    containers,
  };
}

/** Read-only API calls for one gateway; one CoreV1Api per context, reused. */
export class KubeApi {
  readonly #contexts: KubeContexts;
  readonly #apis = new Map<string, CoreV1Api>();

  constructor(contexts: KubeContexts) {
    this.#contexts = contexts;
  }

  #api(context: string | undefined): CoreV1Api {
    const key = context ?? this.#contexts.currentContext;
    let api = this.#apis.get(key);
    if (!api) {
      api = this.#contexts.forContext(context).makeApiClient(CoreV1Api);
      this.#apis.set(key, api);
    }
    return api;
  }

  /**
   * Namespaces the identity may see. Without cluster-wide list rights (403), the context's own
   * namespace plus the ones configured for the token, as the brief asks: never a 500 here.
   */
  async listNamespaces(context: string | undefined, extra: readonly string[]): Promise<string[]> {
    try {
      const list = await this.#api(context).listNamespace();
      return list.items.map((n) => n.metadata?.name ?? '').filter((n) => n !== '');
    } catch (err) {
      const e = kubeErrorToPodterm(err);
      if (e.code !== 'Forbidden') throw e;
      return [...new Set([this.#contexts.namespaceOf(context), ...extra])];
    }
  }

  async listPods(context: string | undefined, namespace: string): Promise<PodInfo[]> {
    try {
      const list = await this.#api(context).listNamespacedPod({ namespace });
      return list.items.map(podInfo);
    } catch (err) {
      throw kubeErrorToPodterm(err);
    }
  }

  async readPod(context: string | undefined, namespace: string, name: string): Promise<PodInfo> {
    try {
      return podInfo(await this.#api(context).readNamespacedPod({ name, namespace }));
    } catch (err) {
      throw kubeErrorToPodterm(err);
    }
  }
}

