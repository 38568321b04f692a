/**
 * The one entry point that turns a request's `Cookie` and `Authorization` headers into a Caller:
 * http-routes and ws-exec both use it, so every route sees the same person.
 *
 * Order: an `Authorization: Bearer` header wins over cookies (as today). A bearer is first looked
 * up among the static tokens (constant time), then, when OIDC is configured and it looks like a
 * JWT, verified as an ID token of the issuer (bearer-verifier.ts). Cookies: the static-token
 * cookie (token-auth.ts), then the signed-in session cookie (session-cookie.ts).
 *
 * Acting in Kubernetes (`--identity`):
 * - static `--user TOKEN=CONTEXT` tokens (and the start-up token): that context's own
 *   credentials, no impersonation; the person is `token:<hash prefix>` (the audit log's and the
 *   recordings' owner name, never the token), so each token keeps its own session allowance;
 * - `--person TOKEN=USERNAME:GROUPS` tokens: impersonated, in either mode (there is no ID token
 *   to pass through);
 * - OIDC persons: impersonated (`impersonate`, the default), or their ID token is the bearer
 *   (`passthrough`): a bearer request passes its own token; a browser session carries the ID
 *   token in its cookie (session-cookie.ts `idToken`), so any replica can pass it on.
 *
 * Audit (issue 11): a bearer credential that is refused (no static token matches and it is not a
 * valid ID token) writes `auth.failed` with our reason, never the token. A cookie that no longer
 * verifies does not: browsers keep stale cookies after a restart or a secret change, and every
 * page load would be an "attack".
 */
import type { KubeIdentity } from '../kube/act-as.js';
import { whoFields, type AuditSink, type RequestClient } from '../audit/request-audit.js';
import { bearerToken, type BearerVerifier } from './bearer-verifier.js';
import { AuthError } from './errors.js';
import type { Caller, Person } from './person.js';
import type { SessionCookie } from './session-cookie.js';
import type { Identity, StaticTokens, TokenMatch } from './token-auth.js';

export type IdentityMode = 'impersonate' | 'passthrough';

export interface OidcAuth {
  verifier: BearerVerifier;
  cookies: SessionCookie;
}

export interface AuthenticatorOptions {
  tokens: StaticTokens;
  identity: IdentityMode;
  oidc?: OidcAuth | undefined;
  /** Where refused credentials are audited (`auth.failed`); absent = not audited. */
  audit?: AuditSink | undefined;
}

/** Three base64url parts: worth a signature check (anything else is not an ID token). */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

export class Authenticator {
  readonly #o: AuthenticatorOptions;

  constructor(o: AuthenticatorOptions) {
    this.#o = o;
  }

  get tokens(): StaticTokens {
    return this.#o.tokens;
  }

  get oidcEnabled(): boolean {
    return this.#o.oidc !== undefined;
  }

  get identityMode(): IdentityMode {
    return this.#o.identity;
  }

  /**
   * The caller, or undefined when the request carries no credential we accept. A bearer ID token
   * that fails verification throws its AuthError (401, or 502 when the provider is unreachable),
   * so the reason reaches the log; the client sees only the error's safe message.
   */
  async resolve(cookie: string, authorization: string, client?: RequestClient): Promise<Caller | undefined> {
    const match = this.#o.tokens.match(cookie, authorization);
    if (match) return this.#fromToken(match);
    const oidc = this.#o.oidc;
    const bearer = /^Bearer\s/i.test(authorization);
    if (bearer) {
      const token = bearerToken(authorization);
      if (!oidc || !token || !JWT_SHAPE.test(token)) {
        this.failed('unknown-token', 'bearer', client);
        return undefined;
      }
      let person;
      try {
        person = await oidc.verifier.verify(token);
      } catch (err) {
        this.failed(err instanceof AuthError ? err.reason : 'Internal', 'bearer', client);
        throw err;
      }
      return this.#oidcCaller({ ...person, via: 'oidc' }, token, 'bearer');
    }
    if (!oidc) return undefined;
    const s = await oidc.cookies.fromCookieHeader(cookie);
    if (!s) return undefined;
    return this.#oidcCaller({ username: s.username, groups: s.groups, via: s.via, expiresAt: s.expiresAt }, s.idToken, 'cookie');
  }

  /** Writes `auth.failed` (our reason and how the credential came, never the credential). */
  failed(reason: string, via: string, client: RequestClient | undefined): void {
    this.#o.audit?.write('auth.failed', { ...whoFields(undefined, client), via, reason });
  }

  /** The caller a static token stands for (the `/?token=` exchange names them in `auth.login`). */
  callerOfToken(identity: Identity): Caller {
    return this.#fromToken({ identity, expiresAt: null, credential: 'cookie' });
  }

  #fromToken(m: TokenMatch): Caller {
    const id = m.identity;
    if (id.person) {
      return {
        person: { username: id.person.username, groups: [...id.person.groups], via: 'token', expiresAt: m.expiresAt },
        kube: { context: undefined, as: { user: id.person.username, groups: [...id.person.groups] } },
        namespaces: id.namespaces,
        credential: m.credential,
      };
    }
    return {
      person: { username: `token:${id.key}`, groups: [], via: 'token', expiresAt: m.expiresAt },
      kube: { context: id.context },
      namespaces: id.namespaces,
      credential: m.credential,
    };
  }

  #oidcCaller(person: Person, idToken: string | undefined, credential: 'cookie' | 'bearer'): Caller | undefined {
    let kube: KubeIdentity;
    if (this.#o.identity === 'passthrough') {
      // A session signed in while the gateway impersonated has no token to pass: sign in again.
      if (!idToken) return undefined;
      kube = { context: undefined, as: { bearer: idToken } };
    } else {
      kube = { context: undefined, as: { user: person.username, groups: [...person.groups] } };
    }
    return { person, kube, namespaces: [], credential };
  }
}
