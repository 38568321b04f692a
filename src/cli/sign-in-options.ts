/**
 * `--oidc-*`, `--session-secret-file` and `--identity` to the gateway's sign-in options. Secrets
 * come from files or `PODTERM_OIDC_CLIENT_SECRET`, never from argv (argv is visible in `ps`), and
 * are never echoed in an error.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './cli-errors.js';
import type { OidcGatewayOptions } from '../server/sign-in.js';

export const CLIENT_SECRET_ENV = 'PODTERM_OIDC_CLIENT_SECRET';

export interface SignInValues {
  'oidc-issuer': string | undefined;
  'oidc-client-id': string | undefined;
  'oidc-client-secret-file': string | undefined;
  'oidc-redirect-url': string | undefined;
  'oidc-username-claim': string;
  'oidc-username-prefix': string | undefined;
  'oidc-groups-claim': string;
  'oidc-groups-prefix': string | undefined;
  'oidc-scopes': string;
  'session-secret-file': string | undefined;
}

/** A secret file's content without the trailing newline editors and `kubectl create secret` add. */
function readSecret(file: string, what: string): string {
  const s = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (s === '') throw new UsageError(`${what}: ${file} is empty`);
  return s;
}

export function signInOptions(v: SignInValues, env: NodeJS.ProcessEnv): OidcGatewayOptions | undefined {
  const issuer = v['oidc-issuer'];
  if (issuer === undefined) {
    const stray = (['oidc-client-id', 'oidc-client-secret-file', 'oidc-redirect-url', 'oidc-username-prefix', 'oidc-groups-prefix', 'session-secret-file'] as const)
      .find((k) => v[k] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --oidc-issuer`);
    return undefined;
  }
  const clientId = v['oidc-client-id'];
  if (!clientId) throw new UsageError('--oidc-issuer needs --oidc-client-id');
  const file = v['oidc-client-secret-file'];
  const clientSecret = file ? readSecret(file, '--oidc-client-secret-file') : env[CLIENT_SECRET_ENV];
  if (!clientSecret) throw new UsageError(`--oidc-issuer needs the client secret: --oidc-client-secret-file FILE or $${CLIENT_SECRET_ENV}`);
  const sessionFile = v['session-secret-file'];
  return {
    issuer,
    clientId,
    clientSecret,
    redirectUrl: v['oidc-redirect-url'],
    scopes: v['oidc-scopes'],
    usernameClaim: v['oidc-username-claim'],
    usernamePrefix: v['oidc-username-prefix'],
    groupsClaim: v['oidc-groups-claim'],
    groupsPrefix: v['oidc-groups-prefix'],
    sessionSecret: sessionFile ? readSecret(sessionFile, '--session-secret-file') : undefined,
  };
}
