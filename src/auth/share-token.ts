/**
 * Share tokens (docs/protocol.md, Additions: `GET /ws/exec?observe=TOKEN`): a read-only link to one
 * session, for anyone signed in who holds it, until it expires or the owner revokes every share.
 *
 *   v1.<base64url(JSON {s: session, r: replica, g: share generation, x: expiry in unix seconds})>.<base64url(MAC)>
 *
 * Parallel to resume-token.ts (same layout, signed-token.ts; `r` names the replica that holds the
 * session, read by tokenReplica()), with a key of its own (secrets.ts): a share token can never
 * resume, a resume token can never watch. Revocation is the generation: the session counts its
 * revocations, and a token of an older generation is refused (no list of tokens to keep).
 */
import { deriveKey } from './secrets.js';
import { openToken, signToken } from './signed-token.js';

export interface ShareClaims {
  session: string;
  replica: string;
  /** The session's share generation when the token was made; a revoke bumps it. */
  generation: number;
  /** Unix seconds after which the token is refused. */
  expires: number;
}

/** Bounds of POST /api/v1/sessions/{id}/shares `ttlSeconds`. */
export const SHARE_TTL_DEFAULT_S = 60 * 60;
export const SHARE_TTL_MAX_S = 24 * 60 * 60;

export class ShareTokens {
  readonly #key: Uint8Array;
  readonly #now: () => number;

  constructor(secret: Uint8Array, now: () => number = Date.now) {
    this.#key = deriveKey(secret, 'share');
    this.#now = now;
  }

  issue(claims: ShareClaims): string {
    return signToken(this.#key, { s: claims.session, r: claims.replica, g: claims.generation, x: claims.expires });
  }

  /** The claims of a token signed with this secret that has not expired (revocation is the caller's). */
  verify(token: string): ShareClaims | undefined {
    const c = openToken(this.#key, token, this.#now());
    if (!c || typeof c.s !== 'string' || typeof c.r !== 'string' || !Number.isSafeInteger(c.g)) return undefined;
    return { session: c.s, replica: c.r, generation: c.g as number, expires: c.x };
  }
}
