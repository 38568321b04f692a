/**
 * The exec endpoint at the HTTP layer: authentication, authorization, validation and protocol choice
 * before the upgrade (so failures are the same Status bodies a real API server sends), then the
 * WebSocket handshake via `ws` (noServer, no permessage-deflate) and an ExecSession per stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Authenticator, Principal } from './auth.js';
import { negotiateProtocol, type ExecProtocol } from './channel-codec.js';
import { isHttpStatus, resolveExecRequest, type ExecRequest } from './exec-request.js';
import { ExecSession, type SessionDeps } from './exec-session.js';
import type { Inventory } from './inventory.js';
import { httpErrors, type HttpStatus } from './status.js';

export interface ExecHandlerDeps extends SessionDeps {
  readonly inventory: Inventory;
  readonly auth: Authenticator;
  /** Validates the request (default: pods/exec); the attach endpoint brings its own. */
  /** The subprotocols this server accepts (default: all of them; PRE_V5_PROTOCOLS: an older cluster). */
  readonly protocols?: readonly ExecProtocol[];
  resolve?(principal: Principal, method: string, target: { namespace: string; pod: string }, params: URLSearchParams): ExecRequest | HttpStatus;
}

/** Raw-socket answers get this long to flush before the socket is destroyed. */
const REJECT_LINGER_MS = 1000;

export class ExecHandler {
  readonly #wss: WebSocketServer;
  readonly #chosen = new WeakMap<IncomingMessage, ExecProtocol>();
  readonly #sessions = new Set<ExecSession>();
  readonly #rawSockets = new Set<Duplex>();
  #state: 'open' | 'closing' = 'open';

  constructor(readonly deps: ExecHandlerDeps) {
    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      // Protocols were negotiated from the raw header before the upgrade; echo that choice.
      handleProtocols: (_offered, req) => this.#chosen.get(req) || false,
    });
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Non-upgrade request to the exec path (a plain GET/POST): validate, then 400 Upgrade request required. */
  handlePlain(req: IncomingMessage, res: ServerResponse, target: { namespace: string; pod: string }, url: URL): void {
    const checked = this.#check(req, target, url);
    const status = isHttpStatus(checked) ? checked : httpErrors.badRequest('Upgrade request required');
    res.writeHead(status.code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.end(status.body);
  }

  /** An HTTP upgrade (WebSocket or SPDY) to the exec path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: { namespace: string; pod: string }, url: URL): void {
    socket.on('error', () => socket.destroy());
    if (this.#state !== 'open') return this.reject(socket, 503, '');
    const checked = this.#check(req, target, url);
    if (isHttpStatus(checked)) return this.reject(socket, checked.code, checked.body);
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      // kubectl falls back to SPDY when the WebSocket attempt fails; the sandbox does not speak
      // SPDY, so the fallback gets a Status error that kubectl prints.
      const proto = req.headers.upgrade ?? '';
      const s = httpErrors.badRequest(`unable to upgrade connection: ${proto} is not supported by the podterm sandbox; use a WebSocket exec (v5.channel.k8s.io)`);
      return this.reject(socket, s.code, s.body);
    }
    const header = req.headers['sec-websocket-protocol'];
    const protocol = negotiateProtocol(Array.isArray(header) ? header.join(',') : header, this.deps.protocols);
    // Only protocols this server does not speak (v2/v3, or v5 alone on an older cluster): a bare
    // 403 with an empty body, as the API server sends.
    if (protocol === null) return this.reject(socket, 403, '');
    this.#chosen.set(req, protocol);
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#open(ws, protocol, checked));
  }

  #open(ws: WebSocket, protocol: ExecProtocol, req: ExecRequest): void {
    if (this.#state !== 'open') {
      ws.terminate();
      return;
    }
    const session = new ExecSession(ws, protocol, req, this.deps);
    this.#sessions.add(session);
    void session.closed.then(() => this.#sessions.delete(session));
  }

  #check(req: IncomingMessage, target: { namespace: string; pod: string }, url: URL): ExecRequest | HttpStatus {
    const principal = this.deps.auth.authenticate(req.headers);
    if (!principal) return httpErrors.unauthorized();
    if (this.deps.resolve) return this.deps.resolve(principal, req.method ?? 'GET', target, url.searchParams);
    return resolveExecRequest(this.deps.inventory, principal, req.method ?? 'GET', target, url.searchParams);
  }

  /** Writes a complete HTTP response on a not-yet-upgraded socket and closes it. */
  reject(socket: Duplex, code: number, body: string): void {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    this.#rawSockets.add(socket);
    socket.once('close', () => this.#rawSockets.delete(socket));
    const headers = [
      `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}`,
      ...(body === '' ? [] : ['Content-Type: application/json', 'Cache-Control: no-cache, private']),
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
    ];
    socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
    socket.once('end', () => socket.destroy());
    setTimeout(() => socket.destroy(), REJECT_LINGER_MS).unref();
  }

  /** Ends every exec stream (each kills and reaps its process) and refuses new ones. */
  async close(): Promise<void> {
    this.#state = 'closing';
    for (const s of this.#rawSockets) s.destroy();
    await Promise.all([...this.#sessions].map((s) => s.close('sandbox shutting down', 1001)));
    this.#wss.close();
  }
}
