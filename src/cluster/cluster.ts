/**
 * This replica's view of the others (DESIGN.md, Scale): who it is, how to reach a peer, and the
 * authenticated requests it makes to them. No broker: the peer list (peers.ts) and each peer's own
 * answer to `GET /internal/v1/replica` are the whole directory.
 *
 * Tokens name a replica by its id (`--replica-id`), not by its address: the directory maps an id
 * to the advertise URL its replica reports, asking every peer in parallel when the id is not known
 * yet. An id nobody answers for is a replica that is gone (its sessions with it).
 */
import type { Person } from '../auth/person.js';
import type { SessionInfo } from '../supervisor/session.js';
import { HopAuth, hopCallerOf } from './hop-auth.js';
import type { PeerSource } from './peers.js';

export const INTERNAL_PREFIX = '/internal/v1';

/** One peer's answer to GET /internal/v1/replica. */
export interface ReplicaInfo {
  id: string;
  url: string;
}

/** One session of GET /api/v1/sessions, with the replica that holds it. */
export type ClusterSessionInfo = SessionInfo & { replica: string };

export interface GatheredSessions {
  sessions: ClusterSessionInfo[];
  /** Peers (base URLs) that did not answer in time. */
  unreachable: string[];
}

export interface ClusterOptions {
  id: string;
  /** `--advertise-url`; when absent, the listen URL once listening (listening()). */
  advertiseUrl?: string | undefined;
  peers: PeerSource;
  hop: HopAuth;
  /** Bound on one peer request (default 800 ms). */
  peerTimeoutMs?: number;
}

/** How long a peer may take to answer (a list or a directory look-up) before it counts as unreachable. */
export const DEFAULT_PEER_TIMEOUT_MS = 800;

export class Cluster {
  readonly hop: HopAuth;
  readonly #id: string;
  #url: string;
  readonly #peers: PeerSource;
  readonly #selfUrls: Set<string>;
  readonly #timeoutMs: number;
  /** replica id -> advertise URL, as the replicas themselves said. */
  readonly #directory = new Map<string, string>();
  #refreshing: Promise<void> | undefined;

  constructor(o: ClusterOptions) {
    this.#id = o.id;
    this.#url = trimSlash(o.advertiseUrl ?? '');
    this.hop = o.hop;
    this.#peers = o.peers;
    this.#selfUrls = new Set(this.#url ? [this.#url] : []);
    this.#timeoutMs = o.peerTimeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
  }

