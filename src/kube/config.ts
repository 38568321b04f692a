/**
 * Where Kubernetes credentials come from, and one KubeConfig per context. This folder is the only
 * importer of @kubernetes/client-node (STYLE.md, import directions).
 */
import { createHash } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { LRUCache } from 'lru-cache';
import { PodtermError } from '../protocol/errors.js';
import { identityKey, impersonationHeaders, type KubeIdentity } from './act-as.js';
import { DEFAULT_KUBE_TIMEOUT_MS } from './deadline.js';

/**
 * `kubeTimeoutMs` bounds each Kubernetes API call of a session start and of the lists (issue 8,
 * item 2); the CLI always sets it (`--kube-timeout-ms`, default 10000).
 */
export type KubeSource = ({ kind: 'kubeconfig'; yaml: string } | { kind: 'in-cluster' }) & { kubeTimeoutMs?: number };

/** A kubeconfig that cannot be used; the message is one line and never carries credentials. */
export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}

/** What the startup log says about the cluster in use: never a credential. */
export interface KubeSummary {
  context: string;
  server: string;
  contexts: string[];
}

/** A server URL without userinfo (`https://user:pass@host` is legal in a kubeconfig); undefined if unparsable. */
function safeServer(server: string): string | undefined {
  try {
    const u = new URL(server);
    if (u.hostname === 'undefined') return undefined; // in-cluster config outside a pod: no KUBERNETES_SERVICE_HOST
    u.username = '';
    u.password = '';
    return u.href.replace(/\/$/, '');
  } catch {
    return undefined;
  }
}

/**
 * Checks what client-node accepts silently and fails on later, per session (a current-context that
 * does not exist, no contexts, a context naming a missing cluster), so a bad file stops the start.
 */
export function inspectKubeSource(source: KubeSource): KubeSummary {
  const kc = new KubeConfig();
  try {
    if (source.kind === 'kubeconfig') kc.loadFromString(source.yaml);
    else kc.loadFromCluster();
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    // client-node throws a TypeError for an empty document; say what it means.
    throw new KubeconfigError(err instanceof TypeError ? 'is empty or not a kubeconfig' : `is not a valid kubeconfig: ${first}`);
  }
  const contexts = kc.getContexts().map((c) => c.name);
  if (contexts.length === 0) throw new KubeconfigError('has no contexts');
  const current = kc.getCurrentContext() as string | undefined;
  if (!current) throw new KubeconfigError(`sets no current-context (contexts: ${contexts.join(', ')})`);
  const ctx = kc.getContextObject(current);
  if (!ctx) throw new KubeconfigError(`names current-context ${JSON.stringify(current)}, which is not one of its contexts (${contexts.join(', ')})`);
  const cluster = kc.getCluster(ctx.cluster);
  if (!cluster) throw new KubeconfigError(`context ${JSON.stringify(current)} names cluster ${JSON.stringify(ctx.cluster)}, which it does not define`);
  if (!cluster.server) throw new KubeconfigError(`cluster ${JSON.stringify(cluster.name)} has no server`);
  const server = safeServer(cluster.server);
  if (!server) throw new KubeconfigError(`cluster ${JSON.stringify(cluster.name)} has no usable server URL`);
  return { context: current, server, contexts };
}

/**
 * How to reach the API server as one identity: the KubeConfig whose credentials to use and the
 * headers every request must add (impersonation). One per identity, cached with a bound.
 */
export interface IdentityConfig {
  kc: KubeConfig;
  /** Header name -> values, one header line per value (Impersonate-Group repeats). */
  headers: Readonly<Record<string, readonly string[]>>;
}

/** Identities remembered per thread (issue 9: 10,000 distinct users must not grow memory without bound). */
export const DEFAULT_IDENTITY_CACHE = 10_000;

/** Parsed kubeconfig with one KubeConfig per context, built on first use and then reused. */
export class KubeContexts {
  readonly #source: KubeSource;
  readonly #base: KubeConfig;
  readonly #byContext = new Map<string, KubeConfig>();
  readonly #identities: LRUCache<string, IdentityConfig>;

  constructor(source: KubeSource, o: { identityCacheMax?: number } = {}) {
    this.#source = source;
    this.#identities = new LRUCache({ max: o.identityCacheMax ?? DEFAULT_IDENTITY_CACHE });
    this.#base = new KubeConfig();
    if (source.kind === 'kubeconfig') this.#base.loadFromString(source.yaml);
    else this.#base.loadFromCluster();
  }

  /** Bound on every API call and exec handshake, in ms (`--kube-timeout-ms`). */
  get timeoutMs(): number {
    return this.#source.kubeTimeoutMs ?? DEFAULT_KUBE_TIMEOUT_MS;
  }

  get currentContext(): string {
    return this.#base.getCurrentContext();
  }

  contextNames(): string[] {
    return this.#base.getContexts().map((c) => c.name);
  }

  /** The namespace a context names (kubeconfig `namespace:`), else `default`. */
  namespaceOf(context: string | undefined): string {
    return this.#base.getContextObject(context ?? this.currentContext)?.namespace ?? 'default';
  }

  /** The KubeConfig for a context (default: current-context). Throws Forbidden for an unknown context. */
  forContext(context?: string): KubeConfig {
    const name = context ?? this.currentContext;
    let kc = this.#byContext.get(name);
    if (kc) return kc;
    if (this.#source.kind === 'in-cluster') {
      kc = this.#base;
    } else {
      if (!this.#base.getContextObject(name)) throw new PodtermError('Forbidden', 'This token is bound to an unknown context.');
      kc = new KubeConfig();
      kc.loadFromString(this.#source.yaml);
      kc.setCurrentContext(name);
    }
    this.#byContext.set(name, kc);
    return kc;
  }

  /** Identities held in the cache now (tests, bench). */
  get identitiesCached(): number {
    return this.#identities.size;
  }

  /**
   * The credentials and headers for an identity. Impersonation reuses the context's KubeConfig
   * (the gateway's own credentials) and adds the headers; passthrough derives a KubeConfig with
   * the context's cluster and the person's token as its only credential, so none of the
   * gateway's own credentials (client certificate, token, exec plugin) go with it.
   */
  identity(id: KubeIdentity): IdentityConfig {
    const as = id.as;
    // The bearer is a credential: the cache key holds its hash, not the token.
    const key = as && 'bearer' in as
      ? `${id.context ?? ''}\u0000b:${createHash('sha256').update(as.bearer).digest('base64url')}`
      : identityKey(id);
    let found = this.#identities.get(key);
    if (found) return found;
    const base = this.forContext(id.context);
    if (as && 'bearer' in as) {
      const cluster = base.getCurrentCluster();
      if (!cluster) throw new PodtermError('Forbidden', 'This token is bound to a context without a cluster.');
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [cluster],
        users: [{ name: 'podterm-passthrough', token: as.bearer }],
        contexts: [{ name: 'podterm-passthrough', cluster: cluster.name, user: 'podterm-passthrough', namespace: this.namespaceOf(id.context) }],
        currentContext: 'podterm-passthrough',
      });
      found = { kc, headers: {} };
    } else {
      found = { kc: base, headers: impersonationHeaders(as) };
    }
    this.#identities.set(key, found);
    return found;
  }
}
