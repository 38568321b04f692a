/**
 * The sandbox's declared world: namespaces, pods, containers and users. Loaded from JSON or YAML
 * (`--pods FILE`) or taken from DEFAULT_INVENTORY. Validated once here so the rest of the sandbox
 * can trust the shape.
 *
 * Schema (JSON or YAML):
 *   namespaces:                       # required, at least one
 *     - name: default
 *       pods:
 *         - name: shell
 *           phase: Running            # Pending | Running | Succeeded | Failed (default Running)
 *           annotations: { k: v }     # optional
 *           labels: { k: v }          # optional
 *           containers:               # required, at least one
 *             - name: main
 *               image: busybox        # optional, shown in the pod spec
 *               state: running        # running | waiting | terminated (default running)
 *               reason: CrashLoopBackOff   # optional, for waiting/terminated
 *               target: process       # process (real host process) | echo | flood (in-process)
 *                                     # | none (no executables: every exec fails as containerd's does)
 *               tty: true             # the main process gets a terminal (kubectl attach -t)
 *               stdin: true           # the main process reads stdin (kubectl attach -i)
 *               command: [sh]         # the main process (default sh when tty or stdin is set;
 *                                     # otherwise none); started at the first attach
 *               ticker: 1000          # an in-process main process logging `line N` every N ms
 *   users:                            # required: admin and restricted; any others allowed
 *     admin: { namespaces: ["*"] }    # old form: "*" = cluster-admin
 *     restricted: { namespaces: [load] }   # old form: pods and exec in these namespaces
 *     alice: { groups: [dev], namespace: default }
 *   clusterRoles, roles, clusterRoleBindings, roleBindings: RBAC (docs/sandbox-inventory.md)
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_RBAC, DEFAULT_USERS } from './default-identities.js';
import type { RbacPolicy } from './rbac.js';
import { parseRbac, parseUser, RbacInventoryError, type IdentityUserSpec } from './rbac-inventory.js';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';
export type ContainerState = 'running' | 'waiting' | 'terminated';
export type TargetKind = 'process' | 'echo' | 'flood' | 'none';

export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly state: ContainerState;
  readonly reason?: string;
  readonly target: TargetKind;
  readonly tty?: boolean;
  readonly stdin?: boolean;
  /** The main process (attach, logs); absent: sh when tty or stdin, else none. */
  readonly command?: readonly string[];
  /** Main process is an in-process line ticker with this period (ms). */
  readonly ticker?: number;
}

export interface PodSpec {
  readonly name: string;
  readonly phase: PodPhase;
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly containers: readonly ContainerSpec[];
}

export interface NamespaceSpec {
  readonly name: string;
  readonly pods: readonly PodSpec[];
}

/** A user: the old per-user `namespaces` list, and/or groups for RBAC (rbac-inventory.ts). */
export type UserSpec = IdentityUserSpec;

export interface Inventory {
  readonly namespaces: readonly NamespaceSpec[];
  readonly users: Readonly<Record<string, UserSpec>> & { readonly admin: UserSpec; readonly restricted: UserSpec };
  /** RBAC objects beside the bootstrap ones; absent: none (old inventories). */
  readonly rbac?: RbacPolicy;
}

export class InventoryError extends Error {
  override readonly name = 'InventoryError';
}

const c = (name: string, target: TargetKind = 'process', extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name,
  image: target === 'process' ? 'sandbox/host-shell' : `sandbox/${target}`,
  state: 'running',
  target,
  ...extra,
});

export const DEFAULT_INVENTORY: Inventory = {
  namespaces: [
    {
      name: 'default',
      pods: [
        { name: 'shell', phase: 'Running', annotations: {}, labels: { app: 'shell' }, containers: [c('main', 'process', { tty: true, stdin: true })] },
        {
          name: 'multi',
          phase: 'Running',
          annotations: { 'kubectl.kubernetes.io/default-container': 'app' },
          labels: { app: 'multi' },
          containers: [c('app'), c('sidecar')],
        },
        {
          name: 'stopped',
          phase: 'Running',
          annotations: {},
          labels: { app: 'stopped' },
          containers: [c('main', 'process', { state: 'waiting', reason: 'CrashLoopBackOff' })],
        },
        {
          name: 'done',
          phase: 'Succeeded',
          annotations: {},
          labels: { app: 'done' },
          containers: [c('main', 'process', { state: 'terminated', reason: 'Completed' })],
        },
        { name: 'logs', phase: 'Running', annotations: {}, labels: { app: 'logs' }, containers: [c('main', 'process', { ticker: 1000 })] },
        {
          name: 'distroless',
          phase: 'Running',
          annotations: {},
          labels: { app: 'distroless' },
          containers: [c('app', 'none', { image: 'gcr.io/distroless/static-debian12' })],
        },
      ],
    },
    {
      name: 'load',
      pods: [
        { name: 'echo', phase: 'Running', annotations: {}, labels: { app: 'echo' }, containers: [c('main', 'echo')] },
        { name: 'flood', phase: 'Running', annotations: {}, labels: { app: 'flood' }, containers: [c('main', 'flood')] },
      ],
    },
  ],
  users: DEFAULT_USERS,
  rbac: DEFAULT_RBAC,
};

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new InventoryError(`${where}: expected a non-empty string`);
  return v;
}

