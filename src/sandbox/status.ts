/**
 * metav1.Status bodies, built with the field order Go's encoding/json uses for the struct
 * (kind, apiVersion, metadata, status, message, reason, details, code) so the bytes match a real
 * API server's. Two families: HTTP error bodies (with kind/apiVersion) and exec statuses on
 * channel 3 (without them; see K8S-EXEC.md "Status").
 */
export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly { readonly reason?: string; readonly message?: string; readonly field?: string }[];
}

export interface HttpStatus {
  readonly code: number;
  readonly body: string;
}

export function httpStatus(code: number, reason: string, message: string, details?: StatusDetails): HttpStatus {
  const obj: Record<string, unknown> = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason };
  if (details) obj.details = details;
  obj.code = code;
  return { code, body: JSON.stringify(obj) };
}

export const httpErrors = {
  unauthorized: (): HttpStatus => httpStatus(401, 'Unauthorized', 'Unauthorized'),
  /**
   * responsewriters.Forbidden's wording (k8s.io/apiserver endpoints/handlers/responsewriters/errors.go,
   * then apierrors.NewForbidden); `ns` undefined or '' means a cluster-scoped request, `group` the API group.
   */
  forbidden(user: string, verb: string, resource: string, name: string | undefined, ns: string | undefined, group = '', reason = ''): HttpStatus {
    const kind = resource.split('/')[0] as string;
    const qualified = group === '' ? kind : `${kind}.${group}`;
    const subject = name === undefined || name === '' ? qualified : `${qualified} ${JSON.stringify(name)}`;
    const scope = ns === undefined || ns === '' ? 'at the cluster scope' : `in the namespace ${JSON.stringify(ns)}`;
    const why = reason === '' ? '' : `: ${reason}`;
    const message = `${subject} is forbidden: User ${JSON.stringify(user)} cannot ${verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(group)} ${scope}${why}`;
    const details: StatusDetails = { ...(name === undefined || name === '' ? {} : { name }), ...(group === '' ? {} : { group }), kind };
    return httpStatus(403, 'Forbidden', message, details);
  },
  /** The same for a non-resource URL: `forbidden: User "u" cannot get path "/x"`. */
  forbiddenPath: (user: string, verb: string, path: string): HttpStatus =>
    httpStatus(403, 'Forbidden', `forbidden: User ${JSON.stringify(user)} cannot ${verb} path ${JSON.stringify(path)}`, {}),
  notFound: (kind: string, name: string): HttpStatus =>
    httpStatus(404, 'NotFound', `${kind} "${name}" not found`, { name, kind }),
  badRequest: (message: string): HttpStatus => httpStatus(400, 'BadRequest', message),
  methodNotAllowed: (): HttpStatus => httpStatus(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
  pathNotFound: (): HttpStatus => httpStatus(404, 'NotFound', 'the server could not find the requested resource'),
};

/** The exec outcome, before it is encoded for one protocol. */
export type ExecOutcome =
  | { readonly kind: 'success' }
  | { readonly kind: 'exit'; readonly code: number; readonly command: readonly string[] }
  | { readonly kind: 'internal'; readonly message: string };

/** Channel-3 JSON used by v4/v5 (and their base64 form), byte-exact with the kubelet's. */
export function execStatusJson(outcome: ExecOutcome): string {
  switch (outcome.kind) {
    case 'success':
      return '{"metadata":{},"status":"Success"}';
    case 'exit':
      return JSON.stringify({
        metadata: {},
        status: 'Failure',
        message: execStatusText(outcome),
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: String(outcome.code) }] },
      });
    case 'internal':
      return JSON.stringify({
        metadata: {},
        status: 'Failure',
        message: execStatusText(outcome),
        reason: 'InternalError',
        details: { causes: [{ message: outcome.message }] },
        code: 500,
      });
  }
}

/** Plain-text status for channel.k8s.io and base64.channel.k8s.io: the message, nothing on success. */
export function execStatusText(outcome: ExecOutcome): string {
  switch (outcome.kind) {
    case 'success':
      return '';
    case 'exit':
      // Go formats the []string as [a b c]; this is what containerd-backed kubelets print.
      return `command terminated with non-zero exit code: error executing command [${outcome.command.join(' ')}], exit code ${outcome.code}`;
    case 'internal':
      return `Internal error occurred: ${outcome.message}`;
  }
}
