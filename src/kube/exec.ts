/**
 * One exec stream into a container, opened with client-node's `Exec` and fully owned here.
 *
 * client-node (1.4, K8S-EXEC.md) leaves a lot for the caller to clean up: it adds `data`/`end`
 * listeners to stdin and a `resize` listener to stdout and never removes them, it has no close
 * handler, sends no pings, and closing the socket does not end the process. `ExecStream.close()`
 * is the one place that releases all of it.
 */
import { Exec, type KubeConfig } from '@kubernetes/client-node';
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import { Agent, type AgentOptions } from 'node:https';
import { PassThrough, Writable } from 'node:stream';
import { createSecureContext } from 'node:tls';
import WebSocket from 'ws';
import { PodtermError } from '../protocol/errors.js';
import { isKubeStatus, kubeErrorToPodterm, statusToError, type KubeStatus } from './errors.js';
import type { HeaderLines } from './request-headers.js';

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  tty: boolean;
  cols: number;
  rows: number;
}

export interface ExecSinks {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
  /** The Status on channel 3 (exit or failure). */
  status(status: KubeStatus): void;
  /** The exec socket is gone, whoever closed it. Called once. */
  closed(): void;
}

/**
 * One TLS agent per kubeconfig context, reused by every exec. client-node builds a fresh
 * https.Agent (and so a fresh SecureContext, parsing the CA again) for every exec, which also makes
 * TLS session resumption impossible; with one agent and one SecureContext per context, repeated
 * execs resume the TLS session instead of doing a full handshake.
 */
export class ExecAgents {
  readonly #byConfig = new WeakMap<KubeConfig, Agent>();

  /** Replaces the per-call agent client-node put in `opts` with the context's shared one. */
  adopt(kc: KubeConfig, opts: WebSocket.ClientOptions): void {
    const fresh = (opts as { agent?: unknown }).agent;
    if (!(fresh instanceof Agent)) return;
    let shared = this.#byConfig.get(kc);
    if (!shared) {
      const o = (fresh as unknown as { options: AgentOptions }).options;
      const secureContext = createSecureContext({ ca: o.ca, cert: o.cert, key: o.key, pfx: o.pfx, passphrase: o.passphrase });
      shared = new Agent({ ...o, secureContext, keepAlive: false, maxCachedSessions: 1024 });
      this.#byConfig.set(kc, shared);
    }
    fresh.destroy();
    (opts as { agent?: Agent }).agent = shared;
  }
}

/** stdout with `rows`/`columns`, so client-node starts its resize queue (terminal-size-queue.js). */
class TerminalOut extends Writable {
  rows: number;
  columns: number;
  constructor(cols: number, rows: number, sink: (b: Buffer) => void) {
    super({
      write(chunk: Buffer, _enc, cb) {
        sink(chunk);
        cb();
      },
    });
    this.rows = rows;
    this.columns = cols;
  }
}

const MAX_ERROR_BODY = 64 * 1024;
const HANDSHAKE_TIMEOUT_MS = 15_000;
/** How long close() waits for the API server's close frame before dropping the TCP connection. */
const CLOSE_HANDSHAKE_MS = 1000;

type State = 'open' | 'closing' | 'closed';

export class ExecStream {
  #state: State = 'open';
  readonly #ws: WebSocket;
  readonly #stdin: PassThrough;
  readonly #stdout: TerminalOut;
  readonly #stderr: Writable;
  readonly #exec: Exec;
  #closed: Promise<void>;
  #paused = false;
  #released = false;

