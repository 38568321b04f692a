/**
 * From ID token claims to a person, with the API server's rules for its flags of the same names
 * (k8s.io/apiserver plugin/pkg/authenticator/token/oidc, and kube-apiserver's options):
 *
 * - `--oidc-username-claim` (default `email`): a non-empty string claim. When it is `email` and
 *   `email_verified` is present, `email_verified` must be `true`.
 * - `--oidc-username-prefix`: unset means no prefix for `email` and `ISSUER#` for any other claim
 *   (kubernetes/kubernetes#31380, so `sub` values of two issuers cannot collide); `-` means no
 *   prefix; anything else is prepended.
 * - `--oidc-groups-claim` (default `groups`; empty turns groups off): a string or an array of
 *   strings; a missing claim means no groups (kubernetes/kubernetes#33290 allows the string form).
 * - `--oidc-groups-prefix`: prepended to every group, no special values.
 *
 * podterm applies these itself so that the person it impersonates is named exactly as the API
 * server would name them if the same ID token were sent to it (passthrough mode).
 */
import { AuthError } from './errors.js';

export interface ClaimMappingOptions {
  usernameClaim?: string;
  /** `undefined`: the API server default (see above); `-`: none. */
  usernamePrefix?: string;
  groupsClaim?: string;
  groupsPrefix?: string;
}

export interface ClaimMapping {
  readonly usernameClaim: string;
  /** The prefix actually applied, after the defaulting above. */
  readonly usernamePrefix: string;
  /** Empty: groups are not read. */
  readonly groupsClaim: string;
  readonly groupsPrefix: string;
}

export interface Person {
  username: string;
  groups: string[];
  /** Unix time in seconds (the ID token's `exp`). */
  expiresAt: number;
}

export const DEFAULT_USERNAME_CLAIM = 'email';
export const DEFAULT_GROUPS_CLAIM = 'groups';

export function resolveClaimMapping(issuer: string, o: ClaimMappingOptions = {}): ClaimMapping {
  const usernameClaim = o.usernameClaim || DEFAULT_USERNAME_CLAIM;
  let usernamePrefix: string;
  if (o.usernamePrefix === '-') usernamePrefix = '';
  else if (o.usernamePrefix) usernamePrefix = o.usernamePrefix;
  else usernamePrefix = usernameClaim === 'email' ? '' : `${issuer}#`;
  return {
    usernameClaim,
    usernamePrefix,
    groupsClaim: o.groupsClaim ?? DEFAULT_GROUPS_CLAIM,
    groupsPrefix: o.groupsPrefix ?? '',
  };
}

/** Names end up in `Impersonate-User`/`Impersonate-Group` headers: no control characters. */
function usable(s: unknown): s is string {
  return typeof s === 'string' && s !== '' && !/[\u0000-\u001f\u007f]/.test(s);
}

/** `claims` must come from a verified ID token; `exp` is checked by the caller, here only read. */
export function personFromClaims(claims: Record<string, unknown>, m: ClaimMapping): Person {
  const name = claims[m.usernameClaim];
  if (!usable(name)) {
    throw new AuthError('bad-claim', { cause: new Error(`claim ${m.usernameClaim} is missing or not a usable string`) });
  }
  if (m.usernameClaim === 'email' && claims.email_verified !== undefined && claims.email_verified !== true) {
    throw new AuthError('email-not-verified');
  }
  let groups: string[] = [];
  if (m.groupsClaim !== '' && claims[m.groupsClaim] !== undefined) {
    const raw = claims[m.groupsClaim];
    const list = typeof raw === 'string' ? [raw] : raw;
    if (!Array.isArray(list) || !list.every(usable)) {
      throw new AuthError('bad-claim', { cause: new Error(`claim ${m.groupsClaim} is not a string or an array of strings`) });
    }
    groups = [...new Set(list.map((g) => m.groupsPrefix + g))];
  }
  const exp = claims.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) {
    throw new AuthError('bad-claim', { cause: new Error('exp is missing') });
  }
  return { username: m.usernamePrefix + name, groups, expiresAt: exp };
}
