/**
 * `GET /api/v1/namespaces/{ns}/pods/{pod}/log?container=C&follow=true&tailLines=N&previous=true&timestamps=true`
 * (docs/protocol.md, HTTP additions): the API server's pods/log streamed to the browser. Reading
 * upstream pauses while uWS cannot take more (response-stream.ts), so a follow holds at most one
 * chunk here; the upstream request is dropped as soon as the client goes away, and every open
 * stream is counted (ToolCounters.logStreams) until then. Reviewed as `get pods/log` first
 * (issue 12) and audited once as `log.view` when the stream opens (or is refused).
 */
import type { TemplatedApp } from 'uWebSockets.js';
import { PodtermError } from '../protocol/errors.js';
import { openPodLog, type PodLogOptions } from '../kube/pod-log.js';
import { guardRoute } from './route-guard.js';
import { outcomeOf } from '../audit/request-audit.js';
import { LOGS } from './exec-permission.js';
import { abortWith, auditTool, boolParam, containerParam, podRequest, reviewAccess, type PodToolDeps } from './pod-tools.js';

const MAX_TAIL_LINES = 1_000_000;

export function parseLogQuery(q: URLSearchParams): PodLogOptions {
  const tail = q.get('tailLines');
  if (tail !== null && tail !== '' && !/^\d{1,7}$/.test(tail)) throw new PodtermError('BadRequest', `tailLines must be an integer 0..${MAX_TAIL_LINES}.`);
  const tailLines = tail === null || tail === '' ? null : Number(tail);
  if (tailLines !== null && tailLines > MAX_TAIL_LINES) throw new PodtermError('BadRequest', `tailLines must be an integer 0..${MAX_TAIL_LINES}.`);
  return {
    container: containerParam(q, false),
    follow: boolParam(q, 'follow'),
    tailLines,
    previous: boolParam(q, 'previous'),
    timestamps: boolParam(q, 'timestamps'),
  };
}

export function mountLogRoutes(app: TemplatedApp, deps: PodToolDeps): void {
  const pattern = '/api/v1/namespaces/:ns/pods/:pod/log';
  app.get(
    pattern,
    guardRoute(deps, `GET ${pattern}`, async (req, reply) => {
      const r = await podRequest(deps, req, reply.client);
      const options = parseLogQuery(r.query);
      const ctl = abortWith((f) => reply.onAbort(f));
      const what = options.container === null ? {} : { container: options.container };
      await reviewAccess(deps, r, LOGS, 'log.view', what, ctl.signal);
      const upstream = await openPodLog(r.kc, r.headers, r.namespace, r.pod, options, ctl.signal, deps.kubeTimeoutMs).catch((err: unknown) => {
        auditTool(deps, r, 'log.view', { ...what, outcome: outcomeOf(err) });
        throw err;
      });
      auditTool(deps, r, 'log.view', { ...what, outcome: 'ok' });
      deps.counters.logStreams++;
      try {
        const stream = reply.stream(200, [
          ['Content-Type', 'text/plain; charset=utf-8'],
          ['Cache-Control', 'no-store'],
          ['X-Content-Type-Options', 'nosniff'],
        ], null);
        if (!stream) return; // the client left while the API server answered
        await stream.pipeFrom(upstream);
      } finally {
        upstream.destroy();
        deps.counters.logStreams--;
      }
    }),
  );
}
