/** Namespace and pod listings for the page's picker (PROTOCOL.md HTTP API), in our own shapes. */
import { AuthorizationV1Api, CoreV1Api, Observable, type ConfigurationOptions, type KubeConfig, type ObservableMiddleware, type V1Pod, type V1ContainerStatus } from '@kubernetes/client-node';

import type { KubeIdentity } from './act-as.js';
import type { KubeContexts } from './config.js';
import { withDeadline } from './deadline.js';
import { kubeErrorToPodterm } from './errors.js';
import { headerMiddleware, type HeaderLines } from './request-headers.js';
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

/**
 * Per-call middleware that puts `signal` on the request (client-node 1.4's fetch honours
 * RequestContext.setSignal), so a timeout or a closing session also drops the HTTP request.
 * The Object API hands per-call options to the Observable API: its middleware returns Observables.
 */
function signalMiddleware(signal: AbortSignal): ObservableMiddleware {
  return {
    pre: (ctx) => {
      ctx.setSignal(signal);
      return new Observable(Promise.resolve(ctx));
    },
    post: (res) => new Observable(Promise.resolve(res)),
  };
}

function callOptions(headers: HeaderLines, signal: AbortSignal): ConfigurationOptions {
  // The signal first: the header middleware hands on a view of the same context, which inherits it.
  return { middleware: [signalMiddleware(signal), headerMiddleware(headers)], middlewareMergeStrategy: 'append' };
}

interface Apis {
  core: CoreV1Api;
  authz: AuthorizationV1Api;
}

/**
 * Read-only API calls and access reviews, each made as an identity (act-as.ts): the API objects
 * are per KubeConfig (one per context, or per passthrough token, bounded by KubeContexts' cache);
 * impersonation headers go on each call. Every call is bounded by the contexts' timeout and the
 * caller's signal (deadline.ts): UpstreamUnavailable when the API server is silent.
 */
export class KubeApi {
  readonly #contexts: KubeContexts;
  readonly #apis = new WeakMap<KubeConfig, Apis>();

  constructor(contexts: KubeContexts) {
    this.#contexts = contexts;
  }

  #client(id: KubeIdentity): Apis & { headers: HeaderLines } {
    const { kc, headers } = this.#contexts.identity(id);
    let apis = this.#apis.get(kc);
    if (!apis) {
      apis = { core: kc.makeApiClient(CoreV1Api), authz: kc.makeApiClient(AuthorizationV1Api) };
      this.#apis.set(kc, apis);
    }
    return { ...apis, headers };
  }

  /** The bound on each call (`--kube-timeout-ms`). */
  get timeoutMs(): number {
    return this.#contexts.timeoutMs;
  }

  /** One bounded call as `id`; any failure comes out as a PodtermError. */
  #call<T>(id: KubeIdentity, signal: AbortSignal | undefined, fn: (c: Apis, options: ConfigurationOptions) => Promise<T>): Promise<T> {
    return withDeadline(this.#contexts.timeoutMs, signal, async (s) => {
      try {
        const c = this.#client(id);
        return await fn(c, callOptions(c.headers, s));
      } catch (err) {
        // The deadline's own error wins over node-fetch's AbortError for the same abort.
        if (s.aborted) throw s.reason;
        throw kubeErrorToPodterm(err);
      }
    });
  }

  /**
   * Namespaces the identity may list, or undefined when it may not list namespaces at all (403):
   * the caller then falls back to the namespaces it knows (namespace-permission.ts); never a 500.
   */
  async listNamespaces(id: KubeIdentity, signal?: AbortSignal): Promise<string[] | undefined> {
    try {
      const list = await this.#call(id, signal, (c, o) => c.core.listNamespace({}, o));
      return list.items.map((n) => n.metadata?.name ?? '').filter((n) => n !== '');
    } catch (err) {
      const e = kubeErrorToPodterm(err);
      if (e.code !== 'Forbidden') throw e;
      return undefined;
    }
  }

  /** The default namespace of the identity's kubeconfig context (`default` when it names none). */
  namespaceOf(id: KubeIdentity): string {
    return this.#contexts.namespaceOf(id.context);
  }

  async listPods(id: KubeIdentity, namespace: string, signal?: AbortSignal): Promise<PodInfo[]> {
    const list = await this.#call(id, signal, (c, o) => c.core.listNamespacedPod({ namespace }, o));
    return list.items.map(podInfo);
  }

  async readPod(id: KubeIdentity, namespace: string, name: string, signal?: AbortSignal): Promise<PodInfo> {
    return podInfo(await this.#call(id, signal, (c, o) => c.core.readNamespacedPod({ name, namespace }, o)));
  }

  /**
   * `kubectl auth can-i` for the identity: a SelfSubjectAccessReview, so the API server's own
   * authorizer (RBAC, webhooks) answers for the impersonated person or the passed-through token.
   */
  async canI(id: KubeIdentity, attrs: ResourceAttributes, signal?: AbortSignal): Promise<boolean> {
    const review = await this.#call(id, signal, (c, o) =>
      c.authz.createSelfSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attrs } } }, o),
    );
    return review.status?.allowed === true && review.status.denied !== true;
  }
}
