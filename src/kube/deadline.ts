/**
 * Every call to the Kubernetes API is bounded (issue 8 items 2 and 7): it ends when the API server
 * answers, when the session's signal aborts, or after `timeoutMs`, whichever comes first, and the
 * caller is released at once even if the call itself ignores its signal (an exec credential plugin,
 * a TLS handshake that never completes). Nothing here keeps a timer or listener past the call.
 */
import { PodtermError } from '../protocol/errors.js';

/** `--kube-timeout-ms` default. */
export const DEFAULT_KUBE_TIMEOUT_MS = 10_000;

export function kubeTimeoutError(timeoutMs: number): PodtermError {
  const s = timeoutMs >= 1000 ? String(Math.round(timeoutMs / 100) / 10) : String(timeoutMs / 1000);
  return new PodtermError('UpstreamUnavailable', `The Kubernetes API server did not answer within ${s} s.`);
}

/** The rejection of a call the session abandoned: the session is closing, nobody shows it. */
export function cancelledError(signal: AbortSignal): PodtermError {
  return signal.reason instanceof PodtermError ? signal.reason : new PodtermError('UpstreamUnavailable', 'The request was cancelled.');
}

/**
 * Runs `fn` with a signal that aborts on `signal` or after `timeoutMs`. Rejects with the timeout's
 * UpstreamUnavailable, or with cancelledError() when `signal` aborted, as soon as either happens;
 * `fn` must release what it holds when its signal aborts (it is not aborted after success).
 */
export async function withDeadline<T>(timeoutMs: number, signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (signal?.aborted) throw cancelledError(signal);
  const ctl = new AbortController();
  let onStop!: () => void;
  const stopped = new Promise<never>((_resolve, reject) => {
    onStop = () => reject(ctl.signal.reason as unknown);
  });
  // The race below may settle through `fn`; the stopped promise must never be an unhandled rejection.
  stopped.catch(() => undefined);
  ctl.signal.addEventListener('abort', onStop, { once: true });
  const timer = setTimeout(() => ctl.abort(kubeTimeoutError(timeoutMs)), timeoutMs);
  const onOuterAbort = (): void => ctl.abort(cancelledError(signal as AbortSignal));
  signal?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    return await Promise.race([fn(ctl.signal), stopped]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onOuterAbort);
    ctl.signal.removeEventListener('abort', onStop);
  }
}
