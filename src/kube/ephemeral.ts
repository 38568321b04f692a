/**
 * Debug containers: adds an ephemeral container to a pod the way `kubectl debug -it --target=T
 * --image=I` does (a strategic merge patch of spec.ephemeralContainers on the
 * `pods/{pod}/ephemeralcontainers` subresource, kubectl/pkg/cmd/debug/debug.go), then waits until
 * the pod's status shows it running. The caller attaches to it (`pods/attach`, stdin + tty).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { PodtermError } from '../protocol/errors.js';
import { kubeRequest, readJson } from './kube-http.js';
import type { HeaderLines } from './request-headers.js';

export interface DebugRequest {
  namespace: string;
  pod: string;
  /** The container whose process namespace the debug container shares (targetContainerName). */
  target: string | null;
  image: string;
}

interface ContainerState {
  running?: unknown;
  waiting?: { reason?: string; message?: string };
  terminated?: { reason?: string; exitCode?: number };
}
interface PodJson {
  spec?: { containers?: Array<{ name?: string }>; ephemeralContainers?: Array<{ name?: string }> };
  status?: { phase?: string; ephemeralContainerStatuses?: Array<{ name?: string; state?: ContainerState }> };
}

/** How often the pod is read while the debug container starts. */
const POLL_MS = 250;
const DNS_ALNUM = 'bcdfghjklmnpqrstvwxz2456789';

/** kubectl's names: `debugger-` and five characters from its safe alphabet (util/rand.String). */
export function debugContainerName(): string {
  const bytes = randomBytes(5);
  return `debugger-${[...bytes].map((b) => DNS_ALNUM[b % DNS_ALNUM.length]).join('')}`;
}

function podPath(ns: string, pod: string, sub = ''): string {
  return `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod)}${sub}`;
}

export async function readPodJson(kc: KubeConfig, headers: HeaderLines, ns: string, pod: string, signal: AbortSignal, timeoutMs: number): Promise<PodJson> {
  const res = await kubeRequest(kc, { method: 'GET', path: podPath(ns, pod), headers, signal, timeoutMs });
  return (await readJson(res)) as PodJson;
}

/**
 * Adds the container and resolves with its name once it runs. Rejects with ContainerNotRunning
 * naming the pod's reason (ImagePullBackOff, ...) when it does not run within `startTimeoutMs`.
 */
export async function startDebugContainer(kc: KubeConfig, r: DebugRequest, o: { headers: HeaderLines; signal: AbortSignal; timeoutMs: number; startTimeoutMs: number }): Promise<string> {
  const pod = await readPodJson(kc, o.headers, r.namespace, r.pod, o.signal, o.timeoutMs);
  if (pod.status?.phase !== 'Running') throw new PodtermError('ContainerNotRunning', `The pod is ${pod.status?.phase ?? 'not running'}; a debug container needs a running pod.`);
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  if (r.target !== null && !names.includes(r.target)) throw new PodtermError('NotFound', 'The target container does not exist in this pod.');
  const taken = new Set([...names, ...(pod.spec?.ephemeralContainers ?? []).map((c) => c.name)]);
  let name = debugContainerName();
  while (taken.has(name)) name = debugContainerName();
  const container = {
    name,
    image: r.image,
    imagePullPolicy: 'IfNotPresent',
    stdin: true,
    tty: true,
    terminationMessagePolicy: 'File',
    ...(r.target !== null ? { targetContainerName: r.target } : {}),
  };
  const patched = await kubeRequest(kc, {
    method: 'PATCH',
    path: podPath(r.namespace, r.pod, '/ephemeralcontainers'),
    contentType: 'application/strategic-merge-patch+json',
    headers: o.headers,
    body: JSON.stringify({ spec: { ephemeralContainers: [container] } }),
    signal: o.signal,
    timeoutMs: o.timeoutMs,
    mapStatus: (code, status) =>
      code === 404 && /ephemeralcontainers/i.test(status?.message ?? '')
        ? new PodtermError('BadRequest', 'This cluster does not support ephemeral containers.')
        : code === 422
          ? new PodtermError('BadRequest', 'Kubernetes refused the debug container (invalid image or settings).')
          : undefined,
  });
  patched.resume(); // the updated pod; its status comes from the polls below
  await waitRunning(kc, r.namespace, r.pod, name, o);
  return name;
}

async function waitRunning(kc: KubeConfig, ns: string, pod: string, name: string, o: { headers: HeaderLines; signal: AbortSignal; timeoutMs: number; startTimeoutMs: number }): Promise<void> {
  const deadline = Date.now() + o.startTimeoutMs;
  let reason = 'no status yet';
  for (;;) {
    const p = await readPodJson(kc, o.headers, ns, pod, o.signal, o.timeoutMs);
    const st = p.status?.ephemeralContainerStatuses?.find((s) => s.name === name)?.state;
    if (st?.running) return;
    if (st?.terminated) throw new PodtermError('ContainerNotRunning', `The debug container ended at once (${st.terminated.reason ?? 'terminated'}).`);
    if (st?.waiting?.reason) reason = st.waiting.reason;
    if (Date.now() >= deadline) throw new PodtermError('ContainerNotRunning', `The debug container did not start within ${Math.round(o.startTimeoutMs / 1000)} s (${reason}).`);
    await delay(POLL_MS, undefined, { signal: o.signal }).catch(() => {
      throw new PodtermError('UpstreamUnavailable', 'The request was cancelled.');
    });
  }
}
