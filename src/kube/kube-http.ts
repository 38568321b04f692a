/**
 * One streaming HTTP request to the Kubernetes API server with the context's credentials (CA,
 * client certificate, bearer token, exec plugins, impersonation: client-node's public
 * `KubeConfig.applyToHTTPSOptions`). Used where client-node's fetch-based API hides what podterm
 * needs: a body it can pause (pods/log follow, for backpressure) and a PATCH content type it
 * chooses (pods/ephemeralcontainers, strategic merge as `kubectl debug` sends).
 *
 * The request is bounded: it rejects with UpstreamUnavailable when no response head arrives within
 * `timeoutMs`, and `signal` drops it at any time (before or after the head).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { PodtermError } from '../protocol/errors.js';
import type { HeaderLines } from './request-headers.js';
import { isKubeStatus, kubeErrorToPodterm, statusToError, type KubeStatus } from './errors.js';

export interface KubeHttpRequest {
  method: 'GET' | 'PATCH' | 'POST';
  /** `/api/v1/...`, already percent-encoded; the cluster URL's own path prefix is kept. */
  path: string;
  query?: URLSearchParams;
  body?: string;
  contentType?: string;
  accept?: string;
  /** The identity's headers (impersonation, act-as.ts), one line per value. */
  headers?: HeaderLines;
  signal: AbortSignal;
  timeoutMs: number;
  /** A refusal this caller words itself (else statusToError). */
  mapStatus?: (code: number, status: KubeStatus | undefined) => PodtermError | undefined;
}

const MAX_ERROR_BODY = 64 * 1024;

/** Reads a small JSON body (a Status, a Pod); bounded. */
export async function readJson(res: IncomingMessage, limit = 4 * 1024 * 1024): Promise<unknown> {
  let body = '';
  res.setEncoding('utf8');
  for await (const chunk of res) {
    body += chunk as string;
    if (body.length > limit) {
      res.destroy();
      throw new PodtermError('UpstreamUnavailable', 'The Kubernetes API server sent an answer larger than expected.');
    }
  }
  return JSON.parse(body) as unknown;
}

/**
 * Resolves with the response once its head arrived with a 2xx status; any other status is read
 * (its Status body, bounded) and rejected as a PodtermError mapped by statusToError.
 */
export async function kubeRequest(kc: KubeConfig, r: KubeHttpRequest): Promise<IncomingMessage> {
  r.signal.throwIfAborted();
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new PodtermError('Internal', 'The kubeconfig context names no cluster.');
  const base = new URL(cluster.server);
  const url = new URL(base.pathname.replace(/\/+$/, '') + r.path, base);
  if (r.query) url.search = r.query.toString();
  const opts: RequestOptions = { method: r.method, headers: { accept: r.accept ?? 'application/json' } };
  await kc.applyToHTTPSOptions(opts as never);
  r.signal.throwIfAborted();
  const headers = opts.headers as Record<string, string | string[]>;
  // Only our identity's Impersonate-* lines go out (request-headers.ts does the same for client-node).
  for (const k of Object.keys(headers)) if (/^impersonate-/i.test(k)) delete headers[k];
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k] = [...v];
  if (r.body !== undefined) {
    headers['content-type'] = r.contentType ?? 'application/json';
    headers['content-length'] = String(Buffer.byteLength(r.body));
  }
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise<IncomingMessage>((resolve, reject) => {
    let settled = false;
    const req = send(url, { ...opts, signal: r.signal });
    const timer = setTimeout(() => fail(new PodtermError('UpstreamUnavailable', `The Kubernetes API server did not answer within ${r.timeoutMs / 1000} s.`)), r.timeoutMs);
    const fail = (err: PodtermError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    req.on('error', (err) => {
      if (r.signal.aborted) fail(new PodtermError('UpstreamUnavailable', 'The request was cancelled.'));
      else fail(kubeErrorToPodterm(err));
    });
    req.on('response', (res) => {
      if (settled) {
        res.destroy();
        return;
      }
      clearTimeout(timer);
      const code = res.statusCode ?? 0;
      if (code >= 200 && code < 300) {
        settled = true;
        resolve(res);
        return;
      }
      // The Status body says why (404 pod, 400 container state, 403 RBAC, 422 invalid).
      const map = (status: KubeStatus | undefined): PodtermError => r.mapStatus?.(code, status) ?? statusToError(code, status);
      void readJson(res, MAX_ERROR_BODY).then(
        (body) => fail(map(isKubeStatus(body) ? body : undefined)),
        () => fail(map(undefined)),
      );
    });
    req.end(r.body);
  });
}

export type { KubeStatus };
