/**
 * One exec (or attach) stream into a container: podterm's own WebSocket client for
 * `pods/{pod}/exec` and `pods/{pod}/attach` over the v5/v4 channel protocols (channel-codec.ts),
 * authenticated and TLS-configured through client-node's public KubeConfig API (exec-agents.ts).
 * `ExecStream.close()` is the one teardown path; nothing here throws out of a socket handler.
 *
 * Flow control (issue 8 item 6): pause() does not stop reading the socket at once. Frames that
 * arrive while paused are parked, up to PARK_LIMIT bytes; only beyond that is the socket paused, so
 * TCP backpressure reaches the API server and the process. A status and the server's close frame
 * that follow a small tail are therefore read (and the close handshake answered) while paused, and
 * delivered in order on resume(). Per session the parked bytes stay below PARK_LIMIT + one socket
 * read (64 KiB) + one frame (MAX_FRAME_BYTES).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { PodtermError } from '../protocol/errors.js';
import { CHANNEL, decodeServerFrame, encodeCloseStdin, encodeFrame, encodeResize, type ServerFrame } from './channel-codec.js';
import { withDeadline } from './deadline.js';
import { ExecAgents } from './exec-agents.js';
import type { KubeStatus } from './errors.js';
import type { HeaderLines } from './request-headers.js';
import { connect, MAX_FRAME_BYTES } from './exec-handshake.js';
import { waiter, type Waiter } from '../lib/waiter.js';

export { ExecAgents, MAX_FRAME_BYTES };

export interface ExecRequest {
  /** `exec` runs `command`; `attach` joins the container's main process (same channels). */
  kind: 'exec' | 'attach';
  namespace: string;
  pod: string;
  container: string;
  /** Ignored for attach. */
  command: readonly string[];
  tty: boolean;
}

export interface ExecSinks {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
  /** The Status on channel 3 (exit or failure); at most once. */
  status(status: KubeStatus): void;
  /** The server broke the protocol (a frame no server sends); close() follows. */
  failed(error: PodtermError): void;
  /** The exec socket is gone, whoever closed it, and everything parked was delivered. Called once. */
  closed(): void;
}

export interface ExecOpenOptions {
  /** Aborts an open in progress (the client left); the socket being opened is dropped. */
  signal: AbortSignal;
  /** Bound on credentials plus the WebSocket handshake (`--kube-timeout-ms`). */
  timeoutMs: number;
  agents?: ExecAgents;
  /** Impersonation headers (act-as.ts), one header line per value. */
  headers?: HeaderLines;
}

/** Frames parked while paused before the socket itself is paused. */
export const PARK_LIMIT = 128 * 1024;
/** How long close() waits for the API server's close frame before dropping the TCP connection. */
const CLOSE_HANDSHAKE_MS = 1000;

/** `wss://host[/prefix]/api/v1/namespaces/NS/pods/POD/exec?...` from the context's cluster. */
export function execUrl(server: string, req: ExecRequest): string {
  const url = new URL(server);
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  const prefix = url.pathname.replace(/\/+$/, '');
  url.pathname = `${prefix}/api/v1/namespaces/${encodeURIComponent(req.namespace)}/pods/${encodeURIComponent(req.pod)}/${req.kind}`;
  const q = new URLSearchParams();
  if (req.kind === 'exec') for (const c of req.command) q.append('command', c);
  q.set('container', req.container);
  q.set('stdin', 'true');
  q.set('stdout', 'true');
  // As kubectl: a terminal merges stderr into stdout, and the server drops stderr with tty anyway.
  q.set('stderr', String(!req.tty));
  q.set('tty', String(req.tty));
  url.search = q.toString();
  return url.toString();
}

/** Our impersonation headers on the handshake, one line per value; no other Impersonate-* goes out. */
function withHeaders(opts: WebSocket.ClientOptions, headers: HeaderLines): WebSocket.ClientOptions {
  const merged: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (!/^impersonate-/i.test(k)) merged[k] = v;
  for (const [k, v] of Object.entries(headers)) merged[k] = [...v];
  return { ...opts, headers: merged as Record<string, string> };
}

type State = 'open' | 'closing' | 'closed';

/** After 'error', ws emits 'close': the one place the stream ends. Shared, not one closure per stream. */
function ignoreError(): void {}

export class ExecStream {
  #state: State = 'open';
  readonly #ws: WebSocket;
  readonly #sinks: ExecSinks;
  /** Settles once the socket is gone; made only when close() waits for it (an idle stream keeps none). */
  #gone: Waiter | undefined;
  #paused = false;
  #socketPaused = false;
  #draining = false;
  #parked: ServerFrame[] = [];
  #parkedBytes = 0;
  #statusSeen = false;
  /** The socket closed while frames were parked: closed() waits until they are delivered. */
  #closePending = false;
  #closedNotified = false;

  private constructor(ws: WebSocket, sinks: ExecSinks) {
    this.#ws = ws;
    this.#sinks = sinks;
    ws.on('close', this.#onClose);
    // A send after the peer went away, or an RST, surfaces here; 'close' follows.
    ws.on('error', ignoreError);
    ws.on('message', this.#onSocketMessage);
  }

  readonly #onSocketMessage = (data: Buffer, isBinary: boolean): void => this.#onMessage(data, isBinary);

  readonly #onClose = (): void => {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    // ws emits nothing after 'close'.
    this.#ws.removeAllListeners();
    this.#gone?.resolve();
    this.#closePending = true;
    this.#notifyClosed();
  };

  /** Resolves once the socket is gone. */
  #closed(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    this.#gone ??= waiter();
    return this.#gone.promise;
  }