  private constructor(ws: WebSocket, exec: Exec, stdin: PassThrough, stdout: TerminalOut, stderr: Writable, sinks: ExecSinks) {
    this.#ws = ws;
    this.#exec = exec;
    this.#stdin = stdin;
    this.#stdout = stdout;
    this.#stderr = stderr;
    this.#closed = new Promise((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) {
        this.#state = 'closed';
        resolve();
        queueMicrotask(() => sinks.closed());
        return;
      }
      ws.once('close', () => {
        this.#state = 'closed';
        resolve();
        sinks.closed();
      });
    });
    // A send after the peer went away, or an RST, surfaces here; 'close' follows.
    ws.on('error', () => undefined);
    // client-node throws from its message handler for frames it does not expect ("Unknown stream",
    // server-sent 255); wrap it so one odd frame fails this session, not the whole worker.
    const original = ws.onmessage;
    if (original) {
      ws.onmessage = (ev) => {
        try {
          original.call(ws, ev);
        } catch {
          sinks.status({ status: 'Failure', reason: 'InternalError', code: 500, message: 'unexpected frame' });
          void this.close();
        }
      };
    }
  }

  /**
   * Opens the exec; rejects with a PodtermError (NotFound, Forbidden, ContainerNotRunning...).
   * `signal` aborts an open in progress (the client left): the socket being opened is dropped.
   */
  static async open(kc: KubeConfig, req: ExecRequest, sinks: ExecSinks, signal: AbortSignal, agents?: ExecAgents, headers: HeaderLines = {}): Promise<ExecStream> {
    signal.throwIfAborted();
    // Capture the Status body of a refused upgrade: client-node only sees "Unexpected server response".
    const refused: { code?: number; status?: KubeStatus } = {};
    let socket: WebSocket | undefined;
    const factory = (uri: string, protocols: string[], opts: WebSocket.ClientOptions): WebSocket => {
      agents?.adopt(kc, opts);
      // Impersonation headers (act-as.ts) on the handshake, one line per value; nothing else
      // named Impersonate-* goes out.
      const merged: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) if (!/^impersonate-/i.test(k)) merged[k] = v;
      for (const [k, v] of Object.entries(headers)) merged[k] = [...v];
      opts.headers = merged as Record<string, string>;
      // client-node sets no handshake timeout; an API server that accepts TCP and never answers
      // would hold the session open forever.
      socket = new WebSocket(uri, protocols, { ...opts, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
      const s = socket;
      const onAbort = (): void => s.terminate();
      signal.addEventListener('abort', onAbort, { once: true });
      s.once('close', () => signal.removeEventListener('abort', onAbort));
      socket.once('unexpected-response', (_req, res) => {
        refused.code = res.statusCode;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < MAX_ERROR_BODY) body += d;
        });
        res.on('end', () => {
          try {
            const parsed: unknown = JSON.parse(body);
            if (isKubeStatus(parsed)) refused.status = parsed;
          } catch {
            // Not JSON (a bare 403 for an unsupported subprotocol): the HTTP code is all we have.
          }
          socket?.terminate();
        });
        res.on('error', () => socket?.terminate());
      });
      return socket;
    };
    const stdin = new PassThrough();
    const stdout = new TerminalOut(req.cols, req.rows, (b) => sinks.stdout(b));
    // Always pass stderr: with a null stream client-node throws on a stray channel-2 frame.
    const stderr = new Writable({
      write(chunk: Buffer, _enc, cb) {
        sinks.stderr(chunk);
        cb();
      },
    });
    const exec = new Exec(kc, new WebSocketHandler(kc, factory as never));
    let ws: WebSocket;
    try {
      ws = (await exec.exec(req.namespace, req.pod, req.container, req.command, stdout, stderr, stdin, req.tty, (s) => {
        sinks.status(s as KubeStatus);
      })) as unknown as WebSocket;
    } catch (err) {
      stdin.destroy();
      stdout.destroy();
      stderr.destroy();
      socket?.terminate();
      if (signal.aborted) throw new PodtermError('UpstreamUnavailable', 'The exec was cancelled while opening.');
      if (refused.code !== undefined) throw statusToError(refused.code, refused.status);
      throw kubeErrorToPodterm(err);
    }
    return new ExecStream(ws, exec, stdin, stdout, stderr, sinks);
  }

  get isOpen(): boolean {
    return this.#state === 'open' && this.#ws.readyState === WebSocket.OPEN;
  }

  /** Bytes queued towards the API server and not yet written to the socket. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  write(data: Uint8Array): void {
    if (!this.isOpen) return;
    this.#stdin.write(data);
  }

  /** Ends the process's stdin (v5: the close signal `[0xFF, 0]`); output and status still follow. */
  closeStdin(): void {
    if (this.isOpen) this.#stdin.end();
  }

  resize(cols: number, rows: number): void {
    if (!this.isOpen) return;
    this.#stdout.columns = cols;
    this.#stdout.rows = rows;
    this.#stdout.emit('resize');
  }

  /** Removes every listener client-node added (its resize queue included) and ends our streams. Idempotent. */
  #releaseStreams(): void {
    if (this.#released) return;
    this.#released = true;
    const queue = (this.#exec as unknown as { terminalSizeQueue?: { removeAllListeners(): void; destroy(): void } }).terminalSizeQueue;
    queue?.removeAllListeners();
    queue?.destroy();
    for (const s of [this.#stdin, this.#stdout, this.#stderr]) {
      s.removeAllListeners();
      s.destroy();
    }
  }

  /** Stops reading the exec socket, so TCP backpressure reaches the API server and the process. */
  pause(): void {
    if (this.#paused || this.#state !== 'open') return;
    this.#paused = true;
    this.#ws.pause();
  }

  resume(): void {
    if (!this.#paused || this.#state !== 'open') return;
    this.#paused = false;
    this.#ws.resume();
  }

  /** client-node sends no pings; an idle exec through a proxy would be cut without them. */
  ping(): void {
    if (this.isOpen) this.#ws.ping();
  }

  /**
   * Idempotent. Ends stdin with the v5 close frame `[0xFF, 0]` first (the process sees EOF), then
   * closes the socket, removes every listener client-node added, and resolves once the socket is gone.
   */
  close(): Promise<void> {
    // Also when the API server closed first: the listeners and streams go in every case.
    this.#releaseStreams();
    if (this.#state !== 'open') return this.#closed;
    this.#state = 'closing';
    const ws = this.#ws;
    if (ws.readyState === WebSocket.OPEN) {
      if (ws.protocol === 'v5.channel.k8s.io') ws.send(Buffer.from([0xff, 0]));
      if (this.#paused) ws.resume();
      ws.close(1000);
      const timer = setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_MS);
      void this.#closed.then(() => clearTimeout(timer));
    } else {
      ws.terminate();
    }
    return this.#closed;
  }
}

