/**
 * The exec WebSocket handshake (K8S-EXEC.md "Subprotocols" and "HTTP"): offers v5 then v4, and
 * turns a refused upgrade into our error from the Status body the API server sends with it.
 */
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { PodtermError } from '../protocol/errors.js';
import { EXEC_PROTOCOLS, isExecProtocol } from './channel-codec.js';
import { cancelledError } from './deadline.js';
import { isKubeStatus, kubeErrorToPodterm, statusToError, type KubeStatus } from './errors.js';

/** Largest frame accepted; kubelets and API servers write at most 32 KiB per frame. */
export const MAX_FRAME_BYTES = 1024 * 1024;
const MAX_ERROR_BODY = 64 * 1024;

/**
 * The WebSocket handshake. Resolves with the open socket; rejects with a PodtermError mapped from
 * the server's Status body (a refused upgrade), from a network failure, or from `signal`.
 */
export function connect<T>(url: string, opts: WebSocket.ClientOptions, signal: AbortSignal, adopt: (ws: WebSocket) => T): Promise<T> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [...EXEC_PROTOCOLS], {
      ...opts,
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_BYTES,
      followRedirects: false,
    });
    let settled = false;
    const settle = (err: PodtermError | undefined): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      ws.removeListener('open', onOpen);
      ws.removeListener('error', onError);
      ws.removeListener('unexpected-response', onRefused);
      if (err) {
        ws.on('error', () => undefined); // whatever the dropped socket still reports
        ws.terminate();
        reject(err);
      } else resolve(adopt(ws));
    };
    const onAbort = (): void => settle(cancelledError(signal));
    const onOpen = (): void => {
      // ws checks that the answer is one of the offered protocols; an empty answer is refused too.
      if (!isExecProtocol(ws.protocol)) settle(new PodtermError('UpstreamUnavailable', 'The Kubernetes API server offered no supported exec protocol.'));
      else settle(undefined);
    };
    const onError = (err: unknown): void => settle(kubeErrorToPodterm(err));
    const onRefused = (_req: unknown, res: IncomingMessage): void => {
      // The Status body of a refused upgrade (404 pod, 400 container, 403 RBAC) says why.
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < MAX_ERROR_BODY) body += d;
      });
      const done = (): void => {
        let status: KubeStatus | undefined;
        try {
          const parsed: unknown = JSON.parse(body);
          if (isKubeStatus(parsed)) status = parsed;
        } catch {
          // Not JSON (a bare 403 for an unsupported subprotocol): the HTTP code is all we have.
        }
        settle(statusToError(res.statusCode, status));
      };
      res.once('end', done);
      res.once('error', done);
      res.once('aborted', done);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    ws.once('open', onOpen);
    ws.on('error', onError);
    ws.once('unexpected-response', onRefused);
  });
}
