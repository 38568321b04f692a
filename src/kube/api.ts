/** Namespace and pod listings for the page's picker (PROTOCOL.md HTTP API), in our own shapes. */
import { AuthorizationV1Api, CoreV1Api, type ConfigurationOptions, type KubeConfig, type V1Pod, type V1ContainerStatus } from '@kubernetes/client-node';

import type { KubeIdentity } from './act-as.js';
import type { KubeContexts } from './config.js';
import { kubeErrorToPodterm } from './errors.js';
import { headerOptions } from './request-headers.js';
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

/** What a SelfSubjectAccessReview asks (authorization.k8s.io/v1 ResourceAttributes). */
export interface ResourceAttributes {
  namespace?: string;
  verb: string;
  group?: string;
  resource: string;
  subresource?: string;
  name?: string;
}

interface Apis {
  core: CoreV1Api;
  authz: AuthorizationV1Api;
}

/**
 * Read-only API calls and access reviews, each made as an identity (act-as.ts): the API objects
 * are per KubeConfig (one per context, or per passthrough token, bounded by KubeContexts' cache);
 * impersonation headers go on each call.
 */
export class KubeApi {
  readonly #contexts: KubeContexts;
  readonly #apis = new WeakMap<KubeConfig, Apis>();

  constructor(contexts: KubeContexts) {
    this.#contexts = contexts;
  }

  #client(id: KubeIdentity): Apis & { options: ConfigurationOptions } {
    const { kc, headers } = this.#contexts.identity(id);
    let apis = this.#apis.get(kc);
    if (!apis) {
      apis = { core: kc.makeApiClient(CoreV1Api), authz: kc.makeApiClient(AuthorizationV1Api) };
      this.#apis.set(kc, apis);
    }
    return { ...apis, options: headerOptions(headers) };
  }

  /**
   * Namespaces the identity may list. Without the right to list namespaces (403): the context's
   * own namespace plus the configured ones (`--user TOKEN=CONTEXT:NS,NS`); never a 500 here.
   */
  async listNamespaces(id: KubeIdentity, extra: readonly string[]): Promise<string[]> {
    try {
      const c = this.#client(id);
      const list = await c.core.listNamespace({}, c.options);
      return list.items.map((n) => n.metadata?.name ?? '').filter((n) => n !== '');
    } catch (err) {
      const e = kubeErrorToPodterm(err);
      if (e.code !== 'Forbidden') throw e;
      return [...new Set([this.#contexts.namespaceOf(id.context), ...extra])];
    }
  }

  async listPods(id: KubeIdentity, namespace: string): Promise<PodInfo[]> {
    try {
      const c = this.#client(id);
      const list = await c.core.listNamespacedPod({ namespace }, c.options);
      return list.items.map(podInfo);
    } catch (err) {
      throw kubeErrorToPodterm(err);
    }
  }

  async readPod(id: KubeIdentity, namespace: string, name: string): Promise<PodInfo> {
    try {
      const c = this.#client(id);
      return podInfo(await c.core.readNamespacedPod({ name, namespace }, c.options));
    } catch (err) {
      throw kubeErrorToPodterm(err);
    }
  }

  /**
   * `kubectl auth can-i` for the identity: a SelfSubjectAccessReview, so the API server's own
   * authorizer (RBAC, webhooks) answers for the impersonated person or the passed-through token.
   */
  async canI(id: KubeIdentity, attrs: ResourceAttributes): Promise<boolean> {
    try {
      const c = this.#client(id);
      const review = await c.authz.createSelfSubjectAccessReview({
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attrs } },
      }, c.options);
      return review.status?.allowed === true && review.status.denied !== true;
    } catch (err) {
      throw kubeErrorToPodterm(err);
    }
  }
}
