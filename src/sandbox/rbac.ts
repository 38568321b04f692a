/**
 * RBAC as plugin/pkg/auth/authorizer/rbac does it: ClusterRoleBindings first, then the RoleBindings
 * of the request's namespace; a binding applies when a subject names the user or one of its groups;
 * the first rule of the bound role that allows the request wins. RBAC never denies, it only has no
 * opinion, so a request nobody allows is forbidden. Reasons use the authorizer's own wording
 * (`RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to Group "z"`, rbac/rule.go).
 */
import { isResourceRequest, type Attributes, type UserInfo } from './identity.js';

export interface PolicyRule {
  readonly verbs: readonly string[];
  readonly apiGroups?: readonly string[];
  /** `pods`, `pods/exec`, `*`, `*` slash `exec` (any resource's exec subresource). */
  readonly resources?: readonly string[];
  /** Empty or absent: any name. */
  readonly resourceNames?: readonly string[];
  /** `/healthz`, `/apis/*` (a trailing `*` is a prefix match). */
  readonly nonResourceURLs?: readonly string[];
}

export interface Role {
  readonly name: string;
  /** Absent: a ClusterRole. */
  readonly namespace?: string;
  readonly rules: readonly PolicyRule[];
}

export interface Subject {
  readonly kind: 'User' | 'Group';
  readonly name: string;
}

export interface RoleBinding {
  readonly name: string;
  /** Absent: a ClusterRoleBinding. */
  readonly namespace?: string;
  readonly roleRef: { readonly kind: 'Role' | 'ClusterRole'; readonly name: string };
  readonly subjects: readonly Subject[];
}

export interface RbacPolicy {
  readonly clusterRoles: readonly Role[];
  readonly roles: readonly Role[];
  readonly clusterRoleBindings: readonly RoleBinding[];
  readonly roleBindings: readonly RoleBinding[];
}

export interface Decision {
  readonly allowed: boolean;
  /** Why it was allowed; '' when RBAC had no opinion (as the real authorizer answers). */
  readonly reason: string;
}

const has = (set: readonly string[] | undefined, v: string): boolean => set !== undefined && (set.includes('*') || set.includes(v));

/** rbac/v1 helpers ResourceMatches: exact `resource/sub`, `*`, or `*` slash sub. */
function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource === '' ? resource : `${resource}/${subresource}`;
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource !== '' && r === `*/${subresource}`) return true;
  }
  return false;
}

function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

/** rbac.RuleAllows. */
export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!isResourceRequest(a)) return nonResourceUrlMatches(rule, a.path);
  if (!has(rule.apiGroups, a.apiGroup ?? '')) return false;
  if (!resourceMatches(rule, a.resource, a.subresource ?? '')) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(a.name ?? '');
}

function appliesTo(user: UserInfo, b: RoleBinding): Subject | undefined {
  return b.subjects.find((s) => (s.kind === 'User' ? s.name === user.username : user.groups.includes(s.name)));
}

const describe = (s: Subject): string => `${s.kind} ${JSON.stringify(s.name)}`;

/** The sandbox's authorizer: an immutable policy, answered per request. */
export class RbacAuthorizer {
  readonly #clusterRoles = new Map<string, Role>();
  readonly #roles = new Map<string, Role>();

  constructor(readonly policy: RbacPolicy) {
    for (const r of policy.clusterRoles) this.#clusterRoles.set(r.name, r);
    for (const r of policy.roles) this.#roles.set(`${r.namespace}/${r.name}`, r);
  }

  #rulesOf(b: RoleBinding): readonly PolicyRule[] {
    const role = b.roleRef.kind === 'ClusterRole' ? this.#clusterRoles.get(b.roleRef.name) : this.#roles.get(`${b.namespace}/${b.roleRef.name}`);
    return role?.rules ?? [];
  }

  authorize(user: UserInfo, a: Attributes): Decision {
    for (const b of this.policy.clusterRoleBindings) {
      const subject = appliesTo(user, b);
      if (subject && this.#rulesOf(b).some((r) => ruleAllows(a, r))) {
        const reason = `RBAC: allowed by ClusterRoleBinding ${JSON.stringify(b.name)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describe(subject)}`;
        return { allowed: true, reason };
      }
    }
    const ns = isResourceRequest(a) ? (a.namespace ?? '') : '';
    if (ns !== '') {
      for (const b of this.policy.roleBindings) {
        if (b.namespace !== ns) continue;
        const subject = appliesTo(user, b);
        if (subject && this.#rulesOf(b).some((r) => ruleAllows(a, r))) {
          const reason = `RBAC: allowed by RoleBinding ${JSON.stringify(`${b.name}/${ns}`)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describe(subject)}`;
          return { allowed: true, reason };
        }
      }
    }
    return { allowed: false, reason: '' };
  }
}

/**
 * The bootstrap policy every cluster starts with (plugin/pkg/auth/authorizer/rbac/bootstrappolicy),
 * the parts the sandbox serves: cluster-admin for system:masters, self reviews and discovery for
 * every authenticated user, health and version for everyone.
 */
export const BOOTSTRAP_POLICY: RbacPolicy = {
  clusterRoles: [
    { name: 'cluster-admin', rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }] },
    {
      name: 'system:basic-user',
      rules: [
        { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
        { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
      ],
    },
    {
      name: 'system:discovery',
      rules: [{ nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], verbs: ['get'] }],
    },
    { name: 'system:public-info-viewer', rules: [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }] },
  ],
  roles: [],
  clusterRoleBindings: [
    { name: 'cluster-admin', roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'Group', name: 'system:masters' }] },
    { name: 'system:basic-user', roleRef: { kind: 'ClusterRole', name: 'system:basic-user' }, subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
    { name: 'system:discovery', roleRef: { kind: 'ClusterRole', name: 'system:discovery' }, subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
    {
      name: 'system:public-info-viewer',
      roleRef: { kind: 'ClusterRole', name: 'system:public-info-viewer' },
      subjects: [
        { kind: 'Group', name: 'system:authenticated' },
        { kind: 'Group', name: 'system:unauthenticated' },
      ],
    },
  ],
  roleBindings: [],
};

/** Bootstrap first, then the inventory's own objects (names must not clash; the loader checks). */
export function mergePolicies(a: RbacPolicy, b: RbacPolicy): RbacPolicy {
  return {
    clusterRoles: [...a.clusterRoles, ...b.clusterRoles],
    roles: [...a.roles, ...b.roles],
    clusterRoleBindings: [...a.clusterRoleBindings, ...b.clusterRoleBindings],
    roleBindings: [...a.roleBindings, ...b.roleBindings],
  };
}
