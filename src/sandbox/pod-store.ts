/**
 * The mutable part of the sandbox's pods: ephemeral containers (added by `kubectl debug`) and
 * their states, a resourceVersion per pod drawn from one cluster-wide counter (as etcd's revision
 * is), and change notifications for watches. The inventory stays the immutable base; podView()
 * overlays this state on objects.ts's Pod.
 */
import type { ContainerSpec, ContainerState, Inventory, PodSpec } from './inventory.js';
import { findPod } from './inventory.js';
import { podObject, type World } from './objects.js';

/** objects.ts stamps everything with resourceVersion "1"; changes count up from there. */
const BASE_RV = 1;

export interface EphemeralContainer {
  /** The container as the client sent it (kept for spec.ephemeralContainers, unknown fields too). */
  readonly spec: Readonly<Record<string, unknown>>;
  /** How the sandbox runs it: always a host process; tty/stdin/command from the spec. */
  readonly container: ContainerSpec;
  state: ContainerState;
  reason?: string;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
}

export interface PodChange {
  readonly namespace: string;
  readonly pod: string;
  readonly resourceVersion: number;
}

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export class PodStore {
  #rv = BASE_RV;
  readonly #podRv = new Map<string, number>();
  readonly #ephemeral = new Map<string, EphemeralContainer[]>();
  readonly #listeners = new Set<(change: PodChange) => void>();
  /** Recent changes, so a watch from an older resourceVersion can be replayed (bounded). */
  readonly #history: PodChange[] = [];

  constructor(
    readonly world: World,
    readonly inventory: Inventory,
  ) {}

  get resourceVersion(): number {
    return this.#rv;
  }

  find(ns: string, name: string): PodSpec | undefined {
    return findPod(this.inventory, ns, name);
  }

  ephemeral(ns: string, pod: string): readonly EphemeralContainer[] {
    return this.#ephemeral.get(`${ns}/${pod}`) ?? [];
  }

  /** The ephemeral containers as ContainerSpecs with their current state (for exec, attach, logs). */
  ephemeralSpecs(ns: string, pod: string): ContainerSpec[] {
    return this.ephemeral(ns, pod).map((e) => ({ ...e.container, state: e.state, ...(e.reason ? { reason: e.reason } : {}) }));
  }

  addEphemeral(ns: string, pod: string, e: EphemeralContainer): void {
    const key = `${ns}/${pod}`;
    this.#ephemeral.set(key, [...(this.#ephemeral.get(key) ?? []), e]);
    this.touch(ns, pod);
  }

  /** Bumps the pod's resourceVersion and tells the watches. */
  touch(ns: string, pod: string): void {
    const change = { namespace: ns, pod, resourceVersion: ++this.#rv };
    this.#podRv.set(`${ns}/${pod}`, change.resourceVersion);
    this.#history.push(change);
    if (this.#history.length > 1000) this.#history.shift();
    for (const l of [...this.#listeners]) l(change);
  }

  /** Changes after `rv`, oldest first; null when the history no longer reaches back that far. */
  changesSince(rv: number): PodChange[] | null {
    const first = this.#history[0];
    if (first !== undefined && first.resourceVersion > rv + 1 && rv >= BASE_RV) return null;
    return this.#history.filter((c) => c.resourceVersion > rv);
  }

  subscribe(listener: (change: PodChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The v1 Pod with this store's state overlaid. */
  podView(ns: string, pod: PodSpec, typed = true): Record<string, unknown> {
    const obj = podObject(this.world, ns, pod, typed) as {
      metadata: Record<string, unknown>;
      spec: Record<string, unknown>;
      status: Record<string, unknown>;
    };
    const rv = this.#podRv.get(`${ns}/${pod.name}`);
    if (rv !== undefined) obj.metadata.resourceVersion = String(rv);
    const eph = this.ephemeral(ns, pod.name);
    if (eph.length > 0) {
      // Field order as Go encodes PodSpec/PodStatus does not matter to clients; keep it readable.
      obj.spec.ephemeralContainers = eph.map((e) => e.spec);
      obj.status.ephemeralContainerStatuses = eph.map((e) => this.#status(ns, pod.name, e));
    }
    return obj;
  }

  #status(ns: string, pod: string, e: EphemeralContainer): Record<string, unknown> {
    const name = e.container.name;
    const image = e.container.image;
    const containerID = `sandbox://${this.world.uid(`${ns}/${pod}/${name}`)}`;
    const base = { name, image, imageID: e.state === 'waiting' ? '' : `${image}@sha256:${'0'.repeat(64)}` };
    switch (e.state) {
      case 'waiting':
        return { ...base, state: { waiting: { reason: e.reason ?? 'ContainerCreating' } }, lastState: {}, ready: false, restartCount: 0 };
      case 'running':
        return { ...base, state: { running: { startedAt: e.startedAt } }, lastState: {}, ready: false, restartCount: 0, containerID, started: true };
      case 'terminated':
        return {
          ...base,
          state: { terminated: { exitCode: e.exitCode ?? 0, reason: e.reason ?? 'Completed', startedAt: e.startedAt, finishedAt: e.finishedAt, containerID } },
          lastState: {},
          ready: false,
          restartCount: 0,
          containerID,
          started: false,
        };
    }
  }

  setEphemeralState(ns: string, pod: string, name: string, state: ContainerState, exitCode?: number): void {
    const e = this.ephemeral(ns, pod).find((x) => x.container.name === name);
    if (!e || e.state === state) return;
    e.state = state;
    const now = rfc3339(new Date());
    if (state === 'running') {
      e.startedAt = now;
      delete e.reason;
    }
    if (state === 'terminated') {
      e.finishedAt = now;
      e.exitCode = exitCode ?? 0;
      e.reason = e.exitCode === 0 ? 'Completed' : 'Error';
    }
    this.touch(ns, pod);
  }

  close(): void {
    this.#listeners.clear();
  }
}
