/**
 * `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews` (kubectl auth can-i): RBAC's answer
 * for the caller (the impersonated user when impersonating) on the attributes in `spec`; and
 * `POST /apis/authentication.k8s.io/v1/selfsubjectreviews` (kubectl auth whoami): the caller's
 * user info. Both are ordinary creates, so the caller needs `create` on them (bootstrap
 * system:basic-user grants it to system:authenticated). Answers 201 with the object and its status,
 * as pkg/registry/authorization/selfsubjectaccessreview and authentication/selfsubjectreview do.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorize, type Principal } from './auth.js';
import type { Attributes } from './identity.js';
import { decodeReview, isProtobuf } from './protobuf-review.js';
import { httpErrors, httpStatus, type HttpStatus } from './status.js';

const SSAR = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
const SSR = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
const MAX_BODY = 1024 * 1024;

type Json = Record<string, unknown>;

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: IncomingMessage): Promise<Json | HttpStatus> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('error', () => resolve(httpErrors.badRequest('error reading the request body')));
    req.on('end', () => {
      if (size > MAX_BODY) return resolve(httpStatus(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 1048576'));
      try {
        const raw = Buffer.concat(chunks);
        if (isProtobuf(req.headers['content-type'])) return resolve(decodeReview(raw));
        const v: unknown = JSON.parse(raw.toString('utf8'));
        resolve(typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : httpErrors.badRequest('the body is not a JSON object'));
      } catch (err) {
        resolve(httpErrors.badRequest(`the request body could not be decoded: ${(err as Error).message}`));
      }
    });
  });
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** SubjectAccessReviewSpec -> authorizer attributes (authorizationutil.ResourceAttributesFrom / NonResourceAttributesFrom). */
function attributesOf(spec: Json): Attributes | null {
  const r = spec.resourceAttributes as Json | undefined;
  const n = spec.nonResourceAttributes as Json | undefined;
  if ((r === undefined) === (n === undefined)) return null;
  if (n !== undefined) return { verb: str(n.verb), path: str(n.path) };
  const a = r as Json;
  return {
    verb: str(a.verb),
    apiGroup: str(a.group),
    apiVersion: str(a.version),
    resource: str(a.resource),
    subresource: str(a.subresource),
    namespace: str(a.namespace),
    name: str(a.name),
  };
}

function userInfoJson(p: Principal): Json {
  const u = p.userInfo;
  const out: Json = { username: u.username };
  if (u.uid !== undefined) out.uid = u.uid;
  out.groups = u.groups;
  if (u.extra !== undefined) out.extra = u.extra;
  return out;
}

/** Handles the two review paths; false for any other path (the caller routes it). */
export function handleReview(req: IncomingMessage, res: ServerResponse, path: string, who: Principal): boolean {
  if (path !== SSAR && path !== SSR) return false;
  const isSsar = path === SSAR;
  const fail = (s: HttpStatus): void => {
    res.writeHead(s.code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.end(s.body);
  };
  if (req.method !== 'POST') {
    fail(httpErrors.methodNotAllowed());
    return true;
  }
  const denied = isSsar
    ? authorize(who, { verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' })
    : authorize(who, { verb: 'create', apiGroup: 'authentication.k8s.io', resource: 'selfsubjectreviews' });
  if (denied) {
    req.resume();
    fail(denied);
    return true;
  }
  void readJson(req).then((body) => {
    if ('code' in body && 'body' in body) return fail(body as HttpStatus);
    if (!isSsar) {
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      return send(res, 201, { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: now }, status: { userInfo: userInfoJson(who) } });
    }
    const spec = (typeof body.spec === 'object' && body.spec !== null ? body.spec : {}) as Json;
    const attrs = attributesOf(spec);
    if (!attrs) {
      return fail(httpStatus(422, 'Invalid', 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified', { group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview' }));
    }
    const decision = who.authorizer.authorize(who.userInfo, attrs);
    const status: Json = { allowed: decision.allowed };
    if (decision.reason !== '') status.reason = decision.reason;
    return send(res, 201, { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec, status });
  });
  return true;
}
