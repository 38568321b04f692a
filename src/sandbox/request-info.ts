/**
 * RequestInfo as k8s.io/apiserver/pkg/endpoints/request/requestinfo.go derives it from method and
 * URL: verb, group, version, namespace, resource, name, subresource; or a non-resource path. The
 * audit log's `verb` and `objectRef` and the generic authorization of POST routes come from here.
 * Pure.
 */
import type { Attributes } from './identity.js';

export interface RequestInfo {
  readonly isResourceRequest: boolean;
  readonly path: string;
  readonly verb: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
}

const VERBS: Readonly<Record<string, string>> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

export function requestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const nonResource: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
  };
  let parts = path.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  let apiGroup = '';
  if (parts[0] === 'api') {
    if (parts.length < 3) return nonResource;
    parts = parts.slice(1);
  } else if (parts[0] === 'apis') {
    if (parts.length < 4) return nonResource;
    apiGroup = parts[1] as string;
    parts = parts.slice(2);
  } else {
    return nonResource;
  }
  const apiVersion = parts[0] as string;
  parts = parts.slice(1);
  let verb = VERBS[method] ?? method.toLowerCase();
  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1] as string;
    // /namespaces/{ns}/{resource}/...: the resource path is what follows; /namespaces/{ns} (and its
    // own status/finalize) stays the namespaces resource, named and namespaced by itself.
    if (parts.length > 2 && parts[2] !== 'status' && parts[2] !== 'finalize') parts = parts.slice(2);
  }
  const resource = parts[0] ?? '';
  const name = parts[1] ?? '';
  const subresource = parts[2] ?? '';
  if (name === '' && verb === 'get') verb = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1' ? 'watch' : 'list';
  if (name === '' && verb === 'delete') verb = 'deletecollection';
  return { isResourceRequest: true, path, verb, apiGroup, apiVersion, namespace, resource, subresource, name };
}

/** The authorizer.Attributes for a RequestInfo. */
export function attributesOf(info: RequestInfo): Attributes {
  if (!info.isResourceRequest) return { verb: info.verb, path: info.path };
  return {
    verb: info.verb,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    namespace: info.namespace,
    name: info.name,
  };
}
