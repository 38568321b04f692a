/**
 * `GET pods/{pod}/log` (PodLogOptions: container, follow, tailLines, previous, timestamps) as a
 * pausable byte stream: the caller pauses it while its own client is not writable, so a follow
 * never buffers more than a socket read (TCP backpressure reaches the API server and the kubelet).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { IncomingMessage } from 'node:http';
import { PodtermError } from '../protocol/errors.js';
import { kubeRequest } from './kube-http.js';
import type { HeaderLines } from './request-headers.js';

export interface PodLogOptions {
  container: string | null;
  follow: boolean;
  tailLines: number | null;
  previous: boolean;
  timestamps: boolean;
}

/** The kubelet's refusals for a container state, in our words (log-specific, so mapped here). */
function logRefusal(code: number, message: string): PodtermError | undefined {
  if (code !== 400) return undefined;
  if (/previous terminated container .* not found/i.test(message)) return new PodtermError('NotFound', 'This container has no previous instance (it has not restarted).');
  if (/is waiting to start/i.test(message)) return new PodtermError('ContainerNotRunning', 'The container is waiting to start; it has no log yet.');
  if (/container .* is not valid for pod/i.test(message)) return new PodtermError('NotFound', 'The container does not exist in this pod.');
  if (/a container name must be specified/i.test(message)) return new PodtermError('BadRequest', 'This pod has several containers; choose one.');
  return undefined;
}

/** Opens the log; rejects with a PodtermError before any byte when the API server refuses. */
export function openPodLog(kc: KubeConfig, headers: HeaderLines, namespace: string, pod: string, o: PodLogOptions, signal: AbortSignal, timeoutMs: number): Promise<IncomingMessage> {
  const q = new URLSearchParams();
  if (o.container !== null) q.set('container', o.container);
  if (o.follow) q.set('follow', 'true');
  if (o.tailLines !== null) q.set('tailLines', String(o.tailLines));
  if (o.previous) q.set('previous', 'true');
  if (o.timestamps) q.set('timestamps', 'true');
  return kubeRequest(kc, {
    method: 'GET',
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`,
    query: q,
    accept: '*/*',
    headers,
    signal,
    timeoutMs,
    mapStatus: (code, status) => logRefusal(code, status?.message ?? ''),
  });
}
