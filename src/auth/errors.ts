/**
 * Why a sign-in, a bearer token or a cookie was refused. Every refusal is an `AuthError`: a
 * `PodtermError` (code `Unauthorized`, HTTP 401, or `UpstreamUnavailable` when the identity
 * provider cannot be reached) with a stable `reason` for logs and metrics. `message` is safe to
 * show; the library's own error (which may quote the provider) stays in `cause`, for logs only.
 */
import { PodtermError } from '../protocol/errors.js';

export type AuthFailure =
  /** Not a JWT / JWE / cookie value we can parse. */
  | 'malformed'
  /** The signature does not verify with any key of the issuer (or of the gateway, for cookies). */
  | 'bad-signature'
  /** `alg` is `none`, symmetric, or not one the issuer advertises. */
  | 'bad-algorithm'
  /** No key in the issuer's JWKS has the token's `kid`. */
  | 'unknown-key'
  | 'expired'
  | 'not-yet-valid'
  | 'bad-issuer'
  /** `aud` does not contain the client id, or `azp` names another client (OIDC Core 3.1.3.7). */
  | 'bad-audience'
  /** An access token (`typ: at+jwt`, RFC 9068) where an ID token is expected. */
  | 'not-an-id-token'
  /** The username claim is missing, or a claim has the wrong type or control characters. */
  | 'bad-claim'
  /** The username claim is `email` and `email_verified` is present but not `true` (as the API server). */
  | 'email-not-verified'
  /** The callback does not match the login this browser started (state, nonce, PKCE, expiry). */
  | 'login-state'
  /** The provider refused the sign-in or the code exchange (e.g. access_denied, invalid_grant). */
  | 'login-rejected'
  | 'provider-unavailable'
  /** The session would not fit in one cookie (too many groups). */
  | 'too-large';

const TEXT: Readonly<Record<AuthFailure, string>> = {
  'malformed': 'The credentials are not in a form the server can read.',
  'bad-signature': 'The token signature is not valid.',
  'bad-algorithm': 'The token is signed with an algorithm the server does not accept.',
  'unknown-key': 'The token is signed with a key the identity provider does not publish.',
  'expired': 'Your sign-in has expired; sign in again.',
  'not-yet-valid': 'The token is not valid yet.',
  'bad-issuer': 'The token was issued by another identity provider.',
  'bad-audience': 'The token was issued for another application.',
  'not-an-id-token': 'An access token was sent where an ID token is expected.',
  'bad-claim': 'The token does not name a user the server can use.',
  'email-not-verified': 'Your e-mail address is not verified by the identity provider.',
  'login-state': 'The sign-in did not match the one this browser started; sign in again.',
  'login-rejected': 'The identity provider did not complete the sign-in.',
  'provider-unavailable': 'The identity provider cannot be reached.',
  'too-large': 'Your account is in too many groups for a browser session; use a bearer token.',
};

export class AuthError extends PodtermError {
  readonly reason: AuthFailure;
  constructor(reason: AuthFailure, options?: { cause?: unknown; message?: string }) {
    super(reason === 'provider-unavailable' ? 'UpstreamUnavailable' : 'Unauthorized', options?.message ?? TEXT[reason],
      options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
  }
}
