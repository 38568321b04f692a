/**
 * Who is calling. A start-up token is exchanged once (`GET /?token=`) for a cookie that holds an
 * opaque random id mapped here to the identity, never the token itself; non-browser clients send
 * `Authorization: Bearer T`. Tokens are compared in constant time and never logged.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenBinding {
  token: string;
  context?: string;
  namespaces?: string[];
}

export interface Identity {
  /** Stable, non-secret key for per-token limits and logs (a hash prefix of the token). */
  key: string;
  context: string | undefined;
  namespaces: string[];
}

export const COOKIE_NAME = 'podterm_session';
/** Cookie sessions kept; the oldest is forgotten first. */
const MAX_COOKIE_SESSIONS = 10_000;

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export class Authenticator {
  readonly #bindings: Array<{ digest: Buffer; identity: Identity }>;
  readonly #cookies = new Map<string, Identity>();

  constructor(tokens: readonly TokenBinding[]) {
    this.#bindings = tokens.map((t) => {
      const d = digest(t.token);
      return { digest: d, identity: { key: d.toString('hex').slice(0, 12), context: t.context, namespaces: t.namespaces ?? [] } };
    });
  }

  /** Constant-time: compares fixed-size digests, and always walks every binding. */
  fromToken(token: string): Identity | undefined {
    if (token === '') return undefined;
    const d = digest(token);
    let found: Identity | undefined;
    for (const b of this.#bindings) if (timingSafeEqual(b.digest, d)) found = b.identity;
    return found;
  }

  /** A new cookie session for an identity; returns the opaque id to put in the cookie. */
  startCookieSession(identity: Identity): string {
    const id = randomBytes(32).toString('base64url');
    if (this.#cookies.size >= MAX_COOKIE_SESSIONS) {
      const oldest = this.#cookies.keys().next().value;
      if (oldest !== undefined) this.#cookies.delete(oldest);
    }
    this.#cookies.set(id, identity);
    return id;
  }

  /** From the `Cookie` and `Authorization` request headers. */
  fromHeaders(cookie: string, authorization: string): Identity | undefined {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (bearer) return this.fromToken(bearer[1] as string);
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq === -1 || part.slice(0, eq).trim() !== COOKIE_NAME) continue;
      const id = this.#cookies.get(part.slice(eq + 1).trim());
      if (id) return id;
    }
    return undefined;
  }

  cookieHeader(id: string, secure: boolean): string {
    return `${COOKIE_NAME}=${id}; HttpOnly; SameSite=Strict; Path=/${secure ? '; Secure' : ''}`;
  }
}

/**
 * PROTOCOL.md: the `Origin` header, when present, must match the allowed origins; the default is
 * the server's own origin, i.e. the Host header over http(s).
 */
export function originAllowed(origin: string, host: string, allowed: readonly string[] | undefined): boolean {
  if (origin === '') return true;
  if (allowed && allowed.length > 0) return allowed.includes(origin);
  return host !== '' && (origin === `http://${host}` || origin === `https://${host}`);
}
