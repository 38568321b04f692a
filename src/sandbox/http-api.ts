/**
 * The read-only REST surface: discovery, namespaces, pods (JSON, or a Table when kubectl asks for
 * server-side printing), /metrics and health probes. Exec requests are handed to ExecHandler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { handleReview } from './access-review.js';
import { auditRequest, auditUpgrade } from './audit-hooks.js';
import type { AuditLog } from './audit-log.js';
import { authorize, type Authenticator, type Principal } from './auth.js';
import { groupDiscovery } from './discovery.js';
import type { ExecHandler } from './exec-handler.js';
import { matchExecPath } from './exec-request.js';
import { findNamespace, type PodSpec } from './inventory.js';
import type { SandboxMetrics } from './metrics.js';
import { discovery, list, namespaceObject, namespaceTable, podTable, type World } from './objects.js';
import { httpErrors, type HttpStatus } from './status.js';
import type { ToolRoutes } from './tool-routes.js';

export interface ApiDeps {
  readonly world: World;
  readonly auth: Authenticator;
  readonly metrics: SandboxMetrics;
  readonly exec: ExecHandler;
  readonly audit?: AuditLog;
  /** attach, log, ephemeral containers, pod watches and field selectors (tool-routes.ts). */
  readonly tools: ToolRoutes;
  /** host:port clients use, for /api's serverAddressByClientCIDRs. */
  hostPort(): string;
}

/** Paths a request without credentials may read (public-info-viewer in a real cluster). */
const PUBLIC = new Set(['/version', '/healthz', '/livez', '/readyz', '/metrics']);

const NAMESPACE = /^\/api\/v1\/namespaces\/([^/]+)$/;
const NAMESPACED_PODS = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/;
const POD = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/;

function send(res: ServerResponse, code: number, body: string, type = 'application/json'): void {
  res.writeHead(code, { 'Content-Type': type, 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendStatus(res: ServerResponse, s: HttpStatus): void {
  send(res, s.code, s.body);
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? '');
}

function parseUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'https://sandbox.invalid');
}

