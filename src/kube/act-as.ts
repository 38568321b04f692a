/**
 * Whom the gateway acts as in Kubernetes for one request (issue 9, "Acting as that person"):
 *
 * - nothing: the gateway's own credentials of a kubeconfig context (today's static tokens);
 * - `{user, groups}`: the gateway's own credentials plus `Impersonate-User` and one
 *   `Impersonate-Group` header per group (k8s.io/apiserver filters/impersonation.go reads the group
 *   header as a list of header lines, never by splitting a value on commas);
 * - `{bearer}`: the person's own ID token instead of the gateway's credentials (passthrough, for
 *   clusters that trust the same issuer).
 *
 * Plain data: it travels to the actor in ActorInit (structured clone) and keys the client cache.
 */
export type ActAs = { user: string; groups: string[] } | { bearer: string };

export interface KubeIdentity {
  /** kubeconfig context of the gateway's own credentials; undefined = current-context. */
  context: string | undefined;
  as?: ActAs | undefined;
}

/** The impersonation headers for `as`, as header name -> values (one line each); empty for none. */
export function impersonationHeaders(as: ActAs | undefined): Record<string, string[]> {
  if (!as || !('user' in as)) return {};
  const h: Record<string, string[]> = { 'Impersonate-User': [as.user] };
  if (as.groups.length > 0) h['Impersonate-Group'] = [...as.groups];
  return h;
}

/** A stable cache key for an identity (the bearer itself is hashed by the caller's cache). */
export function identityKey(id: KubeIdentity): string {
  const as = id.as;
  const who = !as ? '-' : 'user' in as ? `u:${JSON.stringify([as.user, ...as.groups])}` : `b:${as.bearer}`;
  return `${id.context ?? ''}\u0000${who}`;
}