  /** Who this replica is, as peers are told. */
  get self(): ReplicaInfo {
    return { id: this.#id, url: this.#url };
  }

  /** The gateway listens at `url`: skip it in the peer list, and advertise `reachable` unless told otherwise. */
  listening(url: string, reachable: string = url): void {
    this.#selfUrls.add(trimSlash(url));
    if (this.#url === '') this.#url = trimSlash(reachable);
    this.#selfUrls.add(this.#url);
  }

  /** The base URL of replica `id`, or undefined when no peer answers for it within `deadline` (ms since epoch). */
  async resolve(id: string, person: Person, deadline: number): Promise<string | undefined> {
    const known = this.#directory.get(id);
    if (known !== undefined) return known;
    // One refresh at a time: a burst of resumes for a gone replica asks each peer once.
    this.#refreshing ??= this.#refresh(person, deadline).finally(() => (this.#refreshing = undefined));
    await this.#refreshing;
    return this.#directory.get(id);
  }

  /** Forget an id whose replica refused or did not answer (a restarted pod may come back elsewhere). */
  forget(id: string): void {
    this.#directory.delete(id);
  }

  /** The caller's sessions on every other replica, in parallel; a peer that does not answer is listed as unreachable. */
  async gatherSessions(person: Person): Promise<GatheredSessions> {
    const peers = await this.#others();
    const answers = await Promise.all(peers.map((p) => this.#get<{ replica: ReplicaInfo; sessions: SessionInfo[] }>(p, `${INTERNAL_PREFIX}/sessions`, person, Date.now() + this.#timeoutMs)));
    const out: GatheredSessions = { sessions: [], unreachable: [] };
    answers.forEach((a, i) => {
      if (!a || !isReplicaInfo(a.replica) || !Array.isArray(a.sessions)) return void out.unreachable.push(peers[i] as string);
      this.#learn(a.replica);
      if (a.replica.id === this.#id) return;
      for (const s of a.sessions) out.sessions.push({ ...s, replica: a.replica.id });
    });
    return out;
  }

  /** Asks the peers to end session `id` of this person (DELETE on another replica); true when one did. */
  async endSession(person: Person, id: string): Promise<boolean> {
    const peers = await this.#others();
    const path = `${INTERNAL_PREFIX}/sessions/${encodeURIComponent(id)}`;
    const results = await Promise.all(peers.map((p) => this.#fetch(p, 'DELETE', path, person, Date.now() + this.#timeoutMs).then((r) => r?.status === 204)));
    return results.some(Boolean);
  }

  /** Asks the peers to share session `id` of this person for `ttl` seconds; the holder's answer, or undefined. */
  async share(person: Person, id: string, ttl: number): Promise<{ token: string; expiresAt: string } | undefined> {
    const peers = await this.#others();
    const path = `${INTERNAL_PREFIX}/sessions/${encodeURIComponent(id)}/shares`;
    const answers = await Promise.all(peers.map(async (p) => {
      const res = await this.#fetch(p, 'POST', path, person, Date.now() + this.#timeoutMs, `ttl=${ttl}`);
      if (res?.status !== 201) return undefined;
      const v = (await res.json().catch(() => undefined)) as { token?: unknown; expiresAt?: unknown } | undefined;
      return typeof v?.token === 'string' && typeof v.expiresAt === 'string' ? { token: v.token, expiresAt: v.expiresAt } : undefined;
    }));
    return answers.find((a) => a !== undefined);
  }

  /** Asks the peers to revoke every share of session `id` of this person; true when its holder did. */
  async revokeShares(person: Person, id: string): Promise<boolean> {
    const peers = await this.#others();
    const path = `${INTERNAL_PREFIX}/sessions/${encodeURIComponent(id)}/shares`;
    const results = await Promise.all(peers.map((p) => this.#fetch(p, 'DELETE', path, person, Date.now() + this.#timeoutMs).then((r) => r?.status === 204)));
    return results.some(Boolean);
  }

  async #refresh(person: Person, deadline: number): Promise<void> {
    const peers = await this.#others();
    const answers = await Promise.all(peers.map((p) => this.#get<ReplicaInfo>(p, `${INTERNAL_PREFIX}/replica`, person, Math.min(deadline, Date.now() + this.#timeoutMs))));
    for (const a of answers) if (isReplicaInfo(a)) this.#learn(a);
  }

  #learn(r: ReplicaInfo): void {
    if (r.id !== this.#id) this.#directory.set(r.id, trimSlash(r.url));
  }

  async #others(): Promise<string[]> {
    return (await this.#peers.list()).filter((u) => !this.#selfUrls.has(u));
  }

  async #get<T>(base: string, path: string, person: Person, deadline: number): Promise<T | undefined> {
    const res = await this.#fetch(base, 'GET', path, person, deadline);
    if (!res || res.status !== 200) return undefined;
    return (await res.json().catch(() => undefined)) as T | undefined;
  }

  /** One signed request; undefined when the peer cannot be reached by `deadline`. Never rejects. */
  async #fetch(base: string, method: string, path: string, person: Person, deadline: number, query = ''): Promise<Response | undefined> {
    const ms = deadline - Date.now();
    if (ms <= 0) return undefined;
    const headers = this.hop.sign({ method, path, query }, hopCallerOf(person));
    try {
      const res = await fetch(base + path + (query ? `?${query}` : ''), { method, headers, signal: AbortSignal.timeout(ms), redirect: 'error' });
      if (res.status !== 200 && res.status !== 201) await res.body?.cancel();
      return res;
    } catch {
      return undefined;
    }
  }
}

function isReplicaInfo(v: unknown): v is ReplicaInfo {
  const r = v as ReplicaInfo | undefined;
  return typeof r?.id === 'string' && typeof r.url === 'string' && /^https?:\/\//.test(r.url);
}

function trimSlash(u: string): string {
  return u.replace(/\/+$/, '');
}
