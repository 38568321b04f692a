/**
 * `POST /api/v1/namespaces/{ns}/pods/{pod}/debug` body `{target?, image?}` (docs/protocol.md, HTTP
 * additions): adds an ephemeral debug container as `kubectl debug -it --target=T --image=I` does
 * and answers `{container}` once it runs; the page then opens it with `/ws/exec?...&attach=true`.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import { PodtermError } from '../protocol/errors.js';
import { startDebugContainer } from '../kube/ephemeral.js';
import { guardRoute } from './route-guard.js';
import { abortWith, podRequest, type PodToolDeps } from './pod-tools.js';
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
      const r = await podRequest(deps, req);
      let text = '';
      for await (const chunk of body) text += (chunk as Buffer).toString('utf8');
      const d = parseDebugBody(text);
      const ctl = abortWith((f) => reply.onAbort(f));
      await deps.authorize(r.caller.person, 'patch', 'pods/ephemeralcontainers', r.namespace, r.pod);
      deps.counters.debugStarts++;
      try {
        const container = await startDebugContainer(
          r.kc,
          { namespace: r.namespace, pod: r.pod, target: d.target, image: d.image ?? deps.debugImage },
          { headers: r.headers, signal: ctl.signal, timeoutMs: deps.kubeTimeoutMs, startTimeoutMs: deps.debugStartTimeoutMs },
        );
        deps.log('info', 'debug container started', { namespace: r.namespace, pod: r.pod, container, target: d.target });
        reply.json(200, { container });
      } finally {
        deps.counters.debugStarts--;
      }
    }),
  );
}