export function createApi(deps: ApiDeps): {
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
} {
  const { world, auth, metrics, exec } = deps;
  const inventory = world.inventory;

  function podsIn(ns: string): { ns: string; pod: PodSpec }[] {
    return (findNamespace(inventory, ns)?.pods ?? []).map((pod) => ({ ns, pod }));
  }

  function podList(req: IncomingMessage, res: ServerResponse, pods: { ns: string; pod: PodSpec }[], who: Principal, ns?: string): void {
    if (wantsTable(req)) return send(res, 200, JSON.stringify(podTable(world, pods)));
    deps.tools.podList(req, res, pods, parseUrl(req), who, ns);
  }

  function get(req: IncomingMessage, res: ServerResponse, path: string, who: Principal): void {
    const found = discovery(path, deps.hostPort()) ?? groupDiscovery(path);
    if (found) return send(res, 200, JSON.stringify(found));
    if (path === '/api/v1/namespaces') {
      // Namespaces are cluster-scoped: without a cluster-wide grant RBAC answers 403, not a filtered list.
      const denied = authorize(who, { verb: 'list', resource: 'namespaces' });
      if (denied) return sendStatus(res, denied);
      const body = wantsTable(req) ? namespaceTable(world, inventory.namespaces) : list('NamespaceList', inventory.namespaces.map((n) => namespaceObject(world, n, false)));
      return send(res, 200, JSON.stringify(body));
    }
    if (path === '/api/v1/pods') {
      const denied = authorize(who, { verb: 'list', resource: 'pods' });
      if (denied) return sendStatus(res, denied);
      return podList(req, res, inventory.namespaces.flatMap((n) => podsIn(n.name)), who);
    }
    let m = NAMESPACE.exec(path);
    if (m) {
      const name = decodeURIComponent(m[1] as string);
      // For namespaces the request's namespace is the object's own name (RequestInfo), hence this check.
      const denied = authorize(who, { verb: 'get', resource: 'namespaces', name, namespace: name });
      if (denied) return sendStatus(res, denied);
      const ns = findNamespace(inventory, name);
      if (!ns) return sendStatus(res, httpErrors.notFound('namespaces', name));
      return send(res, 200, JSON.stringify(wantsTable(req) ? namespaceTable(world, [ns]) : namespaceObject(world, ns)));
    }
    m = NAMESPACED_PODS.exec(path);
    if (m) {
      const ns = decodeURIComponent(m[1] as string);
      const denied = authorize(who, { verb: 'list', resource: 'pods', namespace: ns });
      if (denied) return sendStatus(res, denied);
      return podList(req, res, podsIn(ns), who, ns);
    }
    m = POD.exec(path);
    if (m) {
      const ns = decodeURIComponent(m[1] as string);
      const name = decodeURIComponent(m[2] as string);
      const denied = authorize(who, { verb: 'get', resource: 'pods', name, namespace: ns });
      if (denied) return sendStatus(res, denied);
      const pod = podsIn(ns).find((p) => p.pod.name === name);
      if (!pod) return sendStatus(res, httpErrors.notFound('pods', name));
      return send(res, 200, JSON.stringify(wantsTable(req) ? podTable(world, [pod]) : deps.tools.deps.store.podView(ns, pod.pod)));
    }
    return sendStatus(res, httpErrors.pathNotFound());
  }

  function route(req: IncomingMessage, res: ServerResponse, url: URL, identified: Principal | HttpStatus | null): void {
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname;
    // A wrong token is 401 everywhere (a refused impersonation 403); no token at all may still read the public paths.
    if (identified && 'code' in identified) return sendStatus(res, identified);
    const who = identified;
    if (!who && !PUBLIC.has(path)) return sendStatus(res, httpErrors.unauthorized());
    if (path === '/metrics') return send(res, 200, metrics.render(), 'text/plain; version=0.0.4; charset=utf-8');
    if (path === '/healthz' || path === '/livez' || path === '/readyz') return send(res, 200, 'ok', 'text/plain; charset=utf-8');
    if (path === '/version') return send(res, 200, JSON.stringify(discovery(path, deps.hostPort())));
    const execTarget = matchExecPath(path);
    if (execTarget) return exec.handlePlain(req, res, execTarget, url);
    if (deps.tools.onRequest(req, res, path, url, who)) return;
    if (!who) return sendStatus(res, httpErrors.unauthorized());
    if (handleReview(req, res, path, who)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendStatus(res, httpErrors.methodNotAllowed());
    get(req, res, path, who);
  }

  return {
    onRequest(req, res) {
      metrics.httpRequestsTotal++;
      const url = parseUrl(req);
      if (deps.audit) auditRequest(deps.audit, req, res, url, () => auth.authenticate(req.headers));
      // Authentication may await the OIDC issuer's keys; the routes below it are synchronous.
      auth.identify(req).then(
        (identified) => route(req, res, url, identified),
        () => sendStatus(res, httpErrors.unauthorized()),
      );
    },
    onUpgrade(req, socket, head) {
      metrics.httpRequestsTotal++;
      socket.on('error', () => socket.destroy());
      const url = parseUrl(req);
      if (deps.audit) auditUpgrade(deps.audit, req, socket, url, () => auth.authenticate(req.headers));
      const execTarget = matchExecPath(url.pathname);
      // Identify first: the attach route (tools) authorizes with what identify() resolved.
      auth.identify(req).then(
        (identified) => {
          if (identified && 'code' in identified) return exec.reject(socket, identified.code, identified.body);
          if (execTarget) return exec.handleUpgrade(req, socket, head, execTarget, url);
          if (deps.tools.onUpgrade(req, socket, head, url)) return;
          exec.reject(socket, 404, httpErrors.pathNotFound().body);
        },
        () => exec.reject(socket, 401, httpErrors.unauthorized().body),
      );
    },
  };
}

