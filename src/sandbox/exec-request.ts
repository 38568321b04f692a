/**
 * Turns an exec request URL into a validated ExecRequest, or the Status a real API server would
 * answer before any upgrade: 403 (RBAC), 404 (pod), 400 (container, streams, command). Pure.
 * Order follows the API server: authorize, load the pod, resolve the container, then the options.
 */
import { authorize, type Principal } from './auth.js';
import type { ContainerSpec, Inventory, PodSpec } from './inventory.js';
import { findPod } from './inventory.js';
import { httpErrors, type HttpStatus } from './status.js';

export interface ExecRequest {
  readonly namespace: string;
  readonly pod: PodSpec;
  readonly container: ContainerSpec;
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly stdout: boolean;
  /** Already false when tty is true: a terminal has one output stream. */
  readonly stderr: boolean;
  readonly tty: boolean;
}

const EXEC_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec\/?$/;

export function matchExecPath(pathname: string): { namespace: string; pod: string } | null {
  const m = EXEC_PATH.exec(pathname);
  return m ? { namespace: decodeURIComponent(m[1] as string), pod: decodeURIComponent(m[2] as string) } : null;
}

/**
 * apimachinery's Convert_Slice_string_To_bool: absent is false; the first value "0" or "false" in
 * any case is false; anything else, the empty string included, is true.
 */
export function queryBool(params: URLSearchParams, name: string): boolean {
  const values = params.getAll(name);
  if (values.length === 0) return false;
  const v = values[0] as string;
  return !(v === '0' || v.toLowerCase() === 'false');
}

/**
 * The API server's validateContainer (pkg/registry/core/pod/strategy.go): the only container when
 * none is named; the choices listed cover every container, ephemeral ones (`extra`) included.
 */
export function pickContainer(pod: PodSpec, requested: string, extra: readonly ContainerSpec[] = []): ContainerSpec | HttpStatus {
  const all = [...pod.containers, ...extra];
  if (requested === '') {
    // The API server does not read kubectl.kubernetes.io/default-container; kubectl does that itself.
    if (pod.containers.length === 1) return pod.containers[0] as ContainerSpec;
    const names = all.map((c) => c.name).join(' ');
    return httpErrors.badRequest(`a container name must be specified for pod ${pod.name}, choose one of: [${names}]`);
  }
  return all.find((c) => c.name === requested) ?? httpErrors.badRequest(`container ${requested} is not valid for pod ${pod.name}`);
}

export function resolveExecRequest(
  inventory: Inventory,
  principal: Principal,
  method: string,
  target: { namespace: string; pod: string },
  params: URLSearchParams,
  /** Ephemeral containers of the pod, with their current state. */
  extra: (pod: PodSpec) => readonly ContainerSpec[] = () => [],
): ExecRequest | HttpStatus {
  // kube-apiserver authorizes a WebSocket GET as verb get, a SPDY POST as create; a WebSocket GET
  // must also be allowed create (AuthorizePodWebsocketUpgradeCreatePermission, beta since 1.35).
  const verb = method === 'POST' ? 'create' : 'get';
  const access = { resource: 'pods/exec', name: target.pod, namespace: target.namespace };
  const denied = authorize(principal, { verb, ...access }) ?? (verb === 'get' ? authorize(principal, { verb: 'create', ...access }) : null);
  if (denied) return denied;
  const pod = findPod(inventory, target.namespace, target.pod);
  if (!pod) return httpErrors.notFound('pods', target.pod);
  const container = pickContainer(pod, params.get('container') ?? '', extra(pod));
  if ('code' in container) return container;
  const tty = queryBool(params, 'tty');
  const stdin = queryBool(params, 'stdin');
  const stdout = queryBool(params, 'stdout');
  const stderr = queryBool(params, 'stderr') && !tty;
  if (!stdin && !stdout && !queryBool(params, 'stderr')) {
    return httpErrors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  }
  const command = params.getAll('command');
  if (command.length === 0) return httpErrors.badRequest('you must specify at least one command for the container');
  return { namespace: target.namespace, pod, container, command, stdin, stdout, stderr, tty };
}

export function isHttpStatus(v: ExecRequest | HttpStatus): v is HttpStatus {
  return 'body' in v && 'code' in v;
}
