/**
 * `pods/{name}/ephemeralcontainers`: GET returns the pod; PATCH adds ephemeral containers, which
 * is how `kubectl debug` starts a debug container (it sends a strategic merge patch of
 * spec.ephemeralContainers; merge patch and JSON patch are accepted as the API server does).
 * Existing ephemeral containers may not be changed or removed (ValidatePodEphemeralContainersUpdate).
 * A new container is Waiting (ContainerCreating), then Running shortly after, when its main
 * process (a shell on the host, whatever the image: main-process.ts) has started.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorize, type Principal } from './auth.js';
import type { ContainerSpec, PodSpec } from './inventory.js';
import type { MainProcesses } from './main-process.js';
import type { PodStore } from './pod-store.js';
import { httpErrors, type HttpStatus } from './status.js';

const PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/ephemeralcontainers\/?$/;
const MAX_BODY = 1024 * 1024;
/** Time from the PATCH to Running: long enough for a watcher to see Waiting first. */
export const EPHEMERAL_START_MS = 300;

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function matchEphemeralPath(pathname: string): { namespace: string; pod: string } | null {
  const m = PATH.exec(pathname);
  return m ? { namespace: decodeURIComponent(m[1] as string), pod: decodeURIComponent(m[2] as string) } : null;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(pod: string, field: string, what: string): HttpStatus {
  const message = `Pod "${pod}" is invalid: ${field}: ${what}`;
  const body = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Invalid',
    details: { name: pod, kind: 'Pod', causes: [{ reason: 'FieldValueInvalid', message: what, field }] },
    code: 422,
  };
  return { code: 422, body: JSON.stringify(body) };
}

/** The desired ephemeralContainers list after applying the patch to `current`. */
function applyPatch(type: string, body: unknown, current: Obj[]): Obj[] | HttpStatus {
  if (type === 'application/json-patch+json') {
    if (!Array.isArray(body)) return httpErrors.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    let list = current.map((c) => ({ ...c }));
    for (const op of body as unknown[]) {
      if (!isObj(op) || typeof op.path !== 'string') return httpErrors.badRequest('invalid JSON patch operation');
      const m = /^\/spec\/ephemeralContainers(?:\/(-|\d+))?$/.exec(op.path);
      if (!m) continue; // other fields of the pod cannot change through this subresource; ignored
      if (op.op === 'add' && m[1] === undefined && Array.isArray(op.value)) list = op.value as Obj[];
      else if (op.op === 'add' && isObj(op.value)) list.splice(m[1] === '-' ? list.length : Number(m[1]), 0, op.value);
      else if (op.op === 'replace' && Array.isArray(op.value) && m[1] === undefined) list = op.value as Obj[];
      else return httpErrors.badRequest(`unsupported JSON patch operation ${String(op.op)} on ${op.path}`);
    }
    return list;
  }
  if (!isObj(body)) return httpErrors.badRequest('the patch must be a JSON object');
  const spec = body.spec;
  if (!isObj(spec) || spec.ephemeralContainers === undefined) return current;
  if (!Array.isArray(spec.ephemeralContainers)) return httpErrors.badRequest('spec.ephemeralContainers must be a list');
  const patch = spec.ephemeralContainers as unknown[];
  // Merge patch (RFC 7386) replaces the list; a strategic merge patch merges it by name.
  if (type === 'application/merge-patch+json') return patch.filter(isObj);
  const out = current.map((c) => ({ ...c }));
  for (const p of patch) {
    if (!isObj(p)) continue;
    const at = out.findIndex((c) => c.name === p.name);
    const clean = Object.fromEntries(Object.entries(p).filter(([k]) => !k.startsWith('$')));
    if (at === -1) out.push(clean);
    else out[at] = { ...out[at], ...clean };
  }
  return out;
}

