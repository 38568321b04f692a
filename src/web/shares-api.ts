/**
 * The page's calls to the share routes (docs/protocol.md, HTTP additions): make a read-only link
 * to a session, revoke every link. Failures become ApiError with the server's user-safe message.
 */
import type { ShareBody } from '../protocol/index.js';
import { ApiError } from './api.js';
import { apiError } from './tools-api.js';

function sharesPath(session: string): string {
  return `/api/v1/sessions/${encodeURIComponent(session)}/shares`;
}

async function call(path: string, init: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: 'same-origin', ...init });
  } catch {
    throw new ApiError(0, 'Network', 'The podterm server cannot be reached.');
  }
  if (!res.ok) throw await apiError(res);
  return res;
}

export async function createShare(session: string, ttlSeconds?: number): Promise<ShareBody> {
  const res = await call(sharesPath(session), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(ttlSeconds === undefined ? {} : { ttlSeconds }),
  });
  return (await res.json()) as ShareBody;
}

export async function revokeShares(session: string): Promise<void> {
  await call(sharesPath(session), { method: 'DELETE' });
}
