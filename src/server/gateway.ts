/**
 * `startGateway`: builds the gateway from plain options (the CLI is the composition root above it)
 * and returns its handle. uWebSockets.js serves HTTP and WebSockets on this thread; session actors
 * run in a piscina pool (or here, with `workers: 0`).
 */
import uws, { type HttpRequest, type TemplatedApp } from 'uWebSockets.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import { KubeApi } from '../kube/api.js';
import { KubeContexts, type KubeSource } from '../kube/config.js';
import { DEFAULT_MAX_CLIENT_MESSAGE } from '../protocol/index.js';
import { InlineActorPool, PiscinaActorPool } from '../actor/pools.js';
import type { ActorPool } from '../actor-link/actor-pool.js';
import { createLogger, logFn, type LogFn, type Logger, type LogLevel } from '../log/logger.js';
import { Metrics } from '../supervisor/metrics.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { StaticTokens, type TokenBinding } from '../auth/token-auth.js';
import { Authenticator, type IdentityMode } from '../auth/authenticator.js';
import { mountAuthRoutes } from './auth-routes.js';
import { ResumeTokens } from '../auth/resume-token.js';
import { ShareTokens } from '../auth/share-token.js';
import { DEFAULT_REPLAY_BYTES } from '../actor/replay-buffer.js';
import { mountSessionRoutes } from './session-routes.js';
import { mountShareRoutes } from './share-routes.js';
import { mountHttpRoutes } from './http-routes.js';
import { startSignIn, type OidcGatewayOptions, type StartedSignIn } from './sign-in.js';
import { ExecAgents } from '../kube/exec.js';
import { mountDebugRoutes } from './debug-routes.js';
import { mountFileRoutes } from './file-routes.js';
import { mountLogRoutes } from './log-routes.js';
import { newToolCounters, type PodToolDeps } from './pod-tools.js';
import { Listener } from './listener.js';
import type { RequestClient } from '../audit/request-audit.js';
import { TlsFilesError, type CertificateInfo, type TlsFiles } from './tls-files.js';
import { loadStaticFiles } from './static-files.js';
import { mountWsExec } from './ws-exec.js';
import { openRecords, type RecordsOptions } from './records.js';
import { mountRecordingRoutes } from './recording-routes.js';
import { callerOf } from './auth-routes.js';
import { Cluster } from '../cluster/cluster.js';
import { Forwards } from '../cluster/forwards.js';
import { HopAuth } from '../cluster/hop-auth.js';
import type { PeerSource } from '../cluster/peers.js';
import { mountInternalRoutes } from './internal-routes.js';

export type { LogFn, OidcGatewayOptions, IdentityMode, CertificateInfo, TlsFiles };

export interface GatewayOptions extends RecordsOptions {
  host: string;
  port: number;
  kube: KubeSource;
  tokens: TokenBinding[];
  workers: number;
  allowedOrigins?: string[];
  maxSessions?: number;
  maxSessionsPerToken?: number;
  idleTimeoutMs?: number;
  maxSessionAgeMs?: number;
  maxMessageBytes?: number;
  drainGraceMs?: number;
  webRoot?: string;
  /** Bound on each Kubernetes API call (default 10000); carried to the kube layer in KubeSource. */
  kubeTimeoutMs?: number;
  /** A log function (the CLI's, today); when absent the gateway logs with `logger`. */
  log?: LogFn;
  /** Additive: the process logger (src/log/logger.ts); created at `logLevel` on stdout when absent. */
  logger?: Logger;
  /** Additive: level of the logger the gateway creates (default info). */
  logLevel?: LogLevel;
  /** Additive: how long an actor may take to close before it counts as stuck (default 5000). */
  closeDeadlineMs?: number;
  /** Additive: browser-socket watermarks for pausing output (defaults 128 KiB / 32 KiB). */
  highWaterBytes?: number;
  lowWaterBytes?: number;
  /** Additive: OpenID Connect sign-in and bearer ID tokens (issue 9); off when absent. */
  oidc?: OidcGatewayOptions;
  /** Additive: how the gateway acts for a known person (default impersonate). */
  identity?: IdentityMode;
  /** Additive (container tools): largest upload through the files route (default 1 GiB). */
  maxUploadBytes?: number;
  /** Additive: the image of debug containers (default busybox:1.36). */
  debugImage?: string;
  /** Additive: how long a debug container may take to run (default 60000). */
  debugStartTimeoutMs?: number;
  /** Additive: end everything a session started when it ends (default true). */
  killOnClose?: boolean;
  /** Additive: how long a session whose owner's sockets all dropped lives on (default 300000; 0 = it ends with its socket). */
  detachGraceMs?: number;
  /** Additive: replay ring per session in bytes (default 262144; 0 = no replay). */
  replayBytes?: number;
  /**
   * Additive: the gateway secret (>= 16 bytes) that resume tokens are signed with (a key derived
   * for that purpose). Random per process when absent: tokens then die with the process. Replicas
   * behind one Service must share it.
   */
  sessionSecret?: Buffer;
  /** Additive: this replica's id, bound into resume tokens (default: random per process). */
  replicaId?: string;
  /**
   * Additive (several replicas): the other replicas, and the shared secret (>= 16 bytes) of the
   * internal hop; both or neither. With them, a token for another replica's session is forwarded to
   * it, and the sessions list gathers every replica's. The secret also signs resume tokens unless
   * `sessionSecret` is given, so every replica accepts every replica's tokens.
   */
  peers?: PeerSource;
  clusterSecret?: Buffer;
  /** Additive: how peers reach this replica (default: the listen URL). */
  advertiseUrl?: string;
  /**
   * Additive: serve TLS itself (`--tls-cert`/`--tls-key`, uWS SSLApp): https URLs, `Secure`
   * cookies and HSTS on every answer. Checked at start (TlsFilesError), reloadable (reloadTls).
   */
  tls?: TlsFiles;
}

