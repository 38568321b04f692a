/**
 * The Kubernetes objects the sandbox serves, shaped as a real API server encodes them (v1 Pod,
 * Namespace, their lists, meta.k8s.io/v1 Table for kubectl's server-side printing, discovery).
 * Pure functions of the inventory and a World (uids and start time fixed at start-up).
 */
import { randomUUID } from 'node:crypto';
import { API_GROUPS } from './discovery.js';
import type { ContainerSpec, Inventory, NamespaceSpec, PodSpec } from './inventory.js';

export const NODE_NAME = 'sandbox-node';
const RESOURCE_VERSION = '1';

/** Per-start facts every object shares. */
export class World {
  readonly startedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  readonly #uids = new Map<string, string>();

  constructor(readonly inventory: Inventory) {}

  uid(key: string): string {
    let u = this.#uids.get(key);
    if (u === undefined) {
      u = randomUUID();
      this.#uids.set(key, u);
    }
    return u;
  }

  get timestamp(): string {
    return this.startedAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}

function containerStatus(w: World, ns: string, pod: PodSpec, c: ContainerSpec): Record<string, unknown> {
  const containerID = `sandbox://${w.uid(`${ns}/${pod.name}/${c.name}`)}`;
  const base = { name: c.name, image: c.image, imageID: `${c.image}@sha256:${'0'.repeat(64)}` };
  switch (c.state) {
    case 'running':
      return { ...base, state: { running: { startedAt: w.timestamp } }, lastState: {}, ready: true, restartCount: 0, containerID, started: true };
    case 'waiting':
      return {
        ...base,
        state: {
          waiting: {
            reason: c.reason ?? 'ContainerCreating',
            message: `back-off 5m0s restarting failed container=${c.name} pod=${pod.name}_${ns}(${w.uid(`${ns}/${pod.name}`)})`,
          },
        },
        lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: w.timestamp, finishedAt: w.timestamp, containerID } },
        ready: false,
        restartCount: 5,
        containerID,
        started: false,
      };
    case 'terminated':
      return {
        ...base,
        state: { terminated: { exitCode: 0, reason: c.reason ?? 'Completed', startedAt: w.timestamp, finishedAt: w.timestamp, containerID } },
        lastState: {},
        ready: false,
        restartCount: 0,
        containerID,
        started: false,
      };
  }
}

function podMetadata(w: World, ns: string, pod: PodSpec): Record<string, unknown> {
  const meta: Record<string, unknown> = {
    name: pod.name,
    namespace: ns,
    uid: w.uid(`${ns}/${pod.name}`),
    resourceVersion: RESOURCE_VERSION,
    creationTimestamp: w.timestamp,
  };
  if (Object.keys(pod.labels).length > 0) meta.labels = pod.labels;
  if (Object.keys(pod.annotations).length > 0) meta.annotations = pod.annotations;
  return meta;
}

export function podReady(pod: PodSpec): boolean {
  return pod.phase === 'Running' && pod.containers.every((c) => c.state === 'running');
}

/** A v1 Pod. `typed` adds kind/apiVersion (single GET); list items go without, as the API server sends them. */
export function podObject(w: World, ns: string, pod: PodSpec, typed = true): Record<string, unknown> {
  const ready = podReady(pod) ? 'True' : 'False';
  const body = {
    metadata: podMetadata(w, ns, pod),
    spec: {
      containers: pod.containers.map((c) => ({
        name: c.name,
        image: c.image,
        ...(c.command ? { command: c.command } : {}),
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
        ...(c.stdin ? { stdin: true } : {}),
        ...(c.tty ? { tty: true } : {}),
      })),
      restartPolicy: pod.phase === 'Succeeded' ? 'Never' : 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      nodeName: NODE_NAME,
      schedulerName: 'default-scheduler',
    },
    status: {
      phase: pod.phase,
      conditions: [
        { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: w.timestamp },
        { type: 'Ready', status: ready, lastProbeTime: null, lastTransitionTime: w.timestamp },
        { type: 'ContainersReady', status: ready, lastProbeTime: null, lastTransitionTime: w.timestamp },
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: w.timestamp },
      ],
      hostIP: '127.0.0.1',
      podIP: '127.0.0.1',
      podIPs: [{ ip: '127.0.0.1' }],
      startTime: w.timestamp,
      containerStatuses: pod.containers.map((c) => containerStatus(w, ns, pod, c)),
      qosClass: 'BestEffort',
    },
  };
  return typed ? { kind: 'Pod', apiVersion: 'v1', ...body } : body;
}

