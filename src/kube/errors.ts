/**
 * Kubernetes `Status` failures -> our ErrorCodes (STYLE.md 6: mapped once, here). The user sees our
 * text, never the API server's raw message, except for the few cases where its words name the
 * missing object and carry no secret.
 */
import { PodtermError } from '../protocol/errors.js';

/** The parts of a metav1.Status we look at. */
export interface KubeStatus {
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: Array<{ reason?: string; message?: string }> };
}

// A real kubelet and the sandbox both word "container not running" in several ways
// (K8S-EXEC.md: 101 then InternalError `container not found ("c")`, or 400 before the upgrade).
const NOT_RUNNING = /container not found|is waiting to start|CrashLoopBackOff|is not running|terminated|completed pod|cannot exec into a container in a completed pod/i;
// `container C is not valid for pod P` is how the API server says the container does not exist.
const NO_SUCH_CONTAINER = /container .* is not valid for pod/i;

export function isKubeStatus(v: unknown): v is KubeStatus {
  return typeof v === 'object' && v !== null && ('status' in v || 'reason' in v || 'code' in v);
}

/** Maps an HTTP status plus an optional Status body to a PodtermError. */
export function statusToError(httpCode: number | undefined, status: KubeStatus | undefined): PodtermError {
  const code = status?.code ?? httpCode;
  const message = status?.message ?? '';
  const reason = status?.reason ?? '';
  if (NO_SUCH_CONTAINER.test(message)) return new PodtermError('NotFound', 'The container does not exist in this pod.');
  if (NOT_RUNNING.test(message)) return new PodtermError('ContainerNotRunning');
  if (code === 401 || reason === 'Unauthorized') return new PodtermError('Unauthorized', 'Kubernetes did not accept the credentials of this context.');
  if (code === 403 || reason === 'Forbidden') return new PodtermError('Forbidden');
  if (code === 404 || reason === 'NotFound') return new PodtermError('NotFound');
  if (code === 400 && /container name must be specified/i.test(message)) {
    return new PodtermError('BadRequest', 'This pod has several containers; choose one.');
  }
  if (code !== undefined && code >= 500) return new PodtermError('UpstreamUnavailable');
  return new PodtermError('UpstreamUnavailable', 'Kubernetes refused the request.');
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN', 'EPROTO', 'UND_ERR_SOCKET']);
// TLS failures (unknown CA, expired or mismatched certificate) are the server's or the kubeconfig's,
// not podterm's.
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_)/;
// ws's handshake failures: the server answered something that is not a WebSocket upgrade.
const WS_HANDSHAKE = /^(Unexpected server response|Invalid Sec-WebSocket|Server sent|Opening handshake has timed out|Socket hang up|socket hang up)/i;

/** This process ran out of descriptors (EMFILE, or the system's ENFILE), here or in a cause. */
function isOutOfDescriptors(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const e = err as { code?: unknown; errno?: unknown; cause?: unknown };
  // node-fetch's FetchError keeps the system error's code in `errno`.
  if (e.code === 'EMFILE' || e.code === 'ENFILE' || e.errno === 'EMFILE' || e.errno === 'ENFILE') return true;
  return isOutOfDescriptors(e.cause, depth + 1);
}

/** A failure of the network or of the API server, as opposed to a bug of ours. */
function isUpstreamFailure(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || TLS_CODE.test(e.code))) return true;
  // node-fetch (client-node's HTTP library) wraps system errors in a FetchError.
  if (e.name === 'FetchError') return true;
  if (typeof e.message === 'string' && WS_HANDSHAKE.test(e.message)) return true;
  return isUpstreamFailure(e.cause, depth + 1);
}

/**
 * Anything a client-node call or the exec handshake threw -> PodtermError. Only Kubernetes answers
 * and network or TLS failures become UpstreamUnavailable; anything else is our own bug: Internal.
 */
export function kubeErrorToPodterm(err: unknown): PodtermError {
  if (err instanceof PodtermError) return err;
  const e = err as { code?: unknown; body?: unknown } | null;
  // client-node's ApiException: the HTTP status and the Status body.
  if (e && typeof e.code === 'number') {
    let body: unknown = e.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        body = undefined;
      }
    }
    return statusToError(e.code, isKubeStatus(body) ? body : undefined);
  }
  // This process is out of descriptors (a socket could not even be made): a capacity limit, said as one.
  if (isOutOfDescriptors(err)) return new PodtermError('TooManySessions', 'The server has no file descriptors left for another session; try again later.', { cause: err });
  if (isUpstreamFailure(err)) return new PodtermError('UpstreamUnavailable', undefined, { cause: err });
  return new PodtermError('Internal', undefined, { cause: err });
}
