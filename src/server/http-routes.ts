/** The HTTP side of the gateway: health, metrics, the token exchange, the page and the JSON API. */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { PodtermError, toPodtermError } from '../protocol/errors.js';
import type { KubeApi } from '../kube/api.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import type { Authenticator, Identity } from '../auth/token-auth.js';
import { guard, send, sendError, sendJson } from './http-util.js';
import { FILE_NAME, type StaticFile } from './static-files.js';
import { validLabel } from './validate.js';

export interface HttpRoutesOptions {
  auth: Authenticator;
  supervisor: Supervisor;
  kube: KubeApi;
  files: Map<string, StaticFile> | undefined;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

const UNAUTHENTICATED_PAGE =
  '<!doctype html><meta charset="utf-8"><title>podterm</title><p>You are not signed in. Open the URL that <code>podterm serve</code> printed, the one with <code>?token=</code>.</p>\n';
const NOT_BUILT = 'podterm: the web page was not built. Run `npm run build`, then reload.\n';

export function mountHttpRoutes(app: TemplatedApp, o: HttpRoutesOptions): void {
  const identify = (req: HttpRequest): Identity | undefined => o.auth.fromHeaders(req.getHeader('cookie'), req.getHeader('authorization'));

  app.get('/healthz', (res) => send(res, 200, 'text/plain; charset=utf-8', 'ok\n'));
  app.get('/readyz', (res) => {
    if (o.supervisor.draining) send(res, 503, 'text/plain; charset=utf-8', 'draining\n');
    else send(res, 200, 'text/plain; charset=utf-8', 'ready\n');
  });
  app.get('/metrics', (res) => {
    const g = guard(res);
    o.supervisor.metricsText().then(
      (text) => {
        if (!g.aborted) send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', text);
      },
      (err: unknown) => {
        o.log('error', 'metrics failed', { error: String(err) });
        if (!g.aborted) sendError(res, new PodtermError('Internal'));
      },
    );
  });

  app.get('/', (res, req) => {
    const token = req.getQuery('token');
    const forwardedTls = req.getHeader('x-forwarded-proto').toLowerCase() === 'https';
    if (token) {
      // The token in a query string is accepted only here, and never logged (PROTOCOL.md).
      const identity = o.auth.fromToken(token);
      if (!identity) return send(res, 401, 'text/html; charset=utf-8', UNAUTHENTICATED_PAGE);
      const id = o.auth.startCookieSession(identity);
      return send(res, 303, 'text/plain; charset=utf-8', '', [
        ['Location', '/'],
        // Secure only under TLS: podterm itself serves plain HTTP, so TLS means a terminating proxy.
        ['Set-Cookie', o.auth.cookieHeader(id, forwardedTls)],
        ['Cache-Control', 'no-store'],
        ['Referrer-Policy', 'no-referrer'],
      ]);
    }
    if (!identify(req)) return send(res, 401, 'text/html; charset=utf-8', UNAUTHENTICATED_PAGE);
    serveFile(res, o.files, 'index.html');
  });

  app.get('/api/v1/namespaces', (res, req) => {
    const identity = identify(req);
    if (!identity) return sendError(res, new PodtermError('Unauthorized'));
    const g = guard(res);
    o.kube.listNamespaces(identity.context, identity.namespaces).then(
      (names) => !g.aborted && sendJson(res, 200, { items: names.map((name) => ({ name })) }),
      (err: unknown) => !g.aborted && sendError(res, toPodtermError(err)),
    );
  });

  app.get('/api/v1/namespaces/:ns/pods', (res, req) => {
    const identity = identify(req);
    if (!identity) return sendError(res, new PodtermError('Unauthorized'));
    const ns = decodeURIComponent(req.getParameter(0) ?? '');
    if (!validLabel(ns)) return sendError(res, new PodtermError('BadRequest', 'namespace must be a DNS-1123 label.'));
    const g = guard(res);
    o.kube.listPods(identity.context, ns).then(
      (items) => !g.aborted && sendJson(res, 200, { items }),
      (err: unknown) => !g.aborted && sendError(res, toPodtermError(err)),
    );
  });

  app.get('/:file', (res, req) => {
    const name = req.getParameter(0) ?? '';
    if (!identify(req)) return sendError(res, new PodtermError('Unauthorized'));
    if (!FILE_NAME.test(name)) return sendError(res, new PodtermError('NotFound', 'No such file.'));
    serveFile(res, o.files, name);
  });

  app.any('/*', (res) => sendError(res, new PodtermError('NotFound', 'No such path.')));
}

function serveFile(res: HttpResponse, files: Map<string, StaticFile> | undefined, name: string): void {
  if (!files) return send(res, 200, 'text/plain; charset=utf-8', NOT_BUILT);
  const file = files.get(name);
  if (!file) return sendError(res, new PodtermError('NotFound', 'No such file.'));
  send(res, 200, file.type, file.body, file.headers);
}
