/**
 * OIDC bearer-token authentication with the API server's flag semantics (`--oidc-issuer-url`,
 * `--oidc-client-id`, `--oidc-username-claim` default `sub`, `--oidc-username-prefix`,
 * `--oidc-groups-claim`, `--oidc-groups-prefix`, `--oidc-signing-algs` default RS256; see
 * staging/src/k8s.io/apiserver/plugin/pkg/authenticator/token/oidc/oidc.go). Keys come from the
 * issuer's discovered `jwks_uri` through jose's remote JWKS; signature, `iss`, `aud` (the client
 * id) and `exp`/`nbf` are checked with 60 s of clock skew. Any failure is "not authenticated".
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { UserInfo } from './identity.js';

export interface OidcOptions {
  readonly issuerUrl: string;
  readonly clientId: string;
  /** Default `sub`. */
  readonly usernameClaim?: string;
  /** Absent: `<issuer>#` unless the claim is `email`; `-` disables prefixing (kube's rule). */
  readonly usernamePrefix?: string;
  readonly groupsClaim?: string;
  readonly groupsPrefix?: string;
  /** Default ['RS256'], as the API server's. */
  readonly signingAlgs?: readonly string[];
}

export class OidcConfigError extends Error {
  override readonly name = 'OidcConfigError';
}

const SKEW_S = 60;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** HTTPS issuers only, except plain http on the loopback interface (for tests with an in-process issuer). */
export function checkIssuerUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OidcConfigError(`--oidc-issuer ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return url;
  throw new OidcConfigError(`--oidc-issuer must be https (http only on 127.0.0.1 / localhost), got ${JSON.stringify(raw)}`);
}

export class OidcAuthenticator {
  readonly #opts: OidcOptions;
  readonly #usernamePrefix: string;
  #jwks: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;

  constructor(opts: OidcOptions) {
    checkIssuerUrl(opts.issuerUrl);
    if (opts.clientId === '') throw new OidcConfigError('--oidc-client-id must not be empty');
    this.#opts = opts;
    const claim = opts.usernameClaim ?? 'sub';
    const prefix = opts.usernamePrefix;
    this.#usernamePrefix = prefix === '-' ? '' : (prefix ?? (claim === 'email' ? '' : `${opts.issuerUrl}#`));
  }

  /** The issuer's discovery document, fetched once (again after a failure), then its JWKS. */
  #keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.#jwks) return this.#jwks;
    const pending = (async () => {
      const base = this.#opts.issuerUrl.replace(/\/$/, '');
      const res = await fetch(`${base}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`discovery answered ${res.status}`);
      const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
      // OIDC Discovery 1.0 §4.3: the document's issuer must be the configured one, exactly.
      if (doc.issuer !== this.#opts.issuerUrl) throw new Error(`discovery issuer ${JSON.stringify(doc.issuer)} does not match`);
      if (typeof doc.jwks_uri !== 'string') throw new Error('discovery has no jwks_uri');
      return createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: 5000 });
    })();
    pending.catch(() => {
      if (this.#jwks === pending) this.#jwks = undefined;
    });
    this.#jwks = pending;
    return pending;
  }

  /** The user a token names, or null for any invalid, expired, foreign or unverifiable token. */
  async authenticate(token: string): Promise<UserInfo | null> {
    if (token.split('.').length !== 3) return null;
    try {
      const keys = await this.#keys();
      const { payload } = await jwtVerify(token, keys, {
        issuer: this.#opts.issuerUrl,
        audience: this.#opts.clientId,
        algorithms: [...(this.#opts.signingAlgs ?? ['RS256'])],
        clockTolerance: SKEW_S,
        requiredClaims: ['exp'],
      });
      return this.#userOf(payload);
    } catch {
      return null;
    }
  }

  #userOf(payload: JWTPayload): UserInfo | null {
    const claim = this.#opts.usernameClaim ?? 'sub';
    const name = payload[claim];
    if (typeof name !== 'string' || name === '') return null;
    // oidc.go: with the email claim, an email_verified claim that is present must be true.
    if (claim === 'email' && 'email_verified' in payload && payload.email_verified !== true) return null;
    const groups: string[] = [];
    const gc = this.#opts.groupsClaim;
    if (gc !== undefined && payload[gc] !== undefined) {
      const raw = payload[gc];
      const list = typeof raw === 'string' ? [raw] : Array.isArray(raw) && raw.every((g) => typeof g === 'string') ? (raw as string[]) : null;
      if (list === null) return null;
      for (const g of list) groups.push(`${this.#opts.groupsPrefix ?? ''}${g}`);
    }
    return { username: `${this.#usernamePrefix}${name}`, groups };
  }
}