export class EphemeralContainers {
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly store: PodStore,
    readonly mains: MainProcesses,
  ) {}

  /** Answers a request to the subresource; null when it answered itself. */
  handle(req: IncomingMessage, res: ServerResponse, who: Principal, target: { namespace: string; pod: string }, reply: (s: HttpStatus) => void): void {
    const verb = req.method === 'GET' ? 'get' : req.method === 'PATCH' ? 'patch' : req.method === 'PUT' ? 'update' : null;
    if (verb === null) return reply(httpErrors.methodNotAllowed());
    const denied = authorize(who, { verb, resource: 'pods/ephemeralcontainers', name: target.pod, namespace: target.namespace });
    if (denied) return reply(denied);
    const pod = this.store.find(target.namespace, target.pod);
    if (!pod) return reply(httpErrors.notFound('pods', target.pod));
    if (verb === 'get') return reply({ code: 200, body: JSON.stringify(this.store.podView(target.namespace, pod)) });
    if (verb === 'update') return reply(httpErrors.methodNotAllowed());
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const accepted = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
    if (!accepted.includes(type)) {
      return reply({
        code: 415,
        body: JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `the body of the request was in an unknown format - accepted media types include: ${[...accepted, 'application/apply-patch+yaml'].join(', ')}`,
          reason: 'UnsupportedMediaType',
          code: 415,
        }),
      });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.once('error', () => res.destroy());
    req.once('end', () => {
      if (size > MAX_BODY) return reply({ code: 413, body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Request entity too large: limit is 1048576', reason: 'RequestEntityTooLarge', code: 413 }) });
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        return reply(httpErrors.badRequest(`error decoding patch: ${(err as Error).message}`));
      }
      reply(this.#patch(target.namespace, pod, type, body));
    });
  }

  #patch(ns: string, pod: PodSpec, type: string, body: unknown): HttpStatus {
    const existing = this.store.ephemeral(ns, pod.name);
    const desired = applyPatch(type, body, existing.map((e) => ({ ...e.spec })));
    if ('code' in desired) return desired;
    // Existing ones must come back unchanged, in place.
    for (const [i, e] of existing.entries()) {
      if (JSON.stringify(desired[i]) !== JSON.stringify(e.spec)) {
        return invalid(pod.name, 'spec.ephemeralContainers', `Forbidden: existing ephemeral containers "${e.container.name}" may not be changed`);
      }
    }
    const names = new Set([...pod.containers.map((c) => c.name), ...existing.map((e) => e.container.name)]);
    const added: { spec: Obj; container: ContainerSpec }[] = [];
    for (let i = existing.length; i < desired.length; i++) {
      const spec = desired[i] as Obj;
      const field = `spec.ephemeralContainers[${i}]`;
      if (typeof spec.name !== 'string' || spec.name === '') return invalid(pod.name, `${field}.name`, 'Required value');
      if (!NAME.test(spec.name) || spec.name.length > 63) return invalid(pod.name, `${field}.name`, `Invalid value: "${spec.name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`);
      if (names.has(spec.name)) return invalid(pod.name, `${field}.name`, `Duplicate value: "${spec.name}"`);
      if (typeof spec.image !== 'string' || spec.image === '') return invalid(pod.name, `${field}.image`, 'Required value');
      const tgt = spec.targetContainerName;
      if (tgt !== undefined && !pod.containers.some((c) => c.name === tgt)) return invalid(pod.name, `${field}.targetContainerName`, `Not found: "${String(tgt)}"`);
      names.add(spec.name);
      const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
      const command = [...strings(spec.command), ...strings(spec.args)];
      const container: ContainerSpec = {
        name: spec.name,
        image: spec.image,
        state: 'waiting',
        reason: 'ContainerCreating',
        target: 'process',
        tty: spec.tty === true,
        stdin: spec.stdin === true,
        // No command: the image's entrypoint, which for the debug images people use is a shell.
        command: command.length > 0 ? command : ['sh'],
      };
      added.push({ spec, container });
    }
    for (const a of added) {
      this.store.addEphemeral(ns, pod.name, { spec: a.spec, container: a.container, state: 'waiting', reason: 'ContainerCreating' });
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.mains.ensureStarted(ns, pod.name, a.container, true);
        this.store.setEphemeralState(ns, pod.name, a.container.name, 'running');
      }, EPHEMERAL_START_MS);
      this.#timers.add(timer);
    }
    return { code: 200, body: JSON.stringify(this.store.podView(ns, pod)) };
  }

  close(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
