/**
 * "May this person open a terminal here?" asked of the API server itself, as that person
 * (issue 9): a SelfSubjectAccessReview for `create pods/exec` (the verb WebSocket exec needs since
 * KEP-4006; servers before 1.35's AuthorizePodWebsocketUpgradeCreatePermission authorize the
 * WebSocket GET as `get`, and the deploy ClusterRole grants both). Asked only when the gateway acts
 * for a person (impersonation or passthrough); a context-bound static token is the context's own
 * identity and the exec itself is the check, as before.
 */
import type { KubeIdentity } from '../kube/act-as.js';
import type { KubeApi } from '../kube/api.js';
import { PodtermError } from '../protocol/errors.js';
import type { PodInfo } from '../protocol/index.js';

/** Pods reviewed one by one when the namespace-wide review says no (rules with resourceNames). */
export const MAX_POD_REVIEWS = 32;
const REVIEW_CONCURRENCY = 8;

function execAttrs(namespace: string, pod?: string) {
  return { namespace, verb: 'create', resource: 'pods', subresource: 'exec', ...(pod === undefined ? {} : { name: pod }) };
}

export function reviewsNeeded(id: KubeIdentity): boolean {
  return id.as !== undefined;
}

/** Throws Forbidden (4403) unless the person may exec into the pod. */
export async function assertExecAllowed(kube: KubeApi, id: KubeIdentity, namespace: string, pod: string): Promise<void> {
  if (!reviewsNeeded(id)) return;
  if (!(await kube.canI(id, execAttrs(namespace, pod)))) {
    throw new PodtermError('Forbidden', `You may not open a terminal in namespace ${namespace}.`);
  }
}

export interface PodList {
  items: PodInfo[];
  /** false: the person may not exec into any pod of the namespace (no review was needed: absent). */
  execAllowed?: boolean;
}

/** The pod list with `execAllowed` per pod: one namespace-wide review, per-pod ones only when it says no. */
export async function markExecAllowed(kube: KubeApi, id: KubeIdentity, namespace: string, pods: PodInfo[]): Promise<PodList> {
  if (!reviewsNeeded(id)) return { items: pods };
  if (await kube.canI(id, execAttrs(namespace))) {
    return { items: pods.map((p) => ({ ...p, execAllowed: true })), execAllowed: true };
  }
  const allowed = new Map<string, boolean>();
  const queue = pods.slice(0, MAX_POD_REVIEWS).map((p) => p.name);
  await Promise.all(Array.from({ length: Math.min(REVIEW_CONCURRENCY, queue.length) }, async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      allowed.set(name, await kube.canI(id, execAttrs(namespace, name)));
    }
  }));
  const items = pods.map((p) => ({ ...p, execAllowed: allowed.get(p.name) ?? false }));
  return { items, execAllowed: items.some((p) => p.execAllowed) };
}