function dns(v: unknown, where: string): string {
  const s = str(v, where);
  if (!NAME.test(s) || s.length > 63) throw new InventoryError(`${where}: ${JSON.stringify(s)} is not a DNS-1123 label`);
  return s;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], dflt: T, where: string): T {
  if (v === undefined) return dflt;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw new InventoryError(`${where}: expected one of ${allowed.join(', ')}`);
}

function stringMap(v: unknown, where: string): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InventoryError(`${where}: expected a map`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) out[k] = str(val, `${where}.${k}`);
  return out;
}

function list(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v) || v.length === 0) throw new InventoryError(`${where}: expected a non-empty list`);
  return v;
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InventoryError(`${where}: expected an object`);
  return v as Record<string, unknown>;
}

function unique(names: string[], where: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new InventoryError(`${where}: duplicate name ${JSON.stringify(n)}`);
    seen.add(n);
  }
}

function container(v: unknown, where: string): ContainerSpec {
  const o = obj(v, where);
  const target = oneOf<TargetKind>(o.target, ['process', 'echo', 'flood', 'none'], 'process', `${where}.target`);
  const state = oneOf<ContainerState>(o.state, ['running', 'waiting', 'terminated'], 'running', `${where}.state`);
  const spec: ContainerSpec = {
    name: dns(o.name, `${where}.name`),
    image: o.image === undefined ? `sandbox/${target}` : str(o.image, `${where}.image`),
    state,
    target,
  };
  const extra: { -readonly [K in keyof ContainerSpec]?: ContainerSpec[K] } = {};
  if (o.reason !== undefined) extra.reason = str(o.reason, `${where}.reason`);
  for (const k of ['tty', 'stdin'] as const) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'boolean') throw new InventoryError(`${where}.${k}: expected true or false`);
    extra[k] = o[k];
  }
  if (o.command !== undefined) extra.command = list(o.command, `${where}.command`).map((x, i) => str(x, `${where}.command[${i}]`));
  if (o.ticker !== undefined) {
    if (typeof o.ticker !== 'number' || !Number.isInteger(o.ticker) || o.ticker < 10) throw new InventoryError(`${where}.ticker: expected an integer >= 10 (ms)`);
    extra.ticker = o.ticker;
  }
  return { ...spec, ...extra };
}

function pod(v: unknown, where: string): PodSpec {
  const o = obj(v, where);
  const containers = list(o.containers, `${where}.containers`).map((x, i) => container(x, `${where}.containers[${i}]`));
  unique(containers.map((x) => x.name), `${where}.containers`);
  return {
    name: dns(o.name, `${where}.name`),
    phase: oneOf<PodPhase>(o.phase, ['Pending', 'Running', 'Succeeded', 'Failed'], 'Running', `${where}.phase`),
    annotations: stringMap(o.annotations, `${where}.annotations`),
    labels: stringMap(o.labels, `${where}.labels`),
    containers,
  };
}

/** The identity parsers throw their own error type; callers of this module see InventoryError only. */
function asInventoryError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw err instanceof RbacInventoryError ? new InventoryError(err.message) : err;
  }
}

/** Validates an already-parsed document (JSON or YAML) into an Inventory. */
export function parseInventory(doc: unknown): Inventory {
  const o = obj(doc, 'inventory');
  const namespaces = list(o.namespaces, 'namespaces').map((n, i) => {
    const ns = obj(n, `namespaces[${i}]`);
    const pods = ns.pods === undefined ? [] : (Array.isArray(ns.pods) ? ns.pods : list(ns.pods, `namespaces[${i}].pods`));
    const parsed = { name: dns(ns.name, `namespaces[${i}].name`), pods: pods.map((p, j) => pod(p, `namespaces[${i}].pods[${j}]`)) };
    unique(parsed.pods.map((p) => p.name), `namespaces[${i}].pods`);
    return parsed;
  });
  unique(namespaces.map((n) => n.name), 'namespaces');
  const u = obj(o.users, 'users');
  const users: Record<string, UserSpec> = {};
  for (const [name, spec] of Object.entries(u)) users[name] = asInventoryError(() => parseUser(spec, `users.${name}`));
  if (!users.admin || !users.restricted) throw new InventoryError('users: both admin and restricted must be declared');
  return { namespaces, users: users as Inventory['users'], rbac: asInventoryError(() => parseRbac(o)) };
}

/** Reads FILE as JSON (if it parses as JSON) or YAML, then validates it. */
export async function loadInventory(file: string): Promise<Inventory> {
  const text = await readFile(file, 'utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new InventoryError(`${file}: neither JSON nor YAML: ${(err as Error).message}`);
    }
  }
  return parseInventory(doc);
}

export function findPod(inv: Inventory, ns: string, name: string): PodSpec | undefined {
  return inv.namespaces.find((n) => n.name === ns)?.pods.find((p) => p.name === name);
}

export function findNamespace(inv: Inventory, ns: string): NamespaceSpec | undefined {
  return inv.namespaces.find((n) => n.name === ns);
}
