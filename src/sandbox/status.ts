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

function httpStatus(code: number, reason: string, message: string, details?: StatusDetails): HttpStatus {
  const obj: Record<string, unknown> = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason };
  if (details) obj.details = details;
  obj.code = code;
  return { code, body: JSON.stringify(obj) };
}

export const httpErrors = {
  unauthorized: (): HttpStatus => httpStatus(401, 'Unauthorized', 'Unauthorized'),
  /** RBAC's wording; `ns` undefined means a cluster-scoped request. */
  forbidden(user: string, verb: string, resource: string, name: string | undefined, ns: string | undefined): HttpStatus {
    const kind = resource.split('/')[0] as string;
    const subject = name === undefined ? kind : `${kind} "${name}"`;
    const scope = ns === undefined ? 'at the cluster scope' : `in the namespace "${ns}"`;
    const message = `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "" ${scope}`;
    const details: StatusDetails = name === undefined ? { kind } : { name, kind };
    return httpStatus(403, 'Forbidden', message, details);
  },
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
