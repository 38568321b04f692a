/**
 * The page's view of the gateway's HTTP API (PROTOCOL.md, "HTTP"). Same-origin fetches that carry
 * the session cookie; every failure becomes an ApiError whose message is the server's user-safe
 * `message` (or plain words when there is no body), never a stack or a raw network error.
 */
import type { ContainerInfo, ListBody, NamespaceInfo, PodInfo, PodListBody, SessionListItem, WhoamiBody } from '../protocol/index.js';
export type { ContainerInfo, NamespaceInfo, PodInfo, SessionListItem, WhoamiBody };

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' }, signal });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(0, 'Network', 'The podterm server cannot be reached.');
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const rec = (body ?? {}) as { code?: unknown; message?: unknown };
    const code = typeof rec.code === 'string' ? rec.code : 'Http' + res.status;
    const message = typeof rec.message === 'string' ? rec.message : `The server answered ${res.status}.`;
    throw new ApiError(res.status, code, message);
  }
  return body as T;
}

export async function listNamespaces(signal?: AbortSignal): Promise<NamespaceInfo[]> {
  const body = await getJson<ListBody<NamespaceInfo>>('/api/v1/namespaces', signal);
  return body.items;
}

export async function listPods(namespace: string, signal?: AbortSignal): Promise<PodInfo[]> {
  const body = await getJson<PodListBody>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, signal);
  return body.items;
}

/** Who the page is signed in as (GET /api/v1/whoami). */
export function whoami(signal?: AbortSignal): Promise<WhoamiBody> {
  return getJson<WhoamiBody>('/api/v1/whoami', signal);
}

/** The signed-in person's live sessions (GET /api/v1/sessions): attached ones and detached ones. */
export function listSessions(signal?: AbortSignal): Promise<SessionListItem[]> {
  return getJson<SessionListItem[]>('/api/v1/sessions', signal);
}

/** Ends one of the person's sessions (DELETE /api/v1/sessions/{id}); a 404 means it had already ended. */
export async function endSession(id: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`/api/v1/sessions/${encodeURIComponent(id)}`, { method: 'DELETE', credentials: 'same-origin', headers: { accept: 'application/json' } });
  } catch {
    throw new ApiError(0, 'Network', 'The podterm server cannot be reached.');
  }
  if (res.ok || res.status === 404) return;
  const body = (await res.json().catch(() => null)) as { code?: unknown; message?: unknown } | null;
  throw new ApiError(res.status, typeof body?.code === 'string' ? body.code : 'Http' + res.status,
    typeof body?.message === 'string' ? body.message : `The server answered ${res.status}.`);
}

/**
 * Signs out (POST /auth/logout) and returns where to go next: the provider's end-session page, or
 * `/`. The page's CSP forbids form submissions (form-action 'none'), hence a fetch.
 */
export async function signOut(): Promise<string> {
  let res: Response;
  try {
    res = await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin', headers: { accept: 'application/json' } });
  } catch {
    throw new ApiError(0, 'Network', 'The podterm server cannot be reached.');
  }
  const body = (await res.json().catch(() => null)) as { location?: unknown; message?: unknown } | null;
  if (!res.ok) throw new ApiError(res.status, 'Http' + res.status, typeof body?.message === 'string' ? body.message : `The server answered ${res.status}.`);
  return typeof body?.location === 'string' ? body.location : '/';
}

/**
 * Why a terminal cannot be opened in this pod/container, in words a user reads, or null when it
 * can. The picker shows it next to the item; a deep link shows it in the status line instead of
 * opening a socket that the gateway would refuse before the upgrade (a browser WebSocket cannot
 * read that refusal's body, so the page would otherwise fail silently).
 */
export function whyNotExec(pod: PodInfo, containerName: string | null): string | null {
  // The gateway asked the cluster (a SelfSubjectAccessReview as this person).
  if (pod.execAllowed === false) return `you may not open a terminal in namespace ${pod.namespace}`;
  if (pod.phase === 'Succeeded' || pod.phase === 'Failed') return `pod ${pod.name} has phase ${pod.phase}`;
  if (containerName === null) return null;
  const c = pod.containers.find((x) => x.name === containerName);
  if (!c) return `pod ${pod.name} has no container ${containerName}`;
  if (c.running) return null;
  if (c.reason) return `${c.name} is ${c.state}: ${c.reason}`;
  if (pod.phase !== 'Running') return `pod ${pod.name} has phase ${pod.phase}`;
  return `${c.name} is ${c.state}`;
}