export interface GatewayStats {
  sessionsActive: number;
  actorsActive: number;
  execSocketsOpen: number;
  /** asciicast writers open in the actors (0 when recording is off). */
  recordingsOpen: number;
  /** Recording write slots taken (output-slots.ts): 0 once every recording's writes have settled. */
  recordingSlotsInUse: number;
  /** Replay rings open in the actors (each session that can be resumed holds one). */
  replayBuffers: number;
  /** Timers pending in the gateway (main thread and workers; ref'd ones: pending-timers.ts). */
  timers: number;
  /** Browser sockets this replica forwards to the replica that holds their session. */
  forwardsOpen: number;
  closeDeadlineMisses: number;
  workers: number;
  /** Open pods/log streams, file transfers and their exec sockets, debug starts in progress. */
  logStreamsOpen: number;
  fileTransfersOpen: number;
  fileExecsOpen: number;
  debugStartsOpen: number;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  stats(): Promise<GatewayStats>;
  metricsText(): Promise<string>;
  drain(graceMs?: number): Promise<void>;
  close(): Promise<void>;
  terminateWorker(): Promise<void>;
  /** Additive: heap used per thread (main first) after a forced GC when run with --expose-gc. */
  heapAfterGc(): Promise<number[]>;
  /** Additive: the certificate new connections get (undefined without `tls`). */
  readonly certificate: CertificateInfo | undefined;
  /**
   * Additive: serves the `tls` files as they are now to new connections; open ones keep theirs
   * (listener.ts says how). Rejects with TlsFilesError for bad files (the old certificate stays),
   * a TypeError without `tls`. SIGHUP calls it in `podterm serve`.
   */
  reloadTls(): Promise<CertificateInfo>;
}

export class NativeUwsMissingError extends Error {
  override readonly name = 'NativeUwsMissingError';
}

/**
 * uWebSockets.js silently falls back to a slow pure-JS implementation when its native binary does
 * not load (uws.js in the package); podterm refuses to run on it.
 */
export function assertNativeUws(): void {
  if (typeof uws.App !== 'function' || !String(uws.App).includes('[native code]')) {
    throw new NativeUwsMissingError(
      `uWebSockets.js is running its JavaScript fallback, not the native binary (platform ${process.platform}-${process.arch}, ABI ${process.versions.modules}); podterm needs the native build`,
    );
  }
}

