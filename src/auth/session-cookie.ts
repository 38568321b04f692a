/**
 * The signed-in session as one stateless cookie: a compact JWS (HS256, RFC 7515) over
 * `{sub: username, grp: groups, via, iat, exp}`, keyed by HKDF from the gateway secret. Any replica
 * with the same secret accepts it (DESIGN.md: no state a restart must recover); changing the secret
 * signs everyone out. It is signed, not encrypted: it holds only what `GET /api/v1/whoami` shows
 * the same person anyway.
 *
 * Size: browsers keep at most 4096 bytes of name and value (RFC 6265 6.1 asks for at least that);
 * a value over MAX_COOKIE_VALUE is refused with `too-large` rather than cut, because dropping groups
 * silently would change what the person may do. That is about 107 groups of 22 characters (245 of 8,
 * 62 of 40: test/auth/session-cookie.test.ts); bearer tokens have no such limit.
 */
import { SignJWT, jwtVerify } from 'jose';
import { AuthError } from './errors.js';
import { authErrorFromJose } from './jose-errors.js';
import { deriveKey } from './secrets.js';

export type SessionVia = 'oidc' | 'token';

export interface Session {
  username: string;
  groups: string[];
  via: SessionVia;
  /** Unix time in seconds. */
  expiresAt: number;
  /**
   * `--identity passthrough` only: the person's raw ID token, which the gateway sends to the API
   * server as the bearer. Kept in the (HttpOnly, Strict) cookie rather than on one replica, so the
   * cookie stays stateless; it grants nothing the cookie does not already grant through the gateway.
   */
  idToken?: string;
}

export interface SessionCookieOptions {
  /** The gateway secret (>= 16 bytes), shared by all replicas. */
  secret: string | Uint8Array;
  /** Upper bound on any session's lifetime, seconds (default 24 h, today's token cookie). */
  maxLifetimeS?: number;
  /** Cookie name (default `podterm_session`, the name the token cookie has today). */
  name?: string;
  /** Clock, ms since the epoch (tests). */
  now?: () => number;
}

export const SESSION_COOKIE_NAME = 'podterm_session';
export const DEFAULT_MAX_LIFETIME_S = 24 * 60 * 60;
/** 4096 minus the name, `=`, and room for a browser's own accounting. */
export const MAX_COOKIE_VALUE = 3800;
/** Cookies are issued with this tolerance on `exp`/`iat` when read back (replica clock drift). */
const CLOCK_TOLERANCE_S = 5;
const AUDIENCE = 'podterm-session';

export class SessionCookie {
  readonly name: string;
  readonly #key: Uint8Array;
  readonly #maxLifetimeS: number;
  readonly #now: () => number;

  constructor(o: SessionCookieOptions) {
    this.#key = deriveKey(o.secret, 'session-cookie');
    this.#maxLifetimeS = o.maxLifetimeS ?? DEFAULT_MAX_LIFETIME_S;
    this.name = o.name ?? SESSION_COOKIE_NAME;
    this.#now = o.now ?? Date.now;
  }

  /**
   * The cookie value for a session. Its expiry is the earlier of `expiresAt` (for OIDC: the ID
   * token's `exp`) and now + maxLifetimeS. Throws AuthError('expired') for a session already over,
   * AuthError('too-large') when it would not fit in a cookie.
   */
  async seal(s: Session): Promise<{ value: string; expiresAt: number }> {
    const now = Math.floor(this.#now() / 1000);
    const exp = Math.min(Math.floor(s.expiresAt), now + this.#maxLifetimeS);
    if (exp <= now) throw new AuthError('expired');
    const value = await new SignJWT({ grp: s.groups, via: s.via, ...(s.idToken ? { idt: s.idToken } : {}) })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(s.username)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.#key);
    if (value.length > MAX_COOKIE_VALUE) {
      throw new AuthError('too-large', { cause: new Error(`session cookie would be ${value.length} bytes (${s.groups.length} groups)`) });
    }
    return { value, expiresAt: exp };
  }

  /** The session in a cookie value; throws AuthError for tampered, expired or foreign values. */
  async open(value: string): Promise<Session> {
    if (value.length > MAX_COOKIE_VALUE) throw new AuthError('malformed');
    let payload;
    try {
      ({ payload } = await jwtVerify(value, this.#key, {
        algorithms: ['HS256'],
        audience: AUDIENCE,
        requiredClaims: ['sub', 'exp', 'iat'],
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(this.#now()),
      }));
    } catch (err) {
      throw authErrorFromJose(err);
    }
    const { sub, grp, via, exp, idt } = payload;
    if (typeof sub !== 'string' || !Array.isArray(grp) || !grp.every((g) => typeof g === 'string') ||
        (via !== 'oidc' && via !== 'token') || typeof exp !== 'number' || (idt !== undefined && typeof idt !== 'string')) {
      throw new AuthError('malformed');
    }
    return { username: sub, groups: grp as string[], via, expiresAt: exp, ...(idt ? { idToken: idt } : {}) };
  }

  /** The session named by a `Cookie` request header, or undefined (no cookie, or not valid). */
  async fromCookieHeader(cookieHeader: string): Promise<Session | undefined> {
    for (const part of cookieHeader.split(';')) {
      const eq = part.indexOf('=');
      if (eq === -1 || part.slice(0, eq).trim() !== this.name) continue;
      try {
        return await this.open(part.slice(eq + 1).trim());
      } catch {
        // A stale cookie from before a secret change, or the old token-cookie format: try the next.
      }
    }
    return undefined;
  }

  /** `Set-Cookie` for a sealed value; same attributes as the token cookie today. */
  setCookieHeader(sealed: { value: string; expiresAt: number }, secure: boolean): string {
    const maxAge = Math.max(0, sealed.expiresAt - Math.floor(this.#now() / 1000));
    return `${this.name}=${sealed.value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
  }

  /** `Set-Cookie` that removes the cookie (sign-out). */
  clearCookieHeader(secure: boolean): string {
    return `${this.name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure ? '; Secure' : ''}`;
  }
}
