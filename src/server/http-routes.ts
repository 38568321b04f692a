/** The HTTP side of the gateway: health, metrics, the token exchange, the page and the JSON API. */
import type { HttpRequest, TemplatedApp } from 'uWebSockets.js';
import { PodtermError } from '../protocol/errors.js';
import type { KubeApi } from '../kube/api.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import type { Authenticator } from '../auth/authenticator.js';
import { whoFields, type AuditSink } from '../audit/request-audit.js';
import { callerOf } from './auth-routes.js';
import { markExecAllowed } from './exec-permission.js';
import { namespacesFor } from './namespace-permission.js';
import { cookiesSecure, guardRoute, type Reply, type RouteEnv } from './route-guard.js';
import { FILE_NAME, type StaticFile } from './static-files.js';
import { validLabel } from './validate.js';

export interface HttpRoutesOptions extends RouteEnv {
  auth: Authenticator;
  supervisor: Supervisor;
  kube: KubeApi;
  files: Map<string, StaticFile> | undefined;
  /** The Prometheus text for /metrics. */
  metricsText: () => Promise<string>;
  /** The token exchange's auth.login / auth.failed. */
  audit: AuditSink | undefined;
}

const UNAUTHENTICATED_PAGE =
  '<!doctype html><meta charset="utf-8"><title>podterm</title><p>You are not signed in. Open the URL that <code>podterm serve</code> printed, the one with <code>?token=</code>.</p>\n';
const NOT_BUILT = 'podterm: the web page was not built. Run `npm run build`, then reload.\n';
const TEXT = 'text/plain; charset=utf-8';

export function mountHttpRoutes(app: TemplatedApp, o: HttpRoutesOptions): void {
  // Throws Unauthorized (or the bearer token's AuthError); the guard answers it.
  const identify = (req: HttpRequest, reply: Reply) => callerOf(o.auth, req, reply.client);
  const signedIn = (req: HttpRequest, reply: Reply): Promise<boolean> => identify(req, reply).then(() => true, () => false);
  const route = (pattern: string, handler: (req: HttpRequest, reply: Reply) => void | Promise<void>): void => {
    app.get(pattern, guardRoute(o, `GET ${pattern}`, handler));
  };

  route('/healthz', (_req, reply) => reply.send(200, TEXT, 'ok\n'));
  route('/readyz', (_req, reply) => {
    if (o.supervisor.draining) reply.send(503, TEXT, 'draining\n');
    else reply.send(200, TEXT, 'ready\n');
  });
  route('/metrics', async (_req, reply) => {
    reply.send(200, 'text/plain; version=0.0.4; charset=utf-8', await o.metricsText());
  });

  route('/', async (req, reply) => {
    const token = req.getQuery('token');
    const tls = cookiesSecure(req, o);
    if (token) {
      // The token in a query string is accepted only here, and never logged (docs/protocol.md).
      const identity = o.auth.tokens.fromToken(token);
      if (!identity) {
        o.auth.failed('unknown-token', 'token', reply.client);
        return reply.send(401, 'text/html; charset=utf-8', UNAUTHENTICATED_PAGE);
      }
      o.audit?.write('auth.login', whoFields(o.auth.callerOfToken(identity).person, reply.client));
      const id = o.auth.tokens.startCookieSession(identity);
      return reply.send(303, TEXT, '', [
        ['Location', '/'],
        ['Set-Cookie', o.auth.tokens.cookieHeader(id, tls)],
        ['Cache-Control', 'no-store'],
        ['Referrer-Policy', 'no-referrer'],
      ]);
    }
    if (!(await signedIn(req, reply))) {
      // With sign-in configured, a browser without a session goes to the provider.
      if (o.auth.oidcEnabled) return reply.send(302, TEXT, '', [['Location', '/auth/login'], ['Cache-Control', 'no-store']]);
      return reply.send(401, 'text/html; charset=utf-8', UNAUTHENTICATED_PAGE);
    }
    serveFile(reply, o.files, 'index.html');
  });

  route('/api/v1/namespaces', async (req, reply) => {
    const caller = await identify(req, reply);
    const names = await namespacesFor(o.kube, caller.kube, caller.namespaces);
    reply.json(200, { items: names.map((name) => ({ name })) });
  });

  route('/api/v1/namespaces/:ns/pods', async (req, reply) => {
    // A URIError (e.g. `%ff`) becomes 400 BadRequest in the guard.
    const ns = decodeURIComponent(req.getParameter(0) ?? '');
    const caller = await identify(req, reply);
    if (!validLabel(ns)) return reply.error(new PodtermError('BadRequest', 'namespace must be a DNS-1123 label.'));
    // Kube failures arrive as PodtermErrors (src/kube maps them); anything else is Internal, logged.
    const items = await o.kube.listPods(caller.kube, ns);
    reply.json(200, await markExecAllowed(o.kube, caller.kube, ns, items));
  });

  route('/:file', async (req, reply) => {
    const name = req.getParameter(0) ?? '';
    await identify(req, reply);
    if (!FILE_NAME.test(name)) return reply.error(new PodtermError('NotFound', 'No such file.'));
    serveFile(reply, o.files, name);
  });

  app.any('/*', guardRoute(o, 'ANY /*', (_req, reply) => reply.error(new PodtermError('NotFound', 'No such path.'))));
}

function serveFile(reply: Reply, files: Map<string, StaticFile> | undefined, name: string): void {
  if (!files) return reply.send(200, TEXT, NOT_BUILT);
  const file = files.get(name);
  if (!file) return reply.error(new PodtermError('NotFound', 'No such file.'));
  reply.send(200, file.type, file.body, file.headers);
}
