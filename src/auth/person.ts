/**
 * Who is calling, in one shape whatever the credential (DESIGN.md, src/auth produces an identity):
 * `Person` is what `GET /api/v1/whoami` shows and what session limits and logs key on; `Caller`
 * adds how the gateway acts for that person in Kubernetes.
 */
import type { KubeIdentity } from '../kube/act-as.js';

export type Via = 'oidc' | 'token';

export interface Person {
  username: string;
  groups: string[];
  via: Via;
  /** Unix seconds when the credential stops being accepted; null for a static bearer token. */
  expiresAt: number | null;
}

export interface Caller {
  person: Person;
  /** The kube identity to act as (context of the gateway's credentials + impersonation/bearer). */
  kube: KubeIdentity;
  /** Namespaces to offer when the person may not list namespaces (`--user TOKEN=CTX:NS,NS`). */
  namespaces: string[];
  /** How this request authenticated. */
  credential: 'cookie' | 'bearer';
}

/** The JSON body of `GET /api/v1/whoami`. */
export function whoamiBody(p: Person): Person {
  return { username: p.username, groups: [...p.groups], via: p.via, expiresAt: p.expiresAt };
}
