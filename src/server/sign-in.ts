/**
 * Builds the sign-in objects from the gateway's OIDC options: the relying party (discovery), the
 * bearer verifier for the same issuer and client, and the session cookie keyed by the gateway
 * secret (`--session-secret-file`, else the client secret: HKDF gives each use its own key, and
 * every replica configured alike derives the same keys).
 */
import { BearerVerifier } from '../auth/bearer-verifier.js';
import { OidcClient } from '../auth/oidc-client.js';
import { MIN_SECRET_BYTES } from '../auth/secrets.js';
import { SessionCookie } from '../auth/session-cookie.js';
import type { SignIn } from './auth-routes.js';

export interface OidcGatewayOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Default: the gateway's own origin + `/auth/callback`. */
  redirectUrl?: string | undefined;
  scopes?: string | undefined;
  usernameClaim?: string | undefined;
  usernamePrefix?: string | undefined;
  groupsClaim?: string | undefined;
  groupsPrefix?: string | undefined;
  /** Signs the session cookie and encrypts the login state; default: the client secret. */
  sessionSecret?: string | undefined;
}

export interface StartedSignIn extends SignIn {
  verifier: BearerVerifier;
  redirectUrl: string;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Throws TypeError for bad options, AuthError('provider-unavailable') when discovery fails. */
export async function startSignIn(o: OidcGatewayOptions, ownUrl: string): Promise<StartedSignIn> {
  const secret = o.sessionSecret ?? o.clientSecret;
  if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    throw new TypeError(`the session secret must be at least ${MIN_SECRET_BYTES} bytes: give --session-secret-file (the client secret is used when it is long enough)`);
  }
  const redirectUrl = o.redirectUrl ?? `${ownUrl}/auth/callback`;
  const client = await OidcClient.discover({
    issuer: o.issuer,
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    redirectUrl,
    secret,
    ...defined({ scopes: o.scopes, usernameClaim: o.usernameClaim, usernamePrefix: o.usernamePrefix, groupsClaim: o.groupsClaim, groupsPrefix: o.groupsPrefix }),
  });
  return {
    client,
    verifier: BearerVerifier.forClient(client),
    cookies: new SessionCookie({ secret }),
    afterLogout: `${new URL(redirectUrl).origin}/`,
    redirectUrl,
  };
}
