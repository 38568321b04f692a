/**
 * `pods/{name}/attach`: validated like exec (same Status bodies, same channel protocols; it is
 * served by a second ExecHandler whose targets are attachments to the main process, see
 * main-process.ts). Differences from exec, as the kubelet has them:
 * - no command;
 * - the TTY is the container's, not the request's (kubelet GetAttach reads containerSpec.TTY:
 *   whether the process runs on a terminal cannot change after it started); with a TTY there is
 *   no separate stderr;
 * - stdin reaches the process only if the container was started with stdin (containerd ignores
 *   an attacher's stdin otherwise), and an attacher's stdin EOF does not close it (stdinOnce false).
 */
import { authorize, type Principal } from './auth.js';
import { pickContainer, queryBool, type ExecRequest } from './exec-request.js';
import type { ContainerSpec, Inventory, PodSpec } from './inventory.js';
import { findPod } from './inventory.js';
import { httpErrors, type HttpStatus } from './status.js';

const ATTACH_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/attach\/?$/;

export function matchAttachPath(pathname: string): { namespace: string; pod: string } | null {
  const m = ATTACH_PATH.exec(pathname);
  return m ? { namespace: decodeURIComponent(m[1] as string), pod: decodeURIComponent(m[2] as string) } : null;
}

export function resolveAttachRequest(
  inventory: Inventory,
  principal: Principal,
  method: string,
  target: { namespace: string; pod: string },
  params: URLSearchParams,
  extra: (pod: PodSpec) => readonly ContainerSpec[],
): ExecRequest | HttpStatus {
  // As for exec: a WebSocket GET is authorized as get, a SPDY POST as create.
  const verb = method === 'POST' ? 'create' : 'get';
  const denied = authorize(principal, { verb, resource: 'pods/attach', name: target.pod, namespace: target.namespace });
  if (denied) return denied;
  const pod = findPod(inventory, target.namespace, target.pod);
  if (!pod) return httpErrors.notFound('pods', target.pod);
  const container = pickContainer(pod, params.get('container') ?? '', extra(pod));
  if ('code' in container) return container;
  const stdin = queryBool(params, 'stdin');
  const stdout = queryBool(params, 'stdout');
  const stderrAsked = queryBool(params, 'stderr');
  if (!stdin && !stdout && !stderrAsked) return httpErrors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  const tty = container.tty === true;
  return { namespace: target.namespace, pod, container, command: [], stdin, stdout, stderr: stderrAsked && !tty, tty };
}
