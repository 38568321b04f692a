/**
 * Authentication (static bearer tokens per inventory user, and OIDC ID tokens when configured),
 * impersonation, and the one authorization entry point every route uses:
 * `authorize(principal, {verb, resource, subresource?, namespace?, name?, apiGroup?})`, answered by
 * RBAC (rbac.ts) with the API server's 403 Status bodies (K8S-EXEC.md "HTTP").
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { withAuthenticatedGroup, type UserInfo } from './identity.js';
import { impersonate } from './impersonation.js';
import type { Inventory } from './inventory.js';
import type { OidcAuthenticator } from './oidc-authn.js';
import type { RbacAuthorizer } from './rbac.js';
import { httpErrors, type HttpStatus } from './status.js';

/** The identity a request runs as, after authentication and impersonation. */
export interface Principal {
  /** The effective username (the impersonated one when impersonating). */
  readonly user: string;
  readonly userInfo: UserInfo;
  /** The authenticated caller when it impersonates `userInfo`. */
  readonly impersonator?: UserInfo;
  /** Which authorizer judges this principal (so `authorize` needs no other handle). */
  readonly authorizer: RbacAuthorizer;
}

export interface Access {
  readonly verb: string;
  /** e.g. pods, namespaces; or `pods/exec` (the subresource may also come in `subresource`). */
  readonly resource: string;
  readonly subresource?: string;
  /** API group; default "" (core). */
  readonly apiGroup?: string;
  readonly name?: string;
  /** undefined or '': cluster scope */
  readonly namespace?: string;
}

export class Authenticator {
  /** token -> user */
  readonly #byToken = new Map<string, UserInfo>();
  /** What identify() resolved, keyed by the request's headers object (stable for its lifetime). */
  readonly #resolved = new WeakMap<IncomingHttpHeaders, Principal>();
  readonly tokens: Readonly<Record<string, string>>;

  constructor(
    inventory: Inventory,
    readonly authorizer: RbacAuthorizer,
    readonly oidc?: OidcAuthenticator,
  ) {
    const tokens: Record<string, string> = {};
    for (const [user, spec] of Object.entries(inventory.users)) {
      // Fresh per start, so a kubeconfig from a previous run stops working.
      const token = `sandbox-${user}-${randomBytes(24).toString('base64url')}`;
      tokens[user] = token;
      this.#byToken.set(token, withAuthenticatedGroup({ username: user, groups: spec.groups ?? [] }));
    }
    this.tokens = tokens;
  }

  /**
   * Authenticates the request and applies its Impersonate-* headers. null: no credentials at all
   * (public paths only); a Status: 401 for bad credentials, 403/500 from impersonation. The result
   * is remembered for authenticate(req.headers).
   */
  async identify(req: IncomingMessage): Promise<Principal | HttpStatus | null> {
    const header = req.headers.authorization;
    if (header === undefined) return null;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return httpErrors.unauthorized();
    const token = m[1] as string;
    let user = this.#byToken.get(token) ?? null;
    if (!user && this.oidc) {
      const fromOidc = await this.oidc.authenticate(token);
      user = fromOidc && withAuthenticatedGroup(fromOidc);
    }
    if (!user) return httpErrors.unauthorized();
    const impersonated = impersonate(req, user, this.authorizer);
    if (impersonated !== undefined && 'code' in impersonated) return impersonated;
    const principal: Principal = impersonated
      ? { user: impersonated.username, userInfo: impersonated, impersonator: user, authorizer: this.authorizer }
      : { user: user.username, userInfo: user, authorizer: this.authorizer };
    this.#resolved.set(req.headers, principal);
    return principal;
  }

  /** The principal identify() resolved for this request's headers, or null (-> 401). */
  authenticate(headers: IncomingHttpHeaders): Principal | null {
    return this.#resolved.get(headers) ?? null;
  }
}

/** null when allowed, else the 403 Status a real RBAC authorizer would produce. */
export function authorize(p: Principal, a: Access): HttpStatus | null {
  const [resource = '', fromPath = ''] = a.resource.split('/');
  const subresource = a.subresource ?? fromPath;
  const apiGroup = a.apiGroup ?? '';
  const namespace = a.namespace ?? '';
  const decision = p.authorizer.authorize(p.userInfo, { verb: a.verb, apiGroup, resource, subresource, namespace, name: a.name ?? '' });
  if (decision.allowed) return null;
  const shown = subresource === '' ? resource : `${resource}/${subresource}`;
  return httpErrors.forbidden(p.user, a.verb, shown, a.name, namespace, apiGroup);
}

export function unauthorized(): HttpStatus {
  return httpErrors.unauthorized();
}
