/**
 * `Authorization: Bearer <ID token>` for non-browser clients: the ID token is verified with jose
 * against the issuer's JWKS (signature, `iss`, `aud` = client id, `exp`/`nbf`/`iat` with at most
 * 60 s of skew), as the API server's `--oidc-*` flags do, then mapped to a person with the same
 * claim rules as the browser sign-in (claims.ts).
 *
 * Algorithms: only asymmetric JWS algorithms that the issuer advertises in
 * `id_token_signing_alg_values_supported`. Never `none` (jose refuses unsecured JWTs outright)
 * and never HS*: with a public JWKS, an HMAC "signature" keyed by a public key proves nothing
 * (the RFC 8725 3.1 algorithm-confusion attack).
 *
 * Caches, both bounded: jose keeps one copy of the JWKS (refetched at most every `cooldown` on an
 * unknown `kid`, and after `cacheMaxAge`); verified tokens are kept in an LRU of `cacheMax` entries,
 * keyed by the token's SHA-256, until the token expires (at most `cacheTtlS`), so a client sending
 * the same token on every request costs one signature check per token, not per request.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { personFromClaims, type ClaimMapping, type Person } from './claims.js';
import { AuthError } from './errors.js';
import { authErrorFromJose } from './jose-errors.js';
import { assertProviderUrl } from './url-policy.js';

/** RFC 7518 3.1 and RFC 8037: the asymmetric JWS algorithms jose verifies. */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
];
/** The bound on clock skew. */
export const MAX_CLOCK_TOLERANCE_S = 60;

export interface BearerVerifierOptions {
  issuer: string;
  /** The OIDC client id; the token's `aud` must contain it. */
  clientId: string;
  jwksUri: string;
  /** The issuer's `id_token_signing_alg_values_supported`; filtered to ASYMMETRIC_ALGORITHMS. */
  advertisedAlgorithms: readonly string[] | undefined;
  mapping: ClaimMapping;
  /** Seconds, at most 60 (default 60). */
  clockToleranceS?: number;
  /** Verified tokens remembered (default 10,000). */
  cacheMax?: number;
  /** Longest a verified token is remembered, seconds (default 300). */
  cacheTtlS?: number;
  /** Clock, ms since the epoch (tests). */
  now?: () => number;
  /** Key resolver instead of the remote JWKS (tests of the verifier alone). */
  keys?: JWTVerifyGetKey;
}

/** The token in an `Authorization` header value, or undefined when it is not a Bearer one. */
export function bearerToken(authorization: string): string | undefined {
  const m = /^Bearer[ \t]+([\w.~+/=-]+)[ \t]*$/i.exec(authorization);
  return m ? m[1] : undefined;
}

/** Which algorithms to accept; throws when the issuer offers no asymmetric one. */
export function idTokenAlgorithms(advertised: readonly string[] | undefined): string[] {
  // OIDC Discovery 1.0 section 3: the value is REQUIRED and must include RS256; assume RS256 if absent.
  const list = (advertised ?? ['RS256']).filter((a) => ASYMMETRIC_ALGORITHMS.includes(a));
  if (list.length === 0) {
    throw new TypeError(`the issuer advertises no asymmetric ID token algorithm (${(advertised ?? []).join(', ')})`);
  }
  return list;
}

export class BearerVerifier {
  readonly algorithms: readonly string[];
  readonly #o: BearerVerifierOptions;
  readonly #keys: JWTVerifyGetKey;
  readonly #tolerance: number;
  readonly #now: () => number;
  readonly #cache: LRUCache<string, Person>;
  readonly #cacheTtlMs: number;

  constructor(o: BearerVerifierOptions) {
    this.#o = o;
    this.algorithms = idTokenAlgorithms(o.advertisedAlgorithms);
    this.#tolerance = Math.min(o.clockToleranceS ?? MAX_CLOCK_TOLERANCE_S, MAX_CLOCK_TOLERANCE_S);
    this.#now = o.now ?? Date.now;
    this.#keys = o.keys ?? createRemoteJWKSet(assertProviderUrl(o.jwksUri, 'jwks_uri'), {
      timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000,
    });
    this.#cacheTtlMs = (o.cacheTtlS ?? 300) * 1000;
    // No ttlAutopurge: lru-cache then starts no timers; stale entries are dropped when read.
    this.#cache = new LRUCache<string, Person>({ max: o.cacheMax ?? 10_000, ttl: this.#cacheTtlMs });
  }

  /** A verifier for the issuer and client an OidcClient discovered (structurally: no import). */
  static forClient(c: { issuer: string; clientId: string; jwksUri: string; idTokenAlgorithms: readonly string[] | undefined; mapping: ClaimMapping },
    o: Pick<BearerVerifierOptions, 'clockToleranceS' | 'cacheMax' | 'cacheTtlS' | 'now'> = {}): BearerVerifier {
    return new BearerVerifier({ ...o, issuer: c.issuer, clientId: c.clientId, jwksUri: c.jwksUri,
      advertisedAlgorithms: c.idTokenAlgorithms, mapping: c.mapping });
  }

  /** Entries held now (for tests and metrics). */
  get cacheSize(): number {
    return this.#cache.size;
  }

  /** The person an ID token names; throws AuthError with the reason it is refused. */
  async verify(token: string): Promise<Person> {
    const nowMs = this.#now();
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.#cache.get(key);
    if (hit && (hit.expiresAt + this.#tolerance) * 1000 > nowMs) return { ...hit, groups: [...hit.groups] };
    if (hit) this.#cache.delete(key);

    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch (err) {
      throw new AuthError('malformed', { cause: err });
    }
    // RFC 9068 2.1: JWT access tokens say `at+jwt`; they are not ID tokens even when `aud` matches.
    if (typeof header.typ === 'string' && /^(application\/)?at\+jwt$/i.test(header.typ)) {
      throw new AuthError('not-an-id-token');
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#keys, {
        issuer: this.#o.issuer,
        audience: this.#o.clientId,
        algorithms: [...this.algorithms],
        clockTolerance: this.#tolerance,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
        currentDate: new Date(nowMs),
      }));
    } catch (err) {
      throw authErrorFromJose(err);
    }
    // jose checks `iat` only with maxTokenAge; a token issued in the future is a clock or forgery
    // problem either way (OIDC Core 3.1.3.7 item 10 lets us refuse it).
    if (typeof payload.iat === 'number' && payload.iat > nowMs / 1000 + this.#tolerance) {
      throw new AuthError('not-yet-valid');
    }
    // OIDC Core 3.1.3.7 items 4-5: several audiences need an `azp`, and it must be us.
    const multi = Array.isArray(payload.aud) && payload.aud.length > 1;
    if ((multi || payload.azp !== undefined) && payload.azp !== this.#o.clientId) {
      throw new AuthError('bad-audience');
    }
    const person = personFromClaims(payload, this.#o.mapping);
    const ttl = Math.min(this.#cacheTtlMs, (person.expiresAt + this.#tolerance) * 1000 - nowMs);
    if (ttl > 0) this.#cache.set(key, { ...person, groups: [...person.groups] }, { ttl });
    return person;
  }
}
