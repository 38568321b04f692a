/**
 * Routing for the container-tool subresources (pods/attach, pods/log, pods/ephemeralcontainers)
 * and pod lists/watches, kept out of http-api.ts so that file only delegates. Every route is
 * authorized through auth.ts's authorize() with the subresource's RBAC name.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { authorize, type Principal } from './auth.js';
import { matchAttachPath } from './attach-request.js';
import { matchEphemeralPath, type EphemeralContainers } from './ephemeral-containers.js';
import type { ExecHandler } from './exec-handler.js';
import { list } from './objects.js';
import { matchLogPath, type LogHandler } from './log-handler.js';
import type { PodStore } from './pod-store.js';
import { httpErrors, type HttpStatus } from './status.js';
import { matches, parseFieldSelector, PodWatches, type PodRef } from './watch.js';

export interface ToolRouteDeps {
  readonly store: PodStore;
  readonly attach: ExecHandler;
  readonly logs: LogHandler;
  readonly ephemeral: EphemeralContainers;
  readonly watches: PodWatches;
}

function reply(res: ServerResponse, s: HttpStatus): void {
  if (res.headersSent) return void res.end();
  res.writeHead(s.code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(s.body) });
  res.end(s.body);
}

export class ToolRoutes {
  constructor(readonly deps: ToolRouteDeps) {}

  /** Handles the request if it is one of ours (after authentication); false otherwise. */
  onRequest(req: IncomingMessage, res: ServerResponse, path: string, url: URL, who: Principal | null): boolean {
    const attach = matchAttachPath(path);
    if (attach) {
      this.deps.attach.handlePlain(req, res, attach, url);
      return true;
    }
    const log = matchLogPath(path);
    const eph = log ? null : matchEphemeralPath(path);
    if (!log && !eph) return false;
    if (!who) {
      reply(res, httpErrors.unauthorized());
      return true;
    }
    if (log) {
      const s = this.deps.logs.handle(req, res, who, log, url.searchParams);
      if (s) reply(res, s);
    } else if (eph) {
      this.deps.ephemeral.handle(req, res, who, eph, (s) => reply(res, s));
    }
    return true;
  }

  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean {
    const attach = matchAttachPath(url.pathname);
    if (!attach) return false;
    this.deps.attach.handleUpgrade(req, socket, head, attach, url);
    return true;
  }

  /** A pod list or watch over `pods` (already authorized for `list`), honouring fieldSelector. */
  podList(req: IncomingMessage, res: ServerResponse, pods: readonly PodRef[], url: URL, who: Principal, ns: string | undefined): void {
    const terms = parseFieldSelector(url.searchParams.get('fieldSelector'));
    if ('code' in terms) return reply(res, terms);
    if (PodWatches.wants(url.searchParams)) {
      const denied = authorize(who, { verb: 'watch', resource: 'pods', ...(ns === undefined ? {} : { namespace: ns }) });
      if (denied) return reply(res, denied);
      const s = this.deps.watches.watch(req, res, pods, terms, url.searchParams);
      if (s) reply(res, s);
      return;
    }
    const items = pods.filter((p) => matches(terms, p)).map(({ ns: n, pod }) => this.deps.store.podView(n, pod, false));
    const body = { ...list('PodList', items), metadata: { resourceVersion: String(this.deps.store.resourceVersion) } };
    reply(res, { code: 200, body: JSON.stringify(body) });
  }
}
