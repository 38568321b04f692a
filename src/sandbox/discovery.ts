/**
 * Discovery for the API groups the sandbox serves beside the core group: authorization.k8s.io
 * (SelfSubjectAccessReview, for `kubectl auth can-i`) and authentication.k8s.io
 * (SelfSubjectReview, for `kubectl auth whoami`). Plain (unaggregated) documents: kubectl asks for
 * the aggregated `apidiscovery.k8s.io/v2` form first and falls back to these when the answer's
 * content type is plain application/json (client-go discovery, aggregated_discovery.go).
 */
interface GroupSpec {
  readonly name: string;
  readonly resources: readonly { readonly name: string; readonly singularName: string; readonly kind: string }[];
}

const GROUPS: readonly GroupSpec[] = [
  { name: 'authentication.k8s.io', resources: [{ name: 'selfsubjectreviews', singularName: 'selfsubjectreview', kind: 'SelfSubjectReview' }] },
  { name: 'authorization.k8s.io', resources: [{ name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview' }] },
];

function groupEntry(g: GroupSpec): Record<string, unknown> {
  const v = { groupVersion: `${g.name}/v1`, version: 'v1' };
  return { name: g.name, versions: [v], preferredVersion: v };
}

/** The `groups` of GET /apis. */
export const API_GROUPS: readonly Record<string, unknown>[] = GROUPS.map(groupEntry);

/** GET /apis/{group} and /apis/{group}/v1, or undefined for any other path. */
export function groupDiscovery(path: string): Record<string, unknown> | undefined {
  for (const g of GROUPS) {
    if (path === `/apis/${g.name}`) return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(g) };
    if (path === `/apis/${g.name}/v1`) {
      return {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: `${g.name}/v1`,
        resources: g.resources.map((r) => ({ ...r, namespaced: false, verbs: ['create'] })),
      };
    }
  }
  return undefined;
}
