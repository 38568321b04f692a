/**
 * What the container-tool routes (files, logs, debug) share: who is calling, which pod, the one
 * permission hook, and the counts that prove nothing is left open (gateway stats, test residue).
 *
 * `authorize(person, verb, resource, ns, name)` is the single place an identity check is added
 * (SelfSubjectAccessReview as that person); the default allows, because every call below is made
 * with the caller's own kubeconfig context, so the API server's RBAC already decides.
 */
import type { HttpRequest } from 'uWebSockets.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { PodtermError } from '../protocol/errors.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { Caller, Person } from '../auth/person.js';
import type { KubeContexts } from '../kube/config.js';
import type { HeaderLines } from '../kube/request-headers.js';
import type { ExecAgents } from '../kube/exec.js';
import { validLabel, validSubdomain } from './validate.js';
import type { RouteEnv } from './route-guard.js';

export type Authorize = (person: Person, verb: string, resource: string, namespace: string, name: string) => Promise<void>;
export const ALLOW_ALL: Authorize = async () => undefined;

/** Open tool streams; each goes back to zero when its client is gone. */
export interface ToolCounters {
  logStreams: number;
  fileTransfers: number;
  /** Exec sockets the file transfers hold. */
  fileExecs: { execs: number };
  debugStarts: number;
}

export function newToolCounters(): ToolCounters {
  return { logStreams: 0, fileTransfers: 0, fileExecs: { execs: 0 }, debugStarts: 0 };
}

export interface PodToolDeps extends RouteEnv {
  auth: Authenticator;
  kube: KubeContexts;
  agents: ExecAgents;
  counters: ToolCounters;
  authorize: Authorize;
  /** Bound on each Kubernetes call's answer head (`--kube-timeout-ms`). */
  kubeTimeoutMs: number;
  maxUploadBytes: number;
  debugImage: string;
  debugStartTimeoutMs: number;
}

export interface PodRequest {
  caller: Caller;
  namespace: string;
  pod: string;
  query: URLSearchParams;
  /** The caller's kube identity (act-as.ts): credentials and impersonation headers. */
  kc: KubeConfig;
  headers: HeaderLines;
}

/**
 * The caller, `/api/v1/namespaces/:ns/pods/:pod/...` parameters and the query. Everything is
 * copied out of `req` before the first await (uWS reuses it). Rejects Unauthorized / BadRequest.
 */
export async function podRequest(deps: PodToolDeps, req: HttpRequest): Promise<PodRequest> {
  const cookie = req.getHeader('cookie');
  const authorization = req.getHeader('authorization');
  const namespace = decodeURIComponent(req.getParameter(0) ?? '');
  const pod = decodeURIComponent(req.getParameter(1) ?? '');
  if (!validLabel(namespace)) throw new PodtermError('BadRequest', 'namespace must be a DNS-1123 label.');
  if (!validSubdomain(pod)) throw new PodtermError('BadRequest', 'pod must be a DNS-1123 subdomain.');
  const query = new URLSearchParams(req.getQuery() ?? '');
  const caller = await deps.auth.resolve(cookie, authorization);
  if (!caller) throw new PodtermError('Unauthorized');
  const { kc, headers } = deps.kube.identity(caller.kube);
  return { caller, namespace, pod, query, kc, headers };
}

export function containerParam(q: URLSearchParams, required: boolean): string | null {
  const c = q.get('container');
  if (c === null || c === '') {
    if (required) throw new PodtermError('BadRequest', 'container is required.');
    return null;
  }
  if (!validLabel(c)) throw new PodtermError('BadRequest', 'container must be a DNS-1123 label.');
  return c;
}

/** Kubernetes booleans (K8S-EXEC.md): absent, `0`, `false` are false. */
export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v !== null && v !== '0' && v.toLowerCase() !== 'false';
}

/** An aborted request's signal: what it started is dropped with it. */
export function abortWith(onAbort: (f: () => void) => void): AbortController {
  const ctl = new AbortController();
  onAbort(() => ctl.abort(new PodtermError('BadRequest', 'The client went away.')));
  return ctl;
}
