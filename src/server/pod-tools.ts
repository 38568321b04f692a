/**
 * What the container-tool routes (files, logs, debug) share: who is calling, which pod, the access
 * review, the audit line, and the counts that prove nothing is left open (gateway stats, residue).
 *
 * Issue 12: every tool "goes through the same identity, permission check (SelfSubjectAccessReview)
 * and audit as a terminal does": `reviewAccess` asks the API server as the person before anything
 * reaches the exec, log or ephemeralcontainers endpoint (exec-permission.ts), and a refusal is
 * audited with outcome Forbidden.
 */
import type { HttpRequest } from 'uWebSockets.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { PodtermError } from '../protocol/errors.js';
import type { AuditEventName, AuditFields } from '../audit/audit-log.js';
import { outcomeOf, whoFields, type AuditSink, type RequestClient } from '../audit/request-audit.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { Caller } from '../auth/person.js';
import type { KubeApi } from '../kube/api.js';
import type { KubeContexts } from '../kube/config.js';
import type { HeaderLines } from '../kube/request-headers.js';
import type { ExecAgents } from '../kube/exec.js';
import type { LogFn } from '../log/logger.js';
import { assertPodAccess, type PodAccess } from './exec-permission.js';
import { validLabel, validSubdomain } from './validate.js';
import type { RouteEnv } from './route-guard.js';

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
  /** Asks the access reviews. */
  kubeApi: KubeApi;
  audit: AuditSink | undefined;
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
  /** Where the request came from (audit lines). */
  client: RequestClient;
}

/**
 * The caller, `/api/v1/namespaces/:ns/pods/:pod/...` parameters and the query. Everything is
 * copied out of `req` before the first await (uWS reuses it). Rejects Unauthorized / BadRequest.
 */
export async function podRequest(deps: PodToolDeps, req: HttpRequest, client: RequestClient): Promise<PodRequest> {
  const cookie = req.getHeader('cookie');
  const authorization = req.getHeader('authorization');
  const namespace = decodeURIComponent(req.getParameter(0) ?? '');
  const pod = decodeURIComponent(req.getParameter(1) ?? '');
  if (!validLabel(namespace)) throw new PodtermError('BadRequest', 'namespace must be a DNS-1123 label.');
  if (!validSubdomain(pod)) throw new PodtermError('BadRequest', 'pod must be a DNS-1123 subdomain.');
  const query = new URLSearchParams(req.getQuery() ?? '');
  const caller = await deps.auth.resolve(cookie, authorization, client);
  if (!caller) throw new PodtermError('Unauthorized');
  const { kc, headers } = deps.kube.identity(caller.kube);
  return { caller, namespace, pod, query, kc, headers, client };
}

/** One audit line for a tool request: who, from where, which pod, and the event's own fields. */
export function auditTool(deps: PodToolDeps, r: PodRequest, event: AuditEventName, fields: AuditFields): void {
  deps.audit?.write(event, { ...whoFields(r.caller.person, r.client), namespace: r.namespace, pod: r.pod, ...fields });
}

/**
 * The access review for `access` as the caller, before anything reaches the pod. A refusal (or a
 * review that could not be asked) is audited as `event` with its outcome, then thrown (403 JSON).
 */
export async function reviewAccess(deps: PodToolDeps, r: PodRequest, access: PodAccess, event: AuditEventName, fields: AuditFields, signal?: AbortSignal): Promise<void> {
  try {
    await assertPodAccess(deps.kubeApi, r.caller.kube, access, r.namespace, r.pod, signal);
  } catch (err) {
    auditTool(deps, r, event, { ...fields, outcome: outcomeOf(err) });
    throw err;
  }
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
