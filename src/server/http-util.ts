/** Small helpers for uWS responses: every write is corked, and nothing is written after an abort. */
import type { HttpResponse } from 'uWebSockets.js';
import { ERRORS, type PodtermError } from '../protocol/errors.js';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 303: 'See Other', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 413: 'Payload Too Large',
  429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable',
};

export function statusLine(code: number): string {
  return `${code} ${STATUS_TEXT[code] ?? 'Unknown'}`;
}

/** Tracks whether uWS aborted the response; must be set up before any await. */
export function guard(res: HttpResponse): { readonly aborted: boolean } {
  const state = { aborted: false };
  res.onAborted(() => {
    state.aborted = true;
  });
  return state;
}

export function send(res: HttpResponse, status: number, type: string, body: string | Buffer, headers: Array<[string, string]> = []): void {
  res.cork(() => {
    res.writeStatus(statusLine(status));
    res.writeHeader('Content-Type', type);
    for (const [k, v] of headers) res.writeHeader(k, v);
    res.end(body);
  });
}

export function sendJson(res: HttpResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), [['Cache-Control', 'no-store']]);
}

/** The error body every failure before an upgrade uses: HTTP status + `{code, message}`. */
export function sendError(res: HttpResponse, err: PodtermError): void {
  sendJson(res, ERRORS[err.code].http, { code: err.code, message: err.message });
}
