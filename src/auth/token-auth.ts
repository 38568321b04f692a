/**
 * Who is calling. A start-up token is exchanged once (`GET /?token=`) for a cookie; non-browser
 * clients send `Authorization: Bearer T`. Tokens are compared in constant time and never logged.
 *
 * The cookie is stateless: `INDEX.EXPIRES.NONCE.MAC`, where MAC is an HMAC-SHA256 over the rest
 * with a key derived from the token it was exchanged for. It never contains the token, and any
 * gateway that knows the same token accepts it: replicas behind a Service need no sticky sessions
 * and a restart logs nobody out (DESIGN.md: no state that a restart must recover). Changing the
 * token revokes every cookie issued for it.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A static token: bound to a kubeconfig context (`--user TOKEN=CONTEXT[:NS,NS]`, the gateway acts
 * with that context's credentials), or to a person (`--person TOKEN=USERNAME[:GROUP,GROUP]`, the
 * gateway impersonates them with its own credentials). Never both.
 */
export interface TokenBinding {
  token: string;
  context?: string;
  namespaces?: string[];
  /** `--person`: the username the token stands for (then `context` is unset). */
  username?: string;
  groups?: string[];
}

export interface Identity {
  /** Stable, non-secret key for logs (a hash prefix of the token). */
  key: string;
  context: string | undefined;
  namespaces: string[];
  /** Set for `--person` tokens. */
  person: { username: string; groups: string[] } | undefined;
}

/** What a static credential resolved to, and until when (cookies expire; tokens do not). */
export interface TokenMatch {
  identity: Identity;
  /** Unix seconds; null for a token sent as a bearer. */
  expiresAt: number | null;
  credential: 'cookie' | 'bearer';
}

export const COOKIE_NAME = 'podterm_session';
/** How long a cookie is honoured after the token exchange. */
export const COOKIE_LIFETIME_S = 24 * 60 * 60;

interface Binding {
  digest: Buffer;
  cookieKey: Buffer;
  identity: Identity;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export class StaticTokens {
  readonly #bindings: Binding[];
  readonly #now: () => number;

  constructor(tokens: readonly TokenBinding[], now: () => number = Date.now) {
    this.#now = now;
    this.#bindings = tokens.map((t) => {
      const d = digest(t.token);
      return {
        digest: d,
        cookieKey: createHmac('sha256', t.token).update('podterm cookie v1').digest(),
        identity: {
          key: d.toString('hex').slice(0, 12),
          context: t.username === undefined ? t.context : undefined,
          namespaces: t.namespaces ?? [],
          person: t.username === undefined ? undefined : { username: t.username, groups: [...(t.groups ?? [])] },
        },
      };
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

  /** The cookie value for an identity (one this authenticator issued). */
  startCookieSession(identity: Identity): string {
    const index = this.#bindings.findIndex((b) => b.identity === identity);
    if (index === -1) throw new Error('cookie for an identity this authenticator does not know');
    const expires = Math.floor(this.#now() / 1000) + COOKIE_LIFETIME_S;
    const body = `${index}.${expires}.${randomBytes(12).toString('base64url')}`;
    return `${body}.${this.#mac((this.#bindings[index] as Binding).cookieKey, body)}`;
  }

  #mac(key: Buffer, body: string): string {
    return createHmac('sha256', key).update(body).digest('base64url');
  }

  #fromCookieValue(value: string): TokenMatch | undefined {
    const m = /^(\d{1,4})\.(\d{1,12})\.([\w-]{16})\.([\w-]{43})$/.exec(value);
    if (!m) return undefined;
    const binding = this.#bindings[Number(m[1])];
    if (!binding || Number(m[2]) * 1000 <= this.#now()) return undefined;
    const expected = Buffer.from(this.#mac(binding.cookieKey, `${m[1]}.${m[2]}.${m[3]}`));
    const given = Buffer.from(m[4] as string);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return { identity: binding.identity, expiresAt: Number(m[2]), credential: 'cookie' };
  }

  /** From the `Cookie` and `Authorization` request headers. */
  fromHeaders(cookie: string, authorization: string): Identity | undefined {
    return this.match(cookie, authorization)?.identity;
  }

  /** As fromHeaders, with the expiry and the kind of credential. A bearer header wins over cookies. */
  match(cookie: string, authorization: string): TokenMatch | undefined {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (bearer) {
      const identity = this.fromToken(bearer[1] as string);
      return identity && { identity, expiresAt: null, credential: 'bearer' };
    }
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq === -1 || part.slice(0, eq).trim() !== COOKIE_NAME) continue;
      const found = this.#fromCookieValue(part.slice(eq + 1).trim());
      if (found) return found;
    }
    return undefined;
  }

  cookieHeader(value: string, secure: boolean): string {
    return `${COOKIE_NAME}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${COOKIE_LIFETIME_S}${secure ? '; Secure' : ''}`;
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
