/**
 * Where the other replicas are: a fixed list (`--peers host:port,...`) and/or the A/AAAA records of
 * the headless Service (`--peer-dns NAME[:PORT]`, looked up through the system resolver, so
 * `/etc/hosts` and the cluster DNS both answer; every ready pod of a StatefulSet's headless Service
 * is one record). The list may include this replica: callers skip their own address and id.
 */
import { lookup } from 'node:dns/promises';

export interface PeerSource {
  /** Base URLs (`http://host:port`) of the peers now known; never rejects. */
  list(): Promise<string[]>;
}

export interface PeerDns {
  name: string;
  port: number;
}

/** How long a DNS answer is reused: the headless Service's records change as pods come and go. */
const DNS_CACHE_MS = 5_000;

export function baseUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export class Peers implements PeerSource {
  readonly #fixed: string[];
  readonly #dns: PeerDns | undefined;
  #cached: { at: number; urls: string[] } | undefined;
  readonly #now: () => number;

  constructor(fixed: ReadonlyArray<{ host: string; port: number }>, dns?: PeerDns, now: () => number = Date.now) {
    this.#fixed = [...new Set(fixed.map((p) => baseUrl(p.host, p.port)))];
    this.#dns = dns;
    this.#now = now;
  }

  /** True when any peer may exist (a list or a DNS name was configured). */
  get configured(): boolean {
    return this.#fixed.length > 0 || this.#dns !== undefined;
  }

  async list(): Promise<string[]> {
    if (!this.#dns) return this.#fixed;
    const now = this.#now();
    if (!this.#cached || now - this.#cached.at > DNS_CACHE_MS) {
      const dns = this.#dns;
      const found = await lookup(dns.name, { all: true }).then(
        (as) => as.map((a) => baseUrl(a.address, dns.port)),
        () => [] as string[], // NXDOMAIN while no pod is ready: no peers, not an error
      );
      this.#cached = { at: now, urls: found };
    }
    return [...new Set([...this.#fixed, ...this.#cached.urls])];
  }
}
