/**
 * The identity half of the `--pods` inventory: users (with groups) and RBAC objects shaped like
 * rbac.authorization.k8s.io/v1 (see docs/sandbox-inventory.md). Also turns the old form
 * `users: { restricted: { namespaces: [load] } }` into the equivalent bindings, so inventories
 * written before RBAC keep their meaning.
 */
import { BOOTSTRAP_POLICY, mergePolicies, type PolicyRule, type RbacPolicy, type Role, type RoleBinding, type Subject } from './rbac.js';

export class RbacInventoryError extends Error {
  override readonly name = 'InventoryError';
}

export interface IdentityUserSpec {
  /** Old form: namespaces this user may read pods in and exec into; '*' = everything. */
  readonly namespaces: readonly string[];
  readonly groups?: readonly string[];
  /** The kubeconfig context's default namespace. */
  readonly namespace?: string;
}

/** What the old `namespaces` list granted per namespace (pods, their exec, the namespace object). */
export const LEGACY_NAMESPACE_ROLE = 'sandbox:namespace-user';
const LEGACY_RULES: readonly PolicyRule[] = [
  { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['pods/exec', 'pods/attach'], verbs: ['get', 'create'] },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
];
/** Bootstrap plus the legacy role: what every inventory may refer to without declaring it. */
const BASE_POLICY = mergePolicies(BOOTSTRAP_POLICY, { clusterRoles: [{ name: LEGACY_NAMESPACE_ROLE, rules: LEGACY_RULES }], roles: [], clusterRoleBindings: [], roleBindings: [] });

function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RbacInventoryError(`${where}: expected an object`);
  return v as Record<string, unknown>;
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new RbacInventoryError(`${where}: expected a non-empty string`);
  return v;
}

function strings(v: unknown, where: string, required: boolean): string[] | undefined {
  if (v === undefined && !required) return undefined;
  if (!Array.isArray(v) || (required && v.length === 0)) throw new RbacInventoryError(`${where}: expected a ${required ? 'non-empty ' : ''}list of strings`);
  return v.map((x, i) => (typeof x === 'string' ? x : str(x, `${where}[${i}]`)));
}

function list(v: unknown, where: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new RbacInventoryError(`${where}: expected a list`);
  return v;
}

/** One `users.NAME` entry: old `namespaces`, and/or `groups` and a context `namespace`. */
export function parseUser(v: unknown, where: string): IdentityUserSpec {
  const o = obj(v, where);
  const namespaces = o.namespaces === undefined ? [] : (strings(o.namespaces, `${where}.namespaces`, true) as string[]);
  const groups = strings(o.groups, `${where}.groups`, false);
  if (namespaces.length === 0 && groups === undefined && o.namespace === undefined && Object.keys(o).length > 0) {
    throw new RbacInventoryError(`${where}: expected namespaces, groups or namespace`);
  }
  const spec: { namespaces: string[]; groups?: string[]; namespace?: string } = { namespaces };
  if (groups) spec.groups = groups;
  if (o.namespace !== undefined) spec.namespace = str(o.namespace, `${where}.namespace`);
  return spec;
}

function rule(v: unknown, where: string): PolicyRule {
  const o = obj(v, where);
  const r: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; nonResourceURLs?: string[] } = {
    verbs: strings(o.verbs, `${where}.verbs`, true) as string[],
  };
  const nonResourceURLs = strings(o.nonResourceURLs, `${where}.nonResourceURLs`, false);
  const resources = strings(o.resources, `${where}.resources`, false);
  if (!resources && !nonResourceURLs) throw new RbacInventoryError(`${where}: expected resources or nonResourceURLs`);
  if (resources) {
    r.resources = resources;
    // Unlike the API server, a missing apiGroups means the core group: that is what a hand-written sandbox file means.
    r.apiGroups = strings(o.apiGroups, `${where}.apiGroups`, false) ?? [''];
    const names = strings(o.resourceNames, `${where}.resourceNames`, false);
    if (names) r.resourceNames = names;
  }
  if (nonResourceURLs) r.nonResourceURLs = nonResourceURLs;
  return r;
}

function role(v: unknown, where: string, namespaced: boolean): Role {
  const o = obj(v, where);
  const name = str(o.name, `${where}.name`);
  const rules = list(o.rules, `${where}.rules`).map((x, i) => rule(x, `${where}.rules[${i}]`));
  return namespaced ? { name, namespace: str(o.namespace, `${where}.namespace`), rules } : { name, rules };
}

