/**
 * Connection options for exec WebSockets, from client-node's public KubeConfig API
 * (`applyToHTTPSOptions`: CA, client certificate, skip-verify, TLS server name, bearer token, exec
 * credential plugins, auth providers, basic auth, impersonation, proxies).
 *
 * One TLS agent per kubeconfig context, reused by every exec. `applyToHTTPSOptions` builds a fresh
 * https.Agent (and so a fresh SecureContext, parsing the CA again) on every call, which also makes
 * TLS session resumption impossible; with one agent and one SecureContext per context and client
 * certificate, repeated execs resume the TLS session instead of doing a full handshake.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Agent, type AgentOptions } from 'node:https';
import { createSecureContext } from 'node:tls';
import type WebSocket from 'ws';

interface Shared {
  agent: Agent;
  /** The client credentials the agent was built for: an exec plugin may rotate them. */
  cert: unknown;
  key: unknown;
}

export class ExecAgents {
  readonly #byConfig = new WeakMap<KubeConfig, Shared>();

  /** Options for `new WebSocket(url, protocols, options)` to the context's API server. */
  async options(kc: KubeConfig): Promise<WebSocket.ClientOptions> {
    const opts: WebSocket.ClientOptions = {};
    await kc.applyToHTTPSOptions(opts);
    this.#adopt(kc, opts);
    return opts;
  }

  /** Replaces the per-call agent client-node put in `opts` with the context's shared one. */
  #adopt(kc: KubeConfig, opts: WebSocket.ClientOptions): void {
    const fresh = opts.agent;
    // Proxy agents (kubeconfig proxy-url) and plain-HTTP agents are used as they come.
    if (!(fresh instanceof Agent) || fresh.constructor !== Agent) return;
    const o = (fresh as unknown as { options: AgentOptions }).options;
    let shared = this.#byConfig.get(kc);
    if (shared && (!sameBytes(shared.cert, o.cert) || !sameBytes(shared.key, o.key))) {
      shared.agent.destroy();
      shared = undefined;
    }
    if (!shared) {
      const secureContext = createSecureContext({ ca: o.ca, cert: o.cert, key: o.key, pfx: o.pfx, passphrase: o.passphrase });
      shared = { agent: new Agent({ ...o, secureContext, keepAlive: false, maxCachedSessions: 1024 }), cert: o.cert, key: o.key };
      this.#byConfig.set(kc, shared);
    }
    fresh.destroy();
    opts.agent = shared.agent;
  }
}

function sameBytes(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}
