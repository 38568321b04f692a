/**
 * The page's calls to the container-tool routes (docs/protocol.md, HTTP additions): files, logs,
 * debug containers. Failures become ApiError with the server's user-safe message.
 */
import { ApiError } from './api.js';
import type { ExecTarget } from './exec-socket.js';

export function podPath(t: { namespace: string; pod: string }, sub: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${encodeURIComponent(t.pod)}/${sub}`;
}

export function filesUrl(t: ExecTarget, path: string): string {
  return `${podPath(t, 'files')}?${new URLSearchParams({ container: t.container, path })}`;
}

export async function apiError(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as { code?: unknown; message?: unknown } | null;
  return new ApiError(res.status, typeof body?.code === 'string' ? body.code : `Http${res.status}`, typeof body?.message === 'string' ? body.message : `The server answered ${res.status}.`);
}

/** Adds a debug container (as kubectl debug does) and resolves with its name once it runs. */
export async function startDebugContainer(t: ExecTarget, signal?: AbortSignal): Promise<string> {
  const res = await fetch(podPath(t, 'debug'), {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ target: t.container }),
    signal,
  });
  if (!res.ok) throw await apiError(res);
  return ((await res.json()) as { container: string }).container;
}

/**
 * PUT with upload progress: XMLHttpRequest, because fetch reports no upload progress. Resolves
 * with the server's answer; `abort()` cancels.
 */
export function uploadFile(t: ExecTarget, path: string, body: Blob, contentType: string, progress: (sent: number, total: number) => void): { done: Promise<void>; abort(): void } {
  const xhr = new XMLHttpRequest();
  const done = new Promise<void>((resolve, reject) => {
    xhr.upload.onprogress = (ev) => progress(ev.loaded, ev.total);
    xhr.onload = () => {
      if (xhr.status === 200) return resolve();
      let msg = `The server answered ${xhr.status}.`;
      try {
        const b = JSON.parse(xhr.responseText) as { message?: string };
        if (b.message) msg = b.message;
      } catch {
        // not JSON: keep the status
      }
      reject(new ApiError(xhr.status, 'Upload', msg));
    };
    xhr.onerror = () => reject(new ApiError(0, 'Network', 'The upload failed (network).'));
    xhr.onabort = () => reject(new ApiError(0, 'Cancelled', 'The upload was cancelled.'));
  });
  xhr.open('PUT', filesUrl(t, path));
  xhr.setRequestHeader('content-type', contentType);
  xhr.send(body);
  return { done, abort: () => xhr.abort() };
}
