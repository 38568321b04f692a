/**
 * The JSON shapes of the gateway's HTTP API (PROTOCOL.md, "HTTP"), shared by the gateway (which
 * builds them from Kubernetes objects in src/kube) and the page (which renders them).
 *
 * | method, path                         | body                                  |
 * |--------------------------------------|---------------------------------------|
 * | GET /api/v1/namespaces               | `ListBody<NamespaceInfo>`             |
 * | GET /api/v1/namespaces/{ns}/pods     | `PodListBody`                         |
 * | GET /api/v1/whoami                   | `WhoamiBody`                          |
 * | GET /api/v1/sessions                 | `SessionListItem[]`                   |
 * | POST /api/v1/sessions/{id}/shares    | `ShareBody` (201)                     |
 * | any failure                          | `ErrorBody` with the ErrorCode's HTTP status |
 */
import type { ErrorCode } from './errors.js';

export interface NamespaceInfo {
  name: string;
}

export interface ContainerInfo {
  name: string;
  ready: boolean;
  running: boolean;
  state: 'running' | 'waiting' | 'terminated' | 'unknown';
  /** Why it is waiting or terminated (`CrashLoopBackOff`, `Completed`), else null. */
  reason: string | null;
}

export interface PodInfo {
  name: string;
  namespace: string;
  phase: string;
  ready: boolean;
  /** The `kubectl.kubernetes.io/default-container` annotation when it names a container, else null. */
  defaultContainer: string | null;
  containers: ContainerInfo[];
  /**
   * Whether the signed-in person may open a terminal in this pod (a SelfSubjectAccessReview for
   * `create pods/exec`); absent when the gateway acts with a context's own credentials.
   */
  execAllowed?: boolean;
}

export interface PodListBody extends ListBody<PodInfo> {
  /** false: the person may not open a terminal anywhere in this namespace; absent: not reviewed. */
  execAllowed?: boolean;
}

export interface WhoamiBody {
  username: string;
  groups: string[];
  via: 'oidc' | 'token';
  /** Unix seconds; null for a static token sent as a bearer. */
  expiresAt: number | null;
}

export interface ListBody<T> {
  items: T[];
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** `GET /api/v1/recordings`: one row per recording the caller may see (docs/protocol.md). */
export interface RecordingSummary {
  id: string;
  user: string;
  namespace: string;
  pod: string;
  container: string;
  startedAt: string;
  endedAt: string | null;
  exitCode: number | null;
  /** Size of the .cast now. */
  bytes: number;
}

/**
 * `GET /api/v1/sessions`: one row per live session of the caller (docs/protocol.md, HTTP
 * additions). `graceEndsAt` is an addition to that contract: when a detached session ends unless
 * resumed (detachedAt + --detach-grace-ms), so a page can show the time left; null while attached.
 */
export interface SessionListItem {
  id: string;
  namespace: string;
  pod: string;
  container: string | null;
  command: string[] | null;
  state: 'attached' | 'detached';
  createdAt: string;
  detachedAt: string | null;
  graceEndsAt: string | null;
  viewers: Array<{ user: string; role: 'owner' | 'observer' }>;
  resumeToken: string | undefined;
}

/** `POST /api/v1/sessions/{id}/shares`: a read-only link; `url` opens the page in watch mode. */
export interface ShareBody {
  token: string;
  url: string;
  /** ISO 8601. */
  expiresAt: string;
}
