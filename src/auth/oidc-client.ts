/**
 * The gateway as an OpenID Connect relying party (openid-client 6): authorization code flow with
 * PKCE (RFC 7636, S256), `state` and `nonce`, for `GET /auth/login` and `GET /auth/callback`, and
 * RP-initiated logout for `POST /auth/logout`.
 *
 * Between login and callback the gateway keeps nothing: the PKCE verifier, state, nonce and the
 * page to return to travel in a short-lived cookie, encrypted (JWE `dir` + A256GCM, RFC 7516) with
 * a key derived from the gateway secret, so any replica can finish a login another one started.
 * That cookie must be `SameSite=Lax`: the callback is a cross-site top-level navigation from the
 * provider, and a `Strict` cookie would not be sent on it (stateCookieHeader() does this).
 *
 * Scopes default to `openid email profile`: those are the standard scopes (OIDC Core 5.4). `groups`
 * is not standard; some providers need it (Dex), others put groups in the token anyway (Keycloak
 * with a groups mapper, Azure AD) and some reject unknown scopes (`invalid_scope`), so it is left
 * to `--oidc-scopes`. `openid` is always added.
 */
import * as oidc from 'openid-client';
import { EncryptJWT, jwtDecrypt } from 'jose';
import { personFromClaims, resolveClaimMapping, type ClaimMapping, type ClaimMappingOptions, type Person } from './claims.js';
import { AuthError } from './errors.js';
import { deriveKey } from './secrets.js';
import { assertProviderUrl, isLoopbackHttp } from './url-policy.js';

export interface OidcClientOptions extends ClaimMappingOptions {
  /** `--oidc-issuer`: https, or http on a loopback host only. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** `--oidc-redirect-url`: the gateway's `/auth/callback`, exactly as registered at the provider. */
  redirectUrl: string;
  /** `--oidc-scopes`, space separated (default `openid email profile`). */
  scopes?: string;
  /** The gateway secret (>= 16 bytes) the login-state cookie is encrypted with. */
  secret: string | Uint8Array;
  /** Seconds for each request to the provider (default 10). */
  timeoutS?: number;
  /** How long a started login may take, seconds (default 600). */
  loginTtlS?: number;
}

export interface LoginStart {
  /** Where to send the browser (302). */
  url: string;
  /** The value of the login-state cookie; stateCookieHeader() builds the Set-Cookie. */
  stateCookie: string;
}

export interface LoginResult extends Person {
  /** The raw ID token: for `--identity passthrough` and as `id_token_hint` at logout. */
  idToken: string;
  /** The local path given to startLogin(), or `/`. */
  returnTo: string;
}

export const STATE_COOKIE_NAME = 'podterm_oidc_login';
export const DEFAULT_SCOPES = 'openid email profile';

/** A local path only (`/x`, not `//host` or `/\host`): never an open redirect. */
export function safeReturnTo(path: string | undefined): string {
  return path && /^\/(?![/\\])[^\s]*$/.test(path) ? path : '/';
}

function failure(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof oidc.AuthorizationResponseError || err instanceof oidc.ResponseBodyError) {
    return new AuthError('login-rejected', { cause: err });
  }
  if (err instanceof oidc.ClientError) {
    return new AuthError(err.code === 'OAUTH_INVALID_RESPONSE' ? 'login-state' : 'login-rejected', { cause: err });
  }
  if (err instanceof TypeError || (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))) {
    return new AuthError('provider-unavailable', { cause: err });
  }
  return new AuthError('login-rejected', { cause: err });
}

export class OidcClient {
  readonly mapping: ClaimMapping;
  readonly scopes: string;
  readonly #config: oidc.Configuration;
  readonly #redirectUrl: URL;
  readonly #stateKey: Uint8Array;
  readonly #loginTtlS: number;

  private constructor(config: oidc.Configuration, o: OidcClientOptions, redirectUrl: URL) {
    this.#config = config;
    this.#redirectUrl = redirectUrl;
    this.#stateKey = deriveKey(o.secret, 'login-state');
    this.#loginTtlS = o.loginTtlS ?? 600;
    this.mapping = resolveClaimMapping(config.serverMetadata().issuer, o);
    const scopes = new Set((o.scopes ?? DEFAULT_SCOPES).split(/\s+/).filter(Boolean));
    this.scopes = ['openid', ...[...scopes].filter((s) => s !== 'openid')].join(' ');
  }

