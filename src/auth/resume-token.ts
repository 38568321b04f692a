/**
 * Resume tokens (docs/protocol.md, Additions: `GET /ws/exec?resume=TOKEN`): opaque to the client,
 * signed, bound to one session, to its owner and to the replica that holds it, with an expiry.
 *
 *   v1.<base64url(JSON {s: session, o: owner, r: replica, x: expiry in unix seconds})>.<base64url(MAC)>
 *
 * MAC = HMAC-SHA256 (RFC 2104) over everything before the last dot, with a key derived from the
 * gateway secret for this purpose only (secrets.ts, HKDF): replicas that share the secret accept
 * each other's tokens (and forward to the replica named in it), a cookie key can never sign one.
 * A token says nothing about whether its session still lives: the supervisor looks that up.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveKey } from './secrets.js';

export interface ResumeClaims {
  session: string;
  owner: string;
  replica: string;
  /** Unix seconds after which the token is refused. */
  expires: number;
}

/** Longer tokens are refused before any parsing (a session id, an owner and a replica fit easily). */
export const MAX_RESUME_TOKEN = 1024;
const PREFIX = 'v1.';

export class ResumeTokens {
  readonly #key: Uint8Array;
  readonly #now: () => number;

  constructor(secret: Uint8Array, now: () => number = Date.now) {
    this.#key = deriveKey(secret, 'resume');
    this.#now = now;
  }

  issue(claims: ResumeClaims): string {
    const body = PREFIX + Buffer.from(JSON.stringify({ s: claims.session, o: claims.owner, r: claims.replica, x: claims.expires })).toString('base64url');
    return `${body}.${this.#mac(body).toString('base64url')}`;
  }

  /** The claims of a token this gateway (or a replica with the same secret) signed and that has not expired. */
  verify(token: string): ResumeClaims | undefined {
    if (token.length > MAX_RESUME_TOKEN || !token.startsWith(PREFIX)) return undefined;
    const dot = token.lastIndexOf('.');
    if (dot <= PREFIX.length) return undefined;
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.#mac(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(body.slice(PREFIX.length), 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    const c = raw as { s?: unknown; o?: unknown; r?: unknown; x?: unknown };
    if (typeof c.s !== 'string' || typeof c.o !== 'string' || typeof c.r !== 'string' || !Number.isSafeInteger(c.x)) return undefined;
    if ((c.x as number) * 1000 <= this.#now()) return undefined;
    return { session: c.s, owner: c.o, replica: c.r, expires: c.x as number };
  }

  #mac(body: string): Buffer {
    return createHmac('sha256', this.#key).update(body).digest();
  }
}
