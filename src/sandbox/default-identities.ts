/**
 * The built-in inventory's people and their RBAC: admin (system:masters, so cluster-admin, which
 * includes impersonation), restricted (old form: pods and exec in `load` only), alice (group dev:
 * read pods and exec/attach in `default`), bob (group ops: read-only everywhere, no exec) and
 * podterm-gateway (the least privilege a podterm gateway that impersonates its users needs).
 */
import type { IdentityUserSpec } from './rbac-inventory.js';
import type { PolicyRule, RbacPolicy } from './rbac.js';

export const DEFAULT_USERS = {
  admin: { namespaces: [], groups: ['system:masters'] },
  restricted: { namespaces: ['load'] },
  alice: { namespaces: [], groups: ['dev'], namespace: 'default' },
  bob: { namespaces: [], groups: ['ops'], namespace: 'default' },
  'podterm-gateway': { namespaces: [], namespace: 'default' },
} satisfies Record<string, IdentityUserSpec>;

/**
 * What the gateway needs: impersonate people; ask SelfSubjectAccessReviews as them; read pods and
 * namespaces for the picker; open exec/attach; read logs; add ephemeral debug containers.
 * exec and attach carry `get` as well as `create`: kubectl and client-node open them with a
 * WebSocket GET, which RBAC sees as `get` (and servers with AuthorizePodWebsocketUpgradeCreatePermission,
 * beta in 1.35, also check `create`), so `create` alone would let the review say yes and exec fail.
 */
export const GATEWAY_RULES: readonly PolicyRule[] = [
  { apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'], verbs: ['create'] },
  { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list'] },
  { apiGroups: [''], resources: ['pods/exec', 'pods/attach'], verbs: ['create', 'get'] },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  { apiGroups: [''], resources: ['pods/ephemeralcontainers'], verbs: ['get', 'patch'] },
];

export const DEFAULT_RBAC: RbacPolicy = {
  clusterRoles: [
    { name: 'ops-read', rules: [{ apiGroups: [''], resources: ['pods', 'pods/log', 'namespaces'], verbs: ['get', 'list', 'watch'] }] },
    { name: 'podterm-gateway', rules: GATEWAY_RULES },
  ],
  roles: [
    {
      name: 'dev',
      namespace: 'default',
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['pods/exec', 'pods/attach'], verbs: ['create', 'get'] },
        { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      ],
    },
  ],
  clusterRoleBindings: [
    { name: 'ops-read', roleRef: { kind: 'ClusterRole', name: 'ops-read' }, subjects: [{ kind: 'Group', name: 'ops' }] },
    { name: 'podterm-gateway', roleRef: { kind: 'ClusterRole', name: 'podterm-gateway' }, subjects: [{ kind: 'User', name: 'podterm-gateway' }] },
  ],
  roleBindings: [{ name: 'dev', namespace: 'default', roleRef: { kind: 'Role', name: 'dev' }, subjects: [{ kind: 'Group', name: 'dev' }] }],
};
