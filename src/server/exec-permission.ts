/**
 * "May this person do that to this pod?" asked of the API server itself, as that person
 * (issue 9, issue 12: "every one of these goes through the same identity, permission check
 * (SelfSubjectAccessReview) and audit as a terminal does"), before the gateway acts:
 *
 * | action | review |
 * |---|---|
 * | terminal, file copy (exec) | `create pods/exec` |
 * | attach | `create pods/attach` |
 * | logs | `get pods/log` |
 * | debug container | `patch pods/ephemeralcontainers` |
 *
 * exec and attach are reviewed as `create`, the verb WebSocket exec needs since KEP-4006; servers
 * before 1.35's AuthorizePodWebsocketUpgradeCreatePermission authorize the WebSocket GET as `get`,
 * and the deploy ClusterRole grants both. Asked only when the gateway acts for a person
 * (impersonation or passthrough); a context-bound static token is the context's own identity and
 * the API server's answer to the action itself is the check, as before.
 */
import type { KubeIdentity } from '../kube/act-as.js';
import type { KubeApi } from '../kube/api.js';
import { PodtermError } from '../protocol/errors.js';
import type { PodInfo } from '../protocol/index.js';

/** Pods reviewed one by one when the namespace-wide review says no (rules with resourceNames). */
export const MAX_POD_REVIEWS = 32;
const REVIEW_CONCURRENCY = 8;

/** One kind of pod access: the review's verb and subresource, and what a refusal says it was. */
export interface PodAccess {
  verb: 'create' | 'get' | 'patch';
  subresource: 'exec' | 'attach' | 'log' | 'ephemeralcontainers';
  /** Completes "You may not …": e.g. "open a terminal". */
  doing: string;
}

export const EXEC: PodAccess = { verb: 'create', subresource: 'exec', doing: 'open a terminal' };
export const ATTACH: PodAccess = { verb: 'create', subresource: 'attach', doing: 'attach to a container' };
export const FILES: PodAccess = { verb: 'create', subresource: 'exec', doing: 'copy files' };
export const LOGS: PodAccess = { verb: 'get', subresource: 'log', doing: 'read logs' };
export const DEBUG: PodAccess = { verb: 'patch', subresource: 'ephemeralcontainers', doing: 'start a debug container' };

function attrs(access: PodAccess, namespace: string, pod?: string) {
  return { namespace, verb: access.verb, resource: 'pods', subresource: access.subresource, ...(pod === undefined ? {} : { name: pod }) };
}

export function reviewsNeeded(id: KubeIdentity): boolean {
  return id.as !== undefined;
}

/** Throws Forbidden (403 / 4403) unless the person may do `access` to the pod. */
export async function assertPodAccess(kube: KubeApi, id: KubeIdentity, access: PodAccess, namespace: string, pod: string, signal?: AbortSignal): Promise<void> {
  if (!reviewsNeeded(id)) return;
  if (!(await kube.canI(id, attrs(access, namespace, pod), signal))) {
    throw new PodtermError('Forbidden', `You may not ${access.doing} in namespace ${namespace}.`);
  }
}

/** Throws Forbidden (4403) unless the person may exec into the pod. */
export function assertExecAllowed(kube: KubeApi, id: KubeIdentity, namespace: string, pod: string): Promise<void> {
  return assertPodAccess(kube, id, EXEC, namespace, pod);
}

export interface PodList {
  items: PodInfo[];
  /** false: the person may not exec into any pod of the namespace (no review was needed: absent). */
  execAllowed?: boolean;
}

/** The pod list with `execAllowed` per pod: one namespace-wide review, per-pod ones only when it says no. */
export async function markExecAllowed(kube: KubeApi, id: KubeIdentity, namespace: string, pods: PodInfo[]): Promise<PodList> {
  if (!reviewsNeeded(id)) return { items: pods };
  if (await kube.canI(id, attrs(EXEC, namespace))) {
    return { items: pods.map((p) => ({ ...p, execAllowed: true })), execAllowed: true };
  }
  const allowed = new Map<string, boolean>();
  const queue = pods.slice(0, MAX_POD_REVIEWS).map((p) => p.name);
  await Promise.all(Array.from({ length: Math.min(REVIEW_CONCURRENCY, queue.length) }, async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      allowed.set(name, await kube.canI(id, attrs(EXEC, namespace, name)));
    }
  }));
  const items = pods.map((p) => ({ ...p, execAllowed: allowed.get(p.name) ?? false }));
  return { items, execAllowed: items.some((p) => p.execAllowed) };
}
