/**
 * Bearer-token authentication and a tiny RBAC: each user may act in the namespaces its inventory
 * entry lists ('*' = all, which also grants cluster-scoped lists). Answers carry the API server's
 * Status bodies (K8S-EXEC.md "HTTP").
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Inventory } from './inventory.js';
import { httpErrors, type HttpStatus } from './status.js';

export interface Principal {
  readonly user: string;
  readonly namespaces: readonly string[];
}

export interface Access {
  readonly verb: string;
  /** e.g. pods, pods/exec, namespaces */
  readonly resource: string;
  readonly name?: string;
  /** undefined: cluster scope */
  readonly namespace?: string;
}

export class Authenticator {
  /** token -> principal */
  readonly #byToken = new Map<string, Principal>();
  readonly tokens: Readonly<Record<string, string>>;

  constructor(inventory: Inventory) {
    const tokens: Record<string, string> = {};
    for (const [user, spec] of Object.entries(inventory.users)) {
      // Fresh per start, so a kubeconfig from a previous run stops working.
      const token = `sandbox-${user}-${randomBytes(24).toString('base64url')}`;
      tokens[user] = token;
      this.#byToken.set(token, { user, namespaces: spec.namespaces });
    }
    this.tokens = tokens;
  }

  /** The principal for the request's `Authorization: Bearer` header, or null (-> 401). */
  authenticate(headers: IncomingHttpHeaders): Principal | null {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
    return (m && this.#byToken.get(m[1] as string)) ?? null;
  }
}

export function allowed(p: Principal, ns: string | undefined): boolean {
  if (p.namespaces.includes('*')) return true;
  return ns !== undefined && p.namespaces.includes(ns);
}

/** null when allowed, else the 403 Status a real RBAC authorizer would produce. */
export function authorize(p: Principal, a: Access): HttpStatus | null {
  return allowed(p, a.namespace) ? null : httpErrors.forbidden(p.user, a.verb, a.resource, a.name, a.namespace);
}

export function unauthorized(): HttpStatus {
  return httpErrors.unauthorized();
}
