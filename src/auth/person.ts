/**
 * The person behind an identity, as the audit log, the recordings and the per-person limits name
 * them. With static tokens the person is the token's stable hash key (never the token); OIDC
 * sign-in gives a username and groups.
 */
import type { Identity } from './token-auth.js';

export interface Person {
  user: string;
  groups: string[];
  via: 'token' | 'oidc';
}

export function personOf(identity: Identity): Person {
  return { user: `token:${identity.key}`, groups: [], via: 'token' };
}