export function namespaceObject(w: World, ns: NamespaceSpec, typed = true): Record<string, unknown> {
  const body = {
    metadata: {
      name: ns.name,
      uid: w.uid(`ns/${ns.name}`),
      resourceVersion: RESOURCE_VERSION,
      creationTimestamp: w.timestamp,
      labels: { 'kubernetes.io/metadata.name': ns.name },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
  return typed ? { kind: 'Namespace', apiVersion: 'v1', ...body } : body;
}

export function list(kind: string, items: unknown[]): Record<string, unknown> {
  return { kind, apiVersion: 'v1', metadata: { resourceVersion: RESOURCE_VERSION }, items };
}

/** apimachinery's duration.HumanDuration, as the Age column shows it. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const col = (name: string, type: string, priority = 0, format = ''): Record<string, unknown> => ({ name, type, format, description: name, priority });

function partial(metadata: unknown): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata };
}

export function podTable(w: World, pods: readonly { ns: string; pod: PodSpec }[]): Record<string, unknown> {
  const age = humanDuration(Date.now() - w.startedAt.getTime());
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: RESOURCE_VERSION },
    columnDefinitions: [
      col('Name', 'string', 0, 'name'),
      col('Ready', 'string'),
      col('Status', 'string'),
      col('Restarts', 'string'),
      col('Age', 'string'),
      col('IP', 'string', 1),
      col('Node', 'string', 1),
    ],
    rows: pods.map(({ ns, pod }) => {
      const running = pod.containers.filter((c) => c.state === 'running').length;
      const waiting = pod.containers.find((c) => c.state === 'waiting');
      const status = pod.phase === 'Succeeded' ? 'Completed' : (waiting?.reason ?? pod.phase);
      const restarts = pod.containers.reduce((n, c) => n + (c.state === 'waiting' ? 5 : 0), 0);
      return {
        cells: [pod.name, `${running}/${pod.containers.length}`, status, String(restarts), age, '127.0.0.1', NODE_NAME],
        object: partial(podMetadata(w, ns, pod)),
      };
    }),
  };
}

export function namespaceTable(w: World, namespaces: readonly NamespaceSpec[]): Record<string, unknown> {
  const age = humanDuration(Date.now() - w.startedAt.getTime());
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: RESOURCE_VERSION },
    columnDefinitions: [col('Name', 'string', 0, 'name'), col('Status', 'string'), col('Age', 'string')],
    rows: namespaces.map((ns) => ({ cells: [ns.name, 'Active', age], object: partial((namespaceObject(w, ns) as { metadata: unknown }).metadata) })),
  };
}

export function discovery(path: string, hostPort: string): Record<string, unknown> | undefined {
  switch (path) {
    case '/version':
      return {
        major: '1',
        minor: '32',
        gitVersion: 'v1.32.0-podterm-sandbox',
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2026-01-01T00:00:00Z',
        goVersion: 'go1.23.0',
        compiler: 'gc',
        platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
      };
    case '/api':
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: hostPort }] };
    case '/apis':
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: API_GROUPS };
    case '/api/v1':
      return {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [
          { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['get', 'list'], shortNames: ['ns'] },
          { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list', 'watch'], shortNames: ['po'], categories: ['all'] },
          { name: 'pods/attach', singularName: '', namespaced: true, kind: 'PodAttachOptions', verbs: ['create', 'get'] },
          { name: 'pods/ephemeralcontainers', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] },
          { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
          { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
        ],
      };
    default:
      return undefined;
  }
}
