/**
 * Who a request runs as, in the API server's terms (k8s.io/apiserver/pkg/authentication/user.Info),
 * and the request attributes an authorizer judges (authorizer.Attributes). Shared by authentication,
 * impersonation, RBAC, the access reviews and the audit log. Pure types and constants.
 */

/** user.Info: name, optional uid, groups and extra. */
export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** The groups the API server's authenticators add (k8s.io/apiserver/pkg/authentication/user). */
export const ALL_AUTHENTICATED = 'system:authenticated';
export const ALL_UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS = 'system:anonymous';

/**
 * authorizer.Attributes for one check. A resource request names `resource` (optionally
 * `subresource`); a non-resource request names `path`.
 */
export type Attributes = ResourceAttributes | NonResourceAttributes;

export interface ResourceAttributes {
  readonly verb: string;
  /** API group, "" for the core group. */
  readonly apiGroup?: string;
  readonly apiVersion?: string;
  readonly resource: string;
  readonly subresource?: string;
  /** Empty or undefined: cluster scope (or all namespaces for list/watch). */
  readonly namespace?: string;
  readonly name?: string;
}

export interface NonResourceAttributes {
  readonly verb: string;
  readonly path: string;
}

export function isResourceRequest(a: Attributes): a is ResourceAttributes {
  return 'resource' in a;
}

/**
 * Adds system:authenticated as every authenticator of the API server does (the group-adder wrapped
 * around the union authenticator in pkg/kubeapiserver/authenticator/config.go), without duplicates.
 */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.username === ANONYMOUS || user.groups.includes(ALL_AUTHENTICATED)) return user;
  return { ...user, groups: [...user.groups, ALL_AUTHENTICATED] };
}