export const DEFAULTS = {
  maxSessions: 10_000,
  maxSessionsPerToken: 1_000,
  idleTimeoutMs: 30 * 60_000,
  maxSessionAgeMs: 12 * 60 * 60_000,
  drainGraceMs: 10_000,
  kubeTimeoutMs: 10_000,
  closeDeadlineMs: 5_000,
  highWaterBytes: 128 * 1024,
  lowWaterBytes: 32 * 1024,
  maxUploadBytes: 1024 * 1024 * 1024,
  debugImage: 'busybox:1.36',
  debugStartTimeoutMs: 60_000,
  detachGraceMs: 5 * 60_000,
  replayBytes: DEFAULT_REPLAY_BYTES,
};

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  assertNativeUws();
  const given = options.log;
  const logger = given ? undefined : (options.logger ?? createLogger({ level: options.logLevel ?? 'info' }));
  const forComponent = (component: string): LogFn => (logger ? logFn(logger.child({ component })) : (given as LogFn));
  const log = forComponent('gateway');
  const kube: KubeSource = { ...options.kube, kubeTimeoutMs: options.kubeTimeoutMs ?? options.kube.kubeTimeoutMs ?? DEFAULTS.kubeTimeoutMs };
  const kubeContexts = new KubeContexts(kube);
  const records = await openRecords(options, forComponent('records'));
  const metrics = new Metrics();
  if ((options.peers === undefined) !== (options.clusterSecret === undefined)) throw new TypeError('peers and clusterSecret go together');
  const replicaId = options.replicaId ?? randomUUID();
  const cluster = options.peers && options.clusterSecret
    ? new Cluster({ id: replicaId, advertiseUrl: options.advertiseUrl, peers: options.peers, hop: new HopAuth(options.clusterSecret) })
    : undefined;
  const forwards = cluster
    ? new Forwards(cluster, { highWaterBytes: options.highWaterBytes ?? DEFAULTS.highWaterBytes, lowWaterBytes: options.lowWaterBytes ?? DEFAULTS.lowWaterBytes, log: forComponent('forward') })
    : undefined;
  // Resume and share tokens: one secret, a key per purpose (secrets.ts); with peers, the cluster
  // secret unless a session secret is given, so every replica accepts every replica's tokens.
  const secret = options.sessionSecret ?? options.clusterSecret ?? randomBytes(32);
  const resumeTokens = new ResumeTokens(secret);
  const shareTokens = new ShareTokens(secret);
  const pool: ActorPool = options.workers > 0 ? new PiscinaActorPool(kube, options.workers, options.logLevel ?? (given ? 'silent' : 'info'), records.sessions.recording) : new InlineActorPool(kube, forComponent('actor'), records.sessions.recording);
  const supervisor = new Supervisor(
    pool,
    metrics,
    {
      maxSessions: options.maxSessions ?? DEFAULTS.maxSessions,
      maxSessionsPerToken: options.maxSessionsPerToken ?? DEFAULTS.maxSessionsPerToken,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
      maxSessionAgeMs: options.maxSessionAgeMs ?? DEFAULTS.maxSessionAgeMs,
      killOnClose: options.killOnClose ?? true,
      closeDeadlineMs: options.closeDeadlineMs ?? DEFAULTS.closeDeadlineMs,
      highWaterBytes: options.highWaterBytes ?? DEFAULTS.highWaterBytes,
      lowWaterBytes: options.lowWaterBytes ?? DEFAULTS.lowWaterBytes,
      detachGraceMs: options.detachGraceMs ?? DEFAULTS.detachGraceMs,
      replayBytes: options.replayBytes ?? DEFAULTS.replayBytes,
    },
    forComponent('supervisor'),
    { replicaId, tokens: resumeTokens, shares: shareTokens },
    records.sessions,
  );
  metrics.watch(() => supervisor.stats());
  if (forwards) metrics.gauge('podterm_forwards_active', 'Browser sockets forwarded to the replica that holds their session.', () => forwards.size);
  // Discovery needs the redirect URL, whose default names the port we listen on: the sign-in
  // routes are mounted now and find the client once startSignIn() below has it.
  let signIn: StartedSignIn | undefined;
  const auth = new Authenticator({
    tokens: new StaticTokens(options.tokens),
    identity: options.identity ?? 'impersonate',
    audit: records.audit,
    get oidc() {
      return signIn && { verifier: signIn.verifier, cookies: signIn.cookies };
    },
  });
  const kubeApi = new KubeApi(kubeContexts);
  const webRoot = options.webRoot ?? fileURLToPath(new URL('../../web/', import.meta.url));
  const files = loadStaticFiles(webRoot);
  if (!files) log('warn', 'the web page is not built; / will say so', { webRoot });

  const tls = options.tls !== undefined;
  const tools = newToolCounters();
  const toolDeps: PodToolDeps = {
    auth,
    kube: kubeContexts,
    agents: new ExecAgents(),
    log: forComponent('tools'),
    tls,
    counters: tools,
    kubeApi,
    audit: records.audit,
    kubeTimeoutMs: kube.kubeTimeoutMs ?? DEFAULTS.kubeTimeoutMs,
    maxUploadBytes: options.maxUploadBytes ?? DEFAULTS.maxUploadBytes,
    debugImage: options.debugImage ?? DEFAULTS.debugImage,
    debugStartTimeoutMs: options.debugStartTimeoutMs ?? DEFAULTS.debugStartTimeoutMs,
  };
  const person = (req: HttpRequest, client?: RequestClient) => callerOf(auth, req, client).then((c) => c.person, () => undefined);
  // Every route on an app; called again for the app of each reloaded certificate (listener.ts).
  const mount = (app: TemplatedApp): void => {
    mountAuthRoutes(app, { auth, signIn: () => signIn, oidcConfigured: options.oidc !== undefined, allowedOrigins: options.allowedOrigins, log: forComponent('auth'), audit: records.audit, tls });
    mountWsExec(app, {
      auth,
      kube: kubeApi,
      supervisor,
      allowedOrigins: options.allowedOrigins,
      metrics,
      audit: records.audit,
      log: forComponent('ws'),
      tls,
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_CLIENT_MESSAGE,
      idleTimeoutSec: 120,
      maxBackpressure: 16 * 1024 * 1024,
      // The one place that reads a token's replica for routing (verified: a forged token is never routed).
      cluster: forwards && { forwards, replicaOf: (t) => (t.kind === 'resume' ? resumeTokens : shareTokens).verify(t.token)?.replica },
    });
    if (cluster) mountInternalRoutes(app, { cluster, supervisor, log: forComponent('cluster'), tls });
    if (records.catalog) mountRecordingRoutes(app, { catalog: records.catalog, person, audit: records.audit, log: forComponent('http'), tls });
    mountFileRoutes(app, toolDeps);
    mountLogRoutes(app, toolDeps);
    mountDebugRoutes(app, toolDeps);
    mountSessionRoutes(app, { supervisor, person, allowedOrigins: options.allowedOrigins, log: forComponent('http'), tls, cluster });
    mountShareRoutes(app, { supervisor, person, allowedOrigins: options.allowedOrigins, log: forComponent('http'), tls, cluster });
    mountHttpRoutes(app, { auth, supervisor, kube: kubeApi, files, metricsText: () => metrics.text(), log: forComponent('http'), audit: records.audit, tls });
  };

  // Exclusive: a second gateway on a port in use fails with ListenError instead of sharing it.
  const listener = await Listener.open({ host: options.host, port: options.port, tls: options.tls, mount }).catch(async (err: unknown) => {
    await supervisor.close();
    await records.close();
    throw err;
  });
  const port = listener.port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `${listener.scheme}://${hostForUrl}:${port}`;
  // A wildcard listen address reaches nobody from another host: advertise the host's name then.
  cluster?.listening(url, options.host === '0.0.0.0' || options.host === '::' ? `${listener.scheme}://${hostname()}:${port}` : url);
  log('info', 'listening', { url, workers: options.workers, ...(listener.certificate ? { certificate: listener.certificate } : {}), ...(cluster ? { replica: replicaId, advertise: cluster.self.url } : {}) });
  if (options.oidc) {
    try {
      signIn = await startSignIn(options.oidc, url);
    } catch (err) {
      listener.close();
      await supervisor.close();
      await records.close();
      throw err;
    }
    log('info', 'sign-in', { issuer: signIn.client.issuer, redirectUrl: signIn.redirectUrl, identity: options.identity ?? 'impersonate' });
  }

  let closing: Promise<void> | undefined;
  const stats = async (): Promise<GatewayStats> => {
    const s = await supervisor.stats();
    return {
      sessionsActive: s.sessionsActive,
      actorsActive: s.actorsActive,
      execSocketsOpen: s.execSocketsOpen,
      replayBuffers: s.replayBuffers,
      timers: s.timers,
      forwardsOpen: forwards?.size ?? 0,
      recordingsOpen: s.recordingsOpen,
      recordingSlotsInUse: s.recordingSlotsInUse,
      closeDeadlineMisses: metrics.closeDeadlineMisses,
      workers: s.workers,
      logStreamsOpen: tools.logStreams,
      fileTransfersOpen: tools.fileTransfers,
      fileExecsOpen: tools.fileExecs.execs,
      debugStartsOpen: tools.debugStarts,
    };
  };
  return {
    url,
    port,
    stats,
    metricsText: () => metrics.text(),
    drain: async (graceMs) => {
      const grace = graceMs ?? options.drainGraceMs ?? DEFAULTS.drainGraceMs;
      await Promise.all([supervisor.drain(grace), forwards?.drain(grace)]);
    },
    terminateWorker: () => supervisor.terminateWorker(),
    heapAfterGc: async () => (await supervisor.stats(true)).heapUsed,
    get certificate() {
      return listener.certificate;
    },
    reloadTls: async () => {
      if (closing) throw new TypeError('reloadTls: the gateway is closing');
      try {
        const { certificate, swapped } = await listener.reload();
        if (swapped) log('info', 'TLS certificate reloaded', { certificate, apps: listener.apps });
        else log('info', 'TLS certificate unchanged; nothing to reload', { certificate });
        return certificate;
      } catch (err) {
        if (err instanceof TlsFilesError) log('warn', 'TLS reload refused; still serving the previous certificate', { reason: err.message });
        else log('error', 'TLS reload failed', { err });
        throw err;
      }
    },
    close: () => {
      closing ??= (async () => {
        listener.stopListening();
        await forwards?.drain(0);
        await supervisor.close();
        await records.close();
        // Ends every remaining socket (keep-alive HTTP included) of every app, so the process can exit.
        listener.close();
      })();
      return closing;
    },
  };
}