function subject(v: unknown, where: string): Subject {
  const o = obj(v, where);
  if (o.kind !== 'User' && o.kind !== 'Group') throw new RbacInventoryError(`${where}.kind: expected User or Group`);
  return { kind: o.kind, name: str(o.name, `${where}.name`) };
}

function binding(v: unknown, where: string, namespaced: boolean): RoleBinding {
  const o = obj(v, where);
  const ref = obj(o.roleRef, `${where}.roleRef`);
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind as string)) throw new RbacInventoryError(`${where}.roleRef.kind: expected ${kinds.join(' or ')}`);
  const roleRef = { kind: ref.kind as 'Role' | 'ClusterRole', name: str(ref.name, `${where}.roleRef.name`) };
  const subjects = list(o.subjects, `${where}.subjects`).map((x, i) => subject(x, `${where}.subjects[${i}]`));
  const name = str(o.name, `${where}.name`);
  return namespaced ? { name, namespace: str(o.namespace, `${where}.namespace`), roleRef, subjects } : { name, roleRef, subjects };
}

/** The inventory's `clusterRoles`, `roles`, `clusterRoleBindings`, `roleBindings` (all optional). */
export function parseRbac(doc: Record<string, unknown>): RbacPolicy {
  const policy: RbacPolicy = {
    clusterRoles: list(doc.clusterRoles, 'clusterRoles').map((x, i) => role(x, `clusterRoles[${i}]`, false)),
    roles: list(doc.roles, 'roles').map((x, i) => role(x, `roles[${i}]`, true)),
    clusterRoleBindings: list(doc.clusterRoleBindings, 'clusterRoleBindings').map((x, i) => binding(x, `clusterRoleBindings[${i}]`, false)),
    roleBindings: list(doc.roleBindings, 'roleBindings').map((x, i) => binding(x, `roleBindings[${i}]`, true)),
  };
  checkPolicy(policy);
  return policy;
}

/** Names unique per kind (and namespace), bootstrap names not redefined, every roleRef resolvable. */
function checkPolicy(p: RbacPolicy): void {
  const all = mergePolicies(BASE_POLICY, p);
  const dup = (keys: string[], what: string): void => {
    const seen = new Set<string>();
    for (const k of keys) {
      if (seen.has(k)) throw new RbacInventoryError(`${what}: duplicate name ${JSON.stringify(k)}`);
      seen.add(k);
    }
  };
  dup(all.clusterRoles.map((r) => r.name), 'clusterRoles');
  dup(all.roles.map((r) => `${r.namespace}/${r.name}`), 'roles');
  dup(all.clusterRoleBindings.map((r) => r.name), 'clusterRoleBindings');
  dup(all.roleBindings.map((r) => `${r.namespace}/${r.name}`), 'roleBindings');
  const clusterRoles = new Set(all.clusterRoles.map((r) => r.name));
  const roles = new Set(all.roles.map((r) => `${r.namespace}/${r.name}`));
  for (const b of [...all.clusterRoleBindings, ...all.roleBindings]) {
    const found = b.roleRef.kind === 'ClusterRole' ? clusterRoles.has(b.roleRef.name) : roles.has(`${b.namespace}/${b.roleRef.name}`);
    const where = b.namespace === undefined ? `clusterRoleBindings ${b.name}` : `roleBindings ${b.namespace}/${b.name}`;
    if (!found) throw new RbacInventoryError(`${where}: roleRef ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} is not declared`);
  }
}

/**
 * The policy the sandbox enforces: bootstrap roles, the inventory's own RBAC objects, and for each
 * user of the old form a ClusterRoleBinding to cluster-admin ('*') or one RoleBinding per listed
 * namespace to LEGACY_NAMESPACE_ROLE.
 */
export function effectivePolicy(users: Readonly<Record<string, IdentityUserSpec>>, own: RbacPolicy | undefined): RbacPolicy {
  const legacy: { clusterRoleBindings: RoleBinding[]; roleBindings: RoleBinding[] } = { clusterRoleBindings: [], roleBindings: [] };
  for (const [name, spec] of Object.entries(users)) {
    const subjects: Subject[] = [{ kind: 'User', name }];
    for (const ns of spec.namespaces) {
      if (ns === '*') legacy.clusterRoleBindings.push({ name: `sandbox:user:${name}`, roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects });
      else legacy.roleBindings.push({ name: `sandbox:user:${name}`, namespace: ns, roleRef: { kind: 'ClusterRole', name: LEGACY_NAMESPACE_ROLE }, subjects });
    }
  }
  const base = mergePolicies(BASE_POLICY, { clusterRoles: [], roles: [], ...legacy });
  return own ? mergePolicies(base, own) : base;
}
