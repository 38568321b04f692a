/**
 * The API server's impersonation filter (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go):
 * `Impersonate-User`, `Impersonate-Group` (repeatable), `Impersonate-Uid` and
 * `Impersonate-Extra-<key>` are each authorized as verb `impersonate` on users / serviceaccounts /
 * groups / uids / userextras for the authenticated caller, in that order; the first refusal is a 403
 * in responsewriters.Forbidden's wording. The impersonated user gets exactly the requested groups
 * plus system:authenticated; its own groups from the inventory do not apply (as in a real cluster).
 */
import type { IncomingMessage } from 'node:http';
import { ALL_AUTHENTICATED, ANONYMOUS, type ResourceAttributes, type UserInfo } from './identity.js';
import type { RbacAuthorizer } from './rbac.js';
import { httpErrors, httpStatus, type HttpStatus } from './status.js';

const SA_PREFIX = 'system:serviceaccount:';
const EXTRA_PREFIX = 'impersonate-extra-';

/** Whether the request carries any Impersonate-* header (audit and callers need only this bit). */
export function wantsImpersonation(req: IncomingMessage): boolean {
  return Object.keys(req.headers).some((h) => h.startsWith('impersonate-'));
}

/**
 * The impersonated user, undefined when the request impersonates nobody, or the Status to answer
 * (403 when a check fails, 500 for groups/uid/extra without a user, as the filter answers).
 */
export function impersonate(req: IncomingMessage, requestor: UserInfo, rbac: RbacAuthorizer): UserInfo | HttpStatus | undefined {
  const h = req.headersDistinct;
  const username = h['impersonate-user']?.[0] ?? '';
  const groups = h['impersonate-group'] ?? [];
  const uid = h['impersonate-uid']?.[0];
  const extra: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(h)) {
    if (!name.startsWith(EXTRA_PREFIX) || values === undefined) continue;
    let key = name.slice(EXTRA_PREFIX.length);
    try {
      key = decodeURIComponent(key);
    } catch {
      // A malformed escape is kept as sent, as Go's url.PathUnescape fallback in the filter does.
    }
    extra[key] = [...(extra[key] ?? []), ...values];
  }
  const checks: { attrs: ResourceAttributes; label: string }[] = [];
  if (username !== '') {
    if (username.startsWith(SA_PREFIX)) {
      const [ns = '', name = ''] = username.slice(SA_PREFIX.length).split(':');
      checks.push({ attrs: { verb: 'impersonate', apiGroup: '', resource: 'serviceaccounts', namespace: ns, name }, label: `ServiceAccount ${name}` });
    } else {
      checks.push({ attrs: { verb: 'impersonate', apiGroup: '', resource: 'users', name: username }, label: `User ${username}` });
    }
  }
  for (const g of groups) checks.push({ attrs: { verb: 'impersonate', apiGroup: '', resource: 'groups', name: g }, label: `Group ${g}` });
  for (const [key, values] of Object.entries(extra)) {
    for (const v of values) {
      checks.push({ attrs: { verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v }, label: `UserExtra ${key}=${v}` });
    }
  }
  if (uid !== undefined) checks.push({ attrs: { verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'uids', name: uid }, label: `UID ${uid}` });
  if (checks.length === 0) return undefined;
  if (username === '') {
    return httpStatus(500, 'InternalError', `Internal error occurred: requested [${checks.map((c) => c.label).join(' ')}] without impersonating a user`);
  }
  for (const { attrs } of checks) {
    if (!rbac.authorize(requestor, attrs).allowed) {
      const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
      return httpErrors.forbidden(requestor.username, 'impersonate', resource, attrs.name, attrs.namespace, attrs.apiGroup);
    }
  }
  const finalGroups = [...groups];
  if (username.startsWith(SA_PREFIX) && groups.length === 0) {
    const ns = username.slice(SA_PREFIX.length).split(':')[0] ?? '';
    finalGroups.push('system:serviceaccounts', `system:serviceaccounts:${ns}`);
  }
  if (username !== ANONYMOUS && !finalGroups.includes(ALL_AUTHENTICATED)) finalGroups.push(ALL_AUTHENTICATED);
  const user: { username: string; groups: string[]; uid?: string; extra?: Record<string, string[]> } = { username, groups: finalGroups };
  if (uid !== undefined) user.uid = uid;
  if (Object.keys(extra).length > 0) user.extra = extra;
  return user;
}
