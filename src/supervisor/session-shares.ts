/**
 * Read-only links to sessions (docs/protocol.md, Additions: shares and `?observe=TOKEN`): signed
 * share tokens naming the session and this replica, with an expiry, and one share generation per
 * session. A revoke bumps the generation, so every token made before it is refused from then on;
 * nothing per token is kept.
 */
import type { ShareClaims } from '../auth/share-token.js';
import { SHARE_TTL_DEFAULT_S, SHARE_TTL_MAX_S } from '../auth/share-token.js';

/** Signs and checks share tokens (src/auth/share-token.ts). */
export interface ShareTokenSigner {
  issue(claims: ShareClaims): string;
  verify(token: string): ShareClaims | undefined;
}

export interface IssuedShare {
  token: string;
  /** ISO 8601. */
  expiresAt: string;
}

export class SessionShares {
  readonly #signer: ShareTokenSigner;
  readonly #replica: string;
  /** Revocations per session; absent = 0. Forgotten with the session. */
  readonly #generation = new Map<string, number>();
  readonly #now: () => number;

  constructor(signer: ShareTokenSigner, replica: string, now: () => number = Date.now) {
    this.#signer = signer;
    this.#replica = replica;
    this.#now = now;
  }

  /** A token for `session`, valid `ttlSeconds` (1..SHARE_TTL_MAX_S; the caller validated it) or until revoked. */
  issue(session: string, ttlSeconds = SHARE_TTL_DEFAULT_S): IssuedShare {
    const ttl = Math.min(Math.max(1, Math.floor(ttlSeconds)), SHARE_TTL_MAX_S);
    const expires = Math.floor(this.#now() / 1000) + ttl;
    const token = this.#signer.issue({ session, replica: this.#replica, generation: this.#generation.get(session) ?? 0, expires });
    return { token, expiresAt: new Date(expires * 1000).toISOString() };
  }

  /** The session a token lets its holder watch: signed here, not expired, for this replica, not revoked. */
  sessionOf(token: string): string | undefined {
    const c = this.#signer.verify(token);
    if (!c || c.replica !== this.#replica) return undefined;
    return c.generation === (this.#generation.get(c.session) ?? 0) ? c.session : undefined;
  }

  /** Every token made so far for `session` stops working. */
  revoke(session: string): void {
    this.#generation.set(session, (this.#generation.get(session) ?? 0) + 1);
  }

  /** The session ended: its tokens name nothing any more (the supervisor finds no session). */
  forget(session: string): void {
    this.#generation.delete(session);
  }
}
