/**
 * One interface over the three ways the bench reaches a process in a pod, so every driver (typists,
 * flood, churn, idle) runs unchanged against podterm, kubectl-per-session and the no-gateway floor.
 */

export interface Target {
  namespace: string;
  pod: string;
  container?: string;
  /** Command and arguments; absent = the pod's default (podterm picks the shell). */
  command?: string[];
}

/** How to reach the target. */
export type Conn =
  | { kind: 'podterm'; wsUrl: string; token: string }
  | { kind: 'floor'; kubeconfig: string }
  | { kind: 'tls-ws'; kubeconfig: string }
  | { kind: 'kubectl'; kubeconfig: string };

export interface EndInfo {
  exitCode: number | null;
  /** WebSocket close code, when there was a socket. */
  closeCode?: number;
  /** Set when the session failed rather than ended (error frame, socket error, spawn failure). */
  error?: string;
}

export interface BenchSession {
  /** Resolves when the exec is established (podterm: the Started frame). Rejects if it fails first. */
  readonly started: Promise<void>;
  /** Resolves once the session is over, whatever the reason; never rejects. */
  readonly ended: Promise<EndInfo>;
  /** Output sink; set by the driver. Called with stdout (and merged stderr) bytes. */
  onData: (chunk: Uint8Array) => void;
  write(bytes: Uint8Array): void;
  /** Stop reading from the transport (TCP backpressure builds up behind it). */
  pauseReading(): void;
  resumeReading(): void;
  /** The client drops the session. `abrupt` = no close handshake (a browser tab killed). */
  close(abrupt?: boolean): void;
  /** OS process backing this session on the client side (kubectl), for RSS sums. */
  readonly pid?: number;
}

export function noop(): void {}

/** A promise that also exposes resolve/reject: the sessions settle them from socket events. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A session that fails before anyone awaits `started` must not crash the agent.
  promise.catch(noop);
  return { promise, resolve, reject };
}