  /**
   * Fetches the provider's discovery document (`ISSUER/.well-known/openid-configuration`) and
   * checks that it is usable. Throws TypeError for bad options, AuthError('provider-unavailable')
   * when the provider cannot be reached or its document is not valid (with the detail in `cause`).
   */
  static async discover(o: OidcClientOptions): Promise<OidcClient> {
    const issuer = assertProviderUrl(o.issuer, '--oidc-issuer');
    const redirectUrl = new URL(o.redirectUrl);
    if (!o.clientId) throw new TypeError('--oidc-client-id is required');
    deriveKey(o.secret, 'login-state'); // fail on a short secret before any network call
    let config: oidc.Configuration;
    try {
      config = await oidc.discovery(issuer, o.clientId, { client_secret: o.clientSecret }, undefined, {
        // openid-client refuses http by itself; the loopback exception is ours (url-policy.ts).
        execute: isLoopbackHttp(issuer) ? [oidc.allowInsecureRequests] : [],
        timeout: o.timeoutS ?? 10,
      });
    } catch (err) {
      throw new AuthError('provider-unavailable', { cause: err, message: `OpenID discovery at ${issuer.href} failed` });
    }
    const meta = config.serverMetadata();
    for (const [name, value] of [['jwks_uri', meta.jwks_uri], ['token_endpoint', meta.token_endpoint],
      ['authorization_endpoint', meta.authorization_endpoint]] as const) {
      if (!value) throw new AuthError('provider-unavailable', { message: `the provider's discovery document has no ${name}` });
      assertProviderUrl(value, name);
    }
    if (!meta.supportsPKCE('S256')) {
      // RFC 8414 2: absent means the server does not say; most support S256 without saying so.
      if (meta.code_challenge_methods_supported) {
        throw new AuthError('provider-unavailable', { message: 'the provider does not support PKCE with S256' });
      }
    }
    // OIDC Core 9: client_secret_basic is the default; use post only where basic is not offered.
    const methods = meta.token_endpoint_auth_methods_supported;
    const basic = !methods || methods.includes('client_secret_basic') || !methods.includes('client_secret_post');
    const client = new oidc.Configuration(meta, o.clientId, { client_secret: o.clientSecret },
      basic ? oidc.ClientSecretBasic(o.clientSecret) : oidc.ClientSecretPost(o.clientSecret));
    if (isLoopbackHttp(issuer)) oidc.allowInsecureRequests(client);
    client.timeout = o.timeoutS ?? 10;
    // Verify the ID token's signature too, not only TLS to the token endpoint (OIDC Core 3.1.3.7
    // makes it optional there): the same token may later be sent to the API server (passthrough).
    oidc.enableNonRepudiationChecks(client);
    return new OidcClient(client, o, redirectUrl);
  }

  get issuer(): string {
    return this.#config.serverMetadata().issuer;
  }

  get clientId(): string {
    return this.#config.clientMetadata().client_id;
  }

  get jwksUri(): string {
    return this.#config.serverMetadata().jwks_uri as string;
  }

  get idTokenAlgorithms(): readonly string[] | undefined {
    return this.#config.serverMetadata().id_token_signing_alg_values_supported;
  }

  get endSessionEndpoint(): string | undefined {
    return this.#config.serverMetadata().end_session_endpoint;
  }

  /** The provider URL to redirect to and the login-state cookie to set with that redirect. */
  async startLogin(o: { returnTo?: string } = {}): Promise<LoginStart> {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(this.#config, {
      redirect_uri: this.#redirectUrl.href,
      scope: this.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const stateCookie = await new EncryptJWT({ v: verifier, s: state, n: nonce, r: safeReturnTo(o.returnTo) })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt()
      .setExpirationTime(`${this.#loginTtlS}s`)
      .encrypt(this.#stateKey);
    return { url: url.href, stateCookie };
  }

  /**
   * Finishes a login at the callback. Only the query of `callback` is read (a URL, a path with
   * query, or `?code=...`); the redirect URI sent to the token endpoint is always the configured
   * one, so a proxy in front of the gateway does not matter. Throws AuthError: `login-state`
   * (no, foreign or expired state cookie, state or nonce mismatch), `login-rejected` (the user
   * cancelled, or the provider refused the code), `provider-unavailable`, or a claim failure.
   */
  async finishLogin(callback: URL | string, stateCookie: string | undefined): Promise<LoginResult> {
    if (!stateCookie) throw new AuthError('login-state');
    let saved: { v: string; s: string; n: string; r: string };
    try {
      const { payload } = await jwtDecrypt(stateCookie, this.#stateKey, {
        keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'], requiredClaims: ['exp'],
      });
      const { v, s, n, r } = payload;
      if (typeof v !== 'string' || typeof s !== 'string' || typeof n !== 'string' || typeof r !== 'string') throw new Error('fields');
      saved = { v, s, n, r };
    } catch (err) {
      throw new AuthError('login-state', { cause: err });
    }
    const current = new URL(this.#redirectUrl);
    current.search = new URL(callback, this.#redirectUrl).search;
    try {
      const tokens = await oidc.authorizationCodeGrant(this.#config, current, {
        pkceCodeVerifier: saved.v, expectedState: saved.s, expectedNonce: saved.n, idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims || !tokens.id_token) throw new AuthError('login-rejected');
      return { ...personFromClaims(claims, this.mapping), idToken: tokens.id_token, returnTo: saved.r };
    } catch (err) {
      throw failure(err);
    }
  }

  /**
   * The provider's end-session URL (OpenID Connect RP-Initiated Logout 1.0), or undefined when the
   * provider has no `end_session_endpoint`. `postLogoutRedirect` must be registered at the provider.
   */
  logoutUrl(o: { idTokenHint?: string; postLogoutRedirect: string; state?: string }): string | undefined {
    if (!this.endSessionEndpoint) return undefined;
    const params: Record<string, string> = { post_logout_redirect_uri: o.postLogoutRedirect, client_id: this.clientId };
    if (o.idTokenHint) params.id_token_hint = o.idTokenHint;
    if (o.state) params.state = o.state;
    return oidc.buildEndSessionUrl(this.#config, params).href;
  }

  /** `Set-Cookie` for the login-state cookie: Lax (see the header comment), scoped to /auth/. */
  stateCookieHeader(value: string, secure: boolean): string {
    return `${STATE_COOKIE_NAME}=${value}; HttpOnly; SameSite=Lax; Path=/auth/; Max-Age=${this.#loginTtlS}${secure ? '; Secure' : ''}`;
  }

  /** `Set-Cookie` that removes the login-state cookie (after the callback, either way). */
  clearStateCookieHeader(secure: boolean): string {
    return `${STATE_COOKIE_NAME}=; HttpOnly; SameSite=Lax; Path=/auth/; Max-Age=0${secure ? '; Secure' : ''}`;
  }
}
