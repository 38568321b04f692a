/**
 * Resume tokens (docs/protocol.md, Additions: `GET /ws/exec?resume=TOKEN`): opaque to the client,
 * signed, bound to one session, to its owner and to the replica that holds it, with an expiry.
 *
 *   v1.<base64url(JSON {s: session, o: owner, r: replica, x: expiry in unix seconds})>.<base64url(MAC)>
 *
 * The layout and MAC are signed-token.ts's, with a key derived from the gateway secret for this
 * purpose only (secrets.ts, HKDF): replicas that share the secret accept each other's tokens (and
 * forward to the replica named in it), a cookie or share key can never sign one.
 * A token says nothing about whether its session still lives: the supervisor looks that up.
 */
import { deriveKey } from './secrets.js';
import { MAX_SIGNED_TOKEN, openToken, signToken } from './signed-token.js';

export interface ResumeClaims {
  session: string;
  owner: string;
  replica: string;
  /** Unix seconds after which the token is refused. */
  expires: number;
}

/** Longer tokens are refused before any parsing. */
export const MAX_RESUME_TOKEN = MAX_SIGNED_TOKEN;

export class ResumeTokens {
  readonly #key: Uint8Array;
  readonly #now: () => number;

  constructor(secret: Uint8Array, now: () => number = Date.now) {
    this.#key = deriveKey(secret, 'resume');
    this.#now = now;
  }

  issue(claims: ResumeClaims): string {
    return signToken(this.#key, { s: claims.session, o: claims.owner, r: claims.replica, x: claims.expires });
  }

  /** The claims of a token this gateway (or a replica with the same secret) signed and that has not expired. */
  verify(token: string): ResumeClaims | undefined {
    const c = openToken(this.#key, token, this.#now());
    if (!c || typeof c.s !== 'string' || typeof c.o !== 'string' || typeof c.r !== 'string') return undefined;
    return { session: c.s, owner: c.o, replica: c.r, expires: c.x };
  }
}
