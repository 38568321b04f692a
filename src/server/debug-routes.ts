/**
 * `POST /api/v1/namespaces/{ns}/pods/{pod}/debug` body `{target?, image?}` (docs/protocol.md, HTTP
 * additions): adds an ephemeral debug container as `kubectl debug -it --target=T --image=I` does
 * and answers `{container}` once it runs; the page then opens it with `/ws/exec?...&attach=true`.
 * Reviewed as `patch pods/ephemeralcontainers` first (issue 12); audited once as `debug.start`
 * (target, image, the new container, outcome).
 */
import type { TemplatedApp } from 'uWebSockets.js';
import { PodtermError } from '../protocol/errors.js';
import { startDebugContainer } from '../kube/ephemeral.js';
import { guardRoute } from './route-guard.js';
import { outcomeOf } from '../audit/request-audit.js';
import { DEBUG } from './exec-permission.js';
import { abortWith, auditTool, podRequest, reviewAccess, type PodToolDeps } from './pod-tools.js';
import { validLabel } from './validate.js';

const MAX_BODY = 16 * 1024;
// An image reference: registry/name[:tag][@digest], no spaces or control characters.
const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]{0,511}$/;

export interface DebugBody {
  target: string | null;
  image: string | null;
}

export function parseDebugBody(text: string): DebugBody {
  let v: unknown;
  try {
    v = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new PodtermError('BadRequest', 'The body must be JSON: {"target": "container", "image": "busybox:1.36"}.');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PodtermError('BadRequest', 'The body must be a JSON object.');
  const { target, image } = v as { target?: unknown; image?: unknown };
  if (target !== undefined && target !== null && (typeof target !== 'string' || !validLabel(target))) throw new PodtermError('BadRequest', 'target must be a container name.');
  if (image !== undefined && image !== null && (typeof image !== 'string' || !IMAGE.test(image))) throw new PodtermError('BadRequest', 'image must be an image reference such as busybox:1.36.');
  return { target: typeof target === 'string' ? target : null, image: typeof image === 'string' ? image : null };
}

export function mountDebugRoutes(app: TemplatedApp, deps: PodToolDeps): void {
  const pattern = '/api/v1/namespaces/:ns/pods/:pod/debug';
  app.post(
    pattern,
    guardRoute(deps, `POST ${pattern}`, async (req, reply) => {
      const body = reply.body(req, MAX_BODY);
      const r = await podRequest(deps, req, reply.client);
      let text = '';
      for await (const chunk of body) text += (chunk as Buffer).toString('utf8');
      const d = parseDebugBody(text);
      const ctl = abortWith((f) => reply.onAbort(f));
      const image = d.image ?? deps.debugImage;
      const what = { ...(d.target === null ? {} : { target: d.target }), image };
      await reviewAccess(deps, r, DEBUG, 'debug.start', what, ctl.signal);
      deps.counters.debugStarts++;
      let container: string | undefined;
      let failure: unknown;
      try {
        container = await startDebugContainer(
          r.kc,
          { namespace: r.namespace, pod: r.pod, target: d.target, image },
          { headers: r.headers, signal: ctl.signal, timeoutMs: deps.kubeTimeoutMs, startTimeoutMs: deps.debugStartTimeoutMs },
        );
        deps.log('info', 'debug container started', { namespace: r.namespace, pod: r.pod, container, target: d.target });
        reply.json(200, { container });
      } catch (err) {
        failure = err;
        throw err;
      } finally {
        deps.counters.debugStarts--;
        auditTool(deps, r, 'debug.start', { ...what, ...(container === undefined ? {} : { container }), outcome: outcomeOf(failure) });
      }
    }),
  );
}