  /** Opens the stream; rejects with a PodtermError (NotFound, Forbidden, UpstreamUnavailable...). */
  static async open(kc: KubeConfig, req: ExecRequest, sinks: ExecSinks, o: ExecOpenOptions): Promise<ExecStream> {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new PodtermError('Internal', 'The kubeconfig context names no cluster.');
    const url = execUrl(cluster.server, req);
    const agents = o.agents ?? new ExecAgents();
    const headers = o.headers ?? {};
    let stream: ExecStream | undefined;
    try {
      return await withDeadline(o.timeoutMs, o.signal, async (signal) => {
        const opts = await agents.options(kc).then((o) => withHeaders(o, headers)).catch((err: unknown) => {
          // A failing exec credential plugin or an unreadable certificate file: not our bug.
          throw new PodtermError('UpstreamUnavailable', 'The credentials of this kubeconfig context could not be loaded.', { cause: err });
        });
        signal.throwIfAborted();
        // The stream takes the socket inside 'open': frames that came with the 101 are not missed.
        stream = await connect(url, opts, signal, (ws) => new ExecStream(ws, sinks));
        return stream;
      });
    } catch (err) {
      // Aborted in the instant between 'open' and the caller getting the stream: drop it here.
      void stream?.close();
      throw err;
    }
  }

  get isOpen(): boolean {
    return this.#state === 'open' && this.#ws.readyState === WebSocket.OPEN;
  }

  /** The negotiated subprotocol (v5 or v4). */
  get protocol(): string {
    return this.#ws.protocol;
  }

  /** Bytes queued towards the API server and not yet written to the socket. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** Output frames held while paused (for tests and the memory bound). */
  get parkedBytes(): number {
    return this.#parkedBytes;
  }

  /** The socket, for listener-count tests only. */
  get socketForTest(): WebSocket {
    return this.#ws;
  }

  write(data: Uint8Array): void {
    if (this.isOpen) this.#ws.send(encodeFrame(CHANNEL.stdin, data));
  }

  /**
   * Ends the process's stdin (v5: the close signal `[0xFF, 0]`); output and status still follow.
   * v4 has no such signal: false, and the caller must close the stream instead.
   */
  closeStdin(): boolean {
    if (!this.isOpen || this.#ws.protocol !== 'v5.channel.k8s.io') return false;
    this.#ws.send(encodeCloseStdin());
    return true;
  }

  /** Sent at once; the session's ResizeCoalescer decides the rate. */
  resize(cols: number, rows: number): void {
    if (this.isOpen) this.#ws.send(encodeResize(cols, rows));
  }

  /** Keeps the exec alive through proxies; the API server answers pings. */
  ping(): void {
    if (this.isOpen) this.#ws.ping();
  }

  /** Holds output (parks it, then stops reading the socket beyond PARK_LIMIT). */
  pause(): void {
    if (this.#state !== 'open') return;
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#drain();
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (this.#state !== 'open' || this.#statusSeen) return; // nothing is owed after the status
    const frame = decodeServerFrame(data, isBinary);
    if (frame.kind === 'skip') return;
    if (frame.kind === 'invalid') {
      this.#sinks.failed(new PodtermError('UpstreamUnavailable', `The Kubernetes API server sent an exec frame podterm cannot read (${frame.reason}).`));
      void this.close();
      return;
    }
    if (frame.kind === 'status') this.#statusSeen = true;
    if (this.#paused || this.#parked.length > 0) {
      this.#parked.push(frame);
      if (frame.kind !== 'status') this.#parkedBytes += frame.data.length;
      if (this.#parkedBytes > PARK_LIMIT && !this.#socketPaused) {
        this.#socketPaused = true;
        this.#ws.pause();
      }
      return;
    }
    this.#deliver(frame);
  }

  #deliver(frame: ServerFrame): void {
    switch (frame.kind) {
      case 'stdout':
        this.#sinks.stdout(frame.data);
        return;
      case 'stderr':
        this.#sinks.stderr(frame.data);
        return;
      case 'status':
        this.#sinks.status(frame.status);
        return;
      default:
        return;
    }
  }

  /** Delivers parked frames in order until paused again; then reads the socket again. */
  #drain(): void {
    if (this.#draining) return; // a sink that pauses and resumes re-enters here
    this.#draining = true;
    try {
      while (!this.#paused && this.#parked.length > 0) {
        const frame = this.#parked.shift() as ServerFrame;
        if (frame.kind === 'stdout' || frame.kind === 'stderr') this.#parkedBytes -= frame.data.length;
        this.#deliver(frame);
      }
    } finally {
      this.#draining = false;
    }
    if (this.#paused) return;
    if (this.#socketPaused) {
      this.#socketPaused = false;
      if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CLOSING) this.#ws.resume();
    }
    this.#notifyClosed();
  }

  #notifyClosed(): void {
    if (!this.#closePending || this.#closedNotified || this.#parked.length > 0) return;
    this.#closedNotified = true;
    this.#sinks.closed();
  }

  /**
   * Idempotent. Ends stdin with the v5 close signal `[0xFF, 0]` first (the process sees EOF), then
   * closes the socket and resolves once it is gone. Parked output is dropped: the owner is closing.
   */
  close(): Promise<void> {
    this.#parked = [];
    this.#parkedBytes = 0;
    this.#paused = false;
    if (this.#state !== 'open') return this.#closed();
    this.#state = 'closing';
    const ws = this.#ws;
    if (ws.readyState === WebSocket.OPEN) {
      if (ws.protocol === 'v5.channel.k8s.io') ws.send(encodeCloseStdin());
      // The server's close frame must be read for the handshake to finish.
      if (this.#socketPaused) ws.resume();
      ws.close(1000);
      const timer = setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_MS);
      void this.#closed().then(() => clearTimeout(timer));
    } else {
      ws.terminate();
    }
    return this.#closed();
  }
}
