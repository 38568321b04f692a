/**
 * Connection options for exec WebSockets, from client-node's public KubeConfig API
 * (`applyToHTTPSOptions`: CA, client certificate, skip-verify, TLS server name, bearer token, exec
 * credential plugins, auth providers, basic auth, impersonation, proxies).
 *
 * One SecureContext per kubeconfig context and client certificate, reused by every exec:
 * `applyToHTTPSOptions` builds a fresh https.Agent (and so a fresh SecureContext, parsing the CA
 * again) on every call, which also makes TLS session resumption impossible. The exec sockets are
 * made by one `createConnection` per context, not by an https.Agent: an agent leaves on every
 * socket, for its whole life, listeners whose closures hold the request's whole option set, and
 * ws's own connect passes that whole set to tls.connect, which keeps it too (~1 KB per idle
 * session, issue 13). This one passes tls.connect only what the handshake needs and offers the
 * context's last TLS session, so repeated execs resume instead of doing a full handshake. A
 * session that fails to resume costs a full handshake, never the connection (RFC 8446 §2.2).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Agent, type AgentOptions } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { connect, createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';
import type WebSocket from 'ws';

/** What http.request passes to createConnection (ws set host and port from the URL). */
interface ConnectRequest {
  host?: string | null;
  port?: number | string | null;
}

class SharedTls {
  /** The client credentials it was built for: an exec plugin may rotate them. */
  readonly cert: unknown;
  readonly key: unknown;
  readonly #secureContext: SecureContext;
  readonly #servername: string | undefined;
  readonly #rejectUnauthorized: boolean | undefined;
  /** The last TLS session this API server gave, offered to the next connection. */
  #session: Buffer | undefined;

  constructor(o: AgentOptions) {
    this.cert = o.cert;
    this.key = o.key;
    this.#secureContext = createSecureContext({
      ca: o.ca, cert: o.cert, key: o.key, pfx: o.pfx, passphrase: o.passphrase,
      ciphers: o.ciphers, honorCipherOrder: o.honorCipherOrder, ecdhCurve: o.ecdhCurve, crl: o.crl,
      dhparam: o.dhparam, secureOptions: o.secureOptions, secureProtocol: o.secureProtocol, sessionIdContext: o.sessionIdContext,
    });
    this.#servername = o.servername;
    this.#rejectUnauthorized = o.rejectUnauthorized;
  }

  /** http.request's createConnection for ws: one per context, shared by every exec socket. */
  readonly connect = (req: ConnectRequest): Socket => {
    const host = req.host ?? 'localhost';
    const options: ConnectionOptions = {
      host,
      port: Number(req.port),
      secureContext: this.#secureContext,
      // As ws and https.Agent do: SNI with the host name (never an IP), unless tls-server-name says otherwise.
      servername: this.#servername ?? (isIP(host) ? '' : host),
      ...(this.#rejectUnauthorized !== undefined ? { rejectUnauthorized: this.#rejectUnauthorized } : {}),
      ...(this.#session ? { session: this.#session } : {}),
    };
    const socket = connect(options);
    socket.once('session', (session: Buffer) => (this.#session = session));
    return socket;
  };
}

export class ExecAgents {
  readonly #byConfig = new WeakMap<KubeConfig, SharedTls>();

  /** Options for `new WebSocket(url, protocols, options)` to the context's API server. */
  async options(kc: KubeConfig): Promise<WebSocket.ClientOptions> {
    const opts: WebSocket.ClientOptions = {};
    await kc.applyToHTTPSOptions(opts);
    this.#adopt(kc, opts);
    return opts;
  }

  /** Replaces the per-call agent client-node put in `opts` with the context's shared connect. */
  #adopt(kc: KubeConfig, opts: WebSocket.ClientOptions): void {
    const fresh = opts.agent;
    // Proxy agents (kubeconfig proxy-url) and plain-HTTP agents are used as they come.
    if (!(fresh instanceof Agent) || fresh.constructor !== Agent) return;
    const o = (fresh as unknown as { options: AgentOptions }).options;
    let shared = this.#byConfig.get(kc);
    if (shared && (!sameBytes(shared.cert, o.cert) || !sameBytes(shared.key, o.key))) shared = undefined;
    if (!shared) {
      shared = new SharedTls(o);
      this.#byConfig.set(kc, shared);
    }
    fresh.destroy();
    opts.agent = undefined;
    opts.createConnection = shared.connect as unknown as WebSocket.ClientOptions['createConnection'];
  }
}

function sameBytes(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}
