/** An IdP and an OidcClient for it, both torn down by the test that asked for them. */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { OidcClient, type OidcClientOptions } from '../../src/auth/oidc-client.js';
import { startTestIdp, USERS, type TestIdp, type TestIdpOptions } from '../helpers/oidc-provider.js';
import { FormAgent, signInWithForms } from '../helpers/form-agent.js';

export const REDIRECT = 'https://podterm.example/auth/callback';
export const AFTER_LOGOUT = 'https://podterm.example/';
export const SECRET = 'gateway-secret-0123456789abcdef';

export async function startIdp(t: TestContext, o: Partial<TestIdpOptions> = {}): Promise<TestIdp> {
  const idp = await startTestIdp({ redirectUris: [REDIRECT], postLogoutRedirectUris: [AFTER_LOGOUT], ...o });
  t.after(() => idp.close());
  t.after(() => assert.deepEqual(idp.serverErrors, [], 'the provider reported server errors'));
  return idp;
}

export function discover(idp: TestIdp, o: Partial<OidcClientOptions> = {}): Promise<OidcClient> {
  return OidcClient.discover({
    issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, redirectUrl: REDIRECT, secret: SECRET, ...o,
  });
}

/** A whole browser sign-in with forms; returns the callback URL and the state cookie to finish it. */
export async function signIn(client: OidcClient, user: 'alice' | 'bob', agent = new FormAgent(), returnTo?: string):
  Promise<{ callback: string; stateCookie: string }> {
  const start = await client.startLogin(returnTo === undefined ? {} : { returnTo });
  const callback = await signInWithForms(agent, start.url, REDIRECT, user, USERS[user]!.password);
  return { callback, stateCookie: start.stateCookie };
}
