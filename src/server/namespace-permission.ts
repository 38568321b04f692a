/**
 * The namespaces the picker offers a caller (issue 9): the namespaces they may list when they may
 * list namespaces; otherwise the ones the gateway knows for them (their kubeconfig context's own
 * namespace plus the configured ones, `--user TOKEN=CONTEXT:NS,NS`), narrowed to those where a
 * SelfSubjectAccessReview, asked as that caller, allows `list pods`: a namespace whose pods the
 * caller may not list would only open onto a 403.
 *
 * The reviews go out in parallel (at most REVIEW_CONCURRENCY at once) under one deadline, the
 * kube timeout, so a slow API server costs one timeout, not one per namespace. A caller who may
 * not even create reviews (no `system:basic-user`) keeps the known list unnarrowed, as before: the
 * pod list then says what they may see. Any other failure is the API server's (UpstreamUnavailable).
 */
import { withDeadline } from '../kube/deadline.js';
import type { KubeIdentity } from '../kube/act-as.js';
import type { KubeApi } from '../kube/api.js';
import { PodtermError } from '../protocol/errors.js';

const REVIEW_CONCURRENCY = 8;

export async function namespacesFor(kube: KubeApi, id: KubeIdentity, configured: readonly string[]): Promise<string[]> {
  const listed = await kube.listNamespaces(id);
  if (listed) return listed;
  const known = [...new Set([kube.namespaceOf(id), ...configured])];
  return withDeadline(kube.timeoutMs, undefined, (signal) => mayListPods(kube, id, known, signal));
}

async function mayListPods(kube: KubeApi, id: KubeIdentity, namespaces: readonly string[], signal: AbortSignal): Promise<string[]> {
  const allowed = new Map<string, boolean>();
  const queue = [...namespaces];
  let reviewsRefused = false;
  await Promise.all(Array.from({ length: Math.min(REVIEW_CONCURRENCY, queue.length) }, async () => {
    for (let ns = queue.shift(); ns !== undefined && !reviewsRefused; ns = queue.shift()) {
      try {
        allowed.set(ns, await kube.canI(id, { namespace: ns, verb: 'list', resource: 'pods' }, signal));
      } catch (err) {
        if (!(err instanceof PodtermError && err.code === 'Forbidden')) {
          queue.length = 0; // the answer is a failure now: ask nothing more
          throw err;
        }
        reviewsRefused = true;
      }
    }
  }));
  if (reviewsRefused) return [...namespaces];
  return namespaces.filter((ns) => allowed.get(ns) === true);
}
