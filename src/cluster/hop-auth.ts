/**
 * The internal hop between replicas (DESIGN.md, Scale): a replica that forwards a socket or asks a
 * peer for its sessions proves it holds the cluster secret and says, signed, whom it acts for.
 *
 *   Podterm-Hop:    v1.<unix ms>.<nonce, 16 random bytes base64url>.<base64url(MAC)>
 *   Podterm-Caller: <base64url(JSON {u: username, g: groups, v: via})>
 *
 * MAC = HMAC-SHA256 (RFC 2104) over `v1 \n ts \n nonce \n METHOD \n path \n query \n caller`, with a
 * key derived from the cluster secret for this purpose only (secrets.ts, HKDF). Replay-bounded: a
 * timestamp further than MAX_SKEW_MS from our clock is refused, and so is a nonce already seen
 * within that window (kept in a bounded LRU; a full cache refuses rather than forgets, so a flood
 * of hops cannot push a nonce out early). Bound to the method, path and query, so a header captured
 * on one request cannot open another session or ask for another person's list.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { deriveKey } from '../auth/secrets.js';
import type { Person, Via } from '../auth/person.js';

export const HOP_HEADER = 'podterm-hop';
export const CALLER_HEADER = 'podterm-caller';

/** Clock skew and replay window between replicas (their clocks are NTP-synced nodes). */
export const MAX_SKEW_MS = 30_000;
/** Nonces remembered; a replica that takes more hops than this in 2 × MAX_SKEW_MS refuses the excess. */
const MAX_NONCES = 200_000;
const MAX_CALLER_CHARS = 8 * 1024;

/** Whom a hop acts for: the person the forwarding replica authenticated. */
export interface HopCaller {
  username: string;
  groups: string[];
  via: Via;
}

export interface HopRequest {
  method: string;
  path: string;
  /** The query without `?` ('' for none), exactly as sent. */
  query: string;
}

export type HopRefusal = 'missing' | 'malformed' | 'bad-mac' | 'stale' | 'replayed';

export class HopAuth {
  readonly #key: Uint8Array;
  readonly #now: () => number;
  readonly #seen = new LRUCache<string, true>({ max: MAX_NONCES, ttl: 2 * MAX_SKEW_MS, ttlAutopurge: false });

  constructor(secret: Uint8Array, now: () => number = Date.now) {
    this.#key = deriveKey(secret, 'cluster-hop');
    this.#now = now;
  }

  /** The two headers of one hop request. */
  sign(req: HopRequest, caller: HopCaller): Record<string, string> {
    const ts = String(this.#now());
    const nonce = randomBytes(16).toString('base64url');
    const who = Buffer.from(JSON.stringify({ u: caller.username, g: caller.groups, v: caller.via })).toString('base64url');
    return { [HOP_HEADER]: `v1.${ts}.${nonce}.${this.#mac(ts, nonce, req, who).toString('base64url')}`, [CALLER_HEADER]: who };
  }

  /** The caller a hop asserts, or why it is refused. Each header is accepted once. */
  verify(req: HopRequest, hop: string, caller: string): HopCaller | HopRefusal {
    if (hop === '') return 'missing';
    const parts = hop.split('.');
    if (parts.length !== 4 || parts[0] !== 'v1' || caller.length > MAX_CALLER_CHARS) return 'malformed';
    const [, ts, nonce, mac] = parts as [string, string, string, string];
    if (!/^\d{1,16}$/.test(ts) || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) return 'malformed';
    const given = Buffer.from(mac, 'base64url');
    const expected = this.#mac(ts, nonce, req, caller);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad-mac';
    if (Math.abs(this.#now() - Number(ts)) > MAX_SKEW_MS) return 'stale';
    if (this.#seen.has(nonce)) return 'replayed';
    if (this.#seen.size >= MAX_NONCES && (this.#seen.purgeStale(), this.#seen.size >= MAX_NONCES)) return 'replayed';
    this.#seen.set(nonce, true);
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(caller, 'base64url').toString('utf8'));
    } catch {
      return 'malformed';
    }
    const c = raw as { u?: unknown; g?: unknown; v?: unknown };
    if (typeof c.u !== 'string' || c.u === '' || !Array.isArray(c.g) || !c.g.every((g) => typeof g === 'string') || (c.v !== 'oidc' && c.v !== 'token')) return 'malformed';
    return { username: c.u, groups: c.g as string[], via: c.v };
  }

  #mac(ts: string, nonce: string, req: HopRequest, caller: string): Buffer {
    return createHmac('sha256', this.#key).update(['v1', ts, nonce, req.method.toUpperCase(), req.path, req.query, caller].join('\n')).digest();
  }
}

export function hopCallerOf(p: Person): HopCaller {
  return { username: p.username, groups: [...p.groups], via: p.via };
}

/** The person a verified hop stands for; the credential's expiry stays with the forwarding replica. */
export function personOf(c: HopCaller): Person {
  return { username: c.username, groups: [...c.groups], via: c.via, expiresAt: null };
}
