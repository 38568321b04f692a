/**
 * The sandbox: a Kubernetes API server stand-in for trying podterm without a cluster and for tests.
 * HTTPS with a CA made at start, discovery, namespaces and pods, and exec over WebSocket with the
 * real channel protocols backed by real processes (or in-process load targets). This file is its
 * composition root; it owns the server, the exec handler and the scratch directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from './audit-log.js';
import { Authenticator } from './auth.js';
import { startEchoTarget, startFloodTarget } from './builtin-targets.js';
import { PRE_V5_PROTOCOLS, SUPPORTED_PROTOCOLS } from './channel-codec.js';
import { resolveAttachRequest } from './attach-request.js';
import { EphemeralContainers } from './ephemeral-containers.js';
import { ExecHandler } from './exec-handler.js';
import { resolveExecRequest, type ExecRequest } from './exec-request.js';
import { createApi } from './http-api.js';
import { DEFAULT_INVENTORY, type ContainerSpec, type Inventory } from './inventory.js';
import { buildKubeconfig } from './kubeconfig.js';
import { LogHandler } from './log-handler.js';
import { MainProcesses } from './main-process.js';
import { SandboxMetrics } from './metrics.js';
import { World } from './objects.js';
import { OidcAuthenticator, type OidcOptions } from './oidc-authn.js';
import { RbacAuthorizer } from './rbac.js';
import { effectivePolicy } from './rbac-inventory.js';
import { PodStore } from './pod-store.js';
import { execNotFound, startProcessTarget } from './process-target.js';
import { EXEC_MARKER_VAR, SurvivorTracker } from './survivors.js';
import type { ExecTarget, TargetSink, TargetSpec } from './target.js';
import { generateTls } from './tls.js';
import { ToolRoutes } from './tool-routes.js';
import { PodWatches } from './watch.js';

export { DEFAULT_INVENTORY, loadInventory, InventoryError, type Inventory } from './inventory.js';
export { OidcConfigError, type OidcOptions } from './oidc-authn.js';

export interface SandboxOptions {
  host?: string;
  port?: number;
  inventory?: Inventory;
  log?: (line: string) => void;
  /** Environment for exec'd processes (PATH above all). Default: a container-like minimal env. */
  env?: Readonly<Record<string, string>>;
  /** SIGHUP -> SIGKILL grace when an exec's process must be ended. Default 2000 ms. */
  killGraceMs?: number;
  /** Accept OIDC ID tokens as bearer tokens, as kube-apiserver's --oidc-* flags do. */
  oidc?: OidcOptions;
  /** Append audit.k8s.io/v1 Events (level Metadata, JSON lines) to this file. */
  auditLog?: string;
  /**
   * true: closing an exec stream kills everything the exec started (the sandbox's old, kinder
   * behaviour). Default false: it hangs up the terminal and leaves survivors running, as a real
   * runtime does; they are counted and killed when the sandbox stops.
   */
  killOnClose?: boolean;
  /** How long a TTY exec waits for the client's first size before starting. Default 1000 ms. */
  firstSizeWaitMs?: number;
  /**
   * false: exec and attach refuse v5.channel.k8s.io, as a cluster before Kubernetes 1.30 does (the
   * kubelet speaks v4 and older), so clients get v4 and cannot close stdin. Default true.
   */
  v5?: boolean;
}

/** Counts beyond exec: attach streams, log follows, watches, main processes, survivors. */
export interface ToolStats {
  attachActive: number;
  logStreamsActive: number;
  watchesActive: number;
  mainProcessesActive: number;
  survivorsActive: number;
}

export interface Sandbox {
  readonly url: string;
  readonly caPem: string;
  /** Bearer token per inventory user (each also has a kubeconfig context of its name). */
  readonly tokens: Readonly<Record<string, string>> & { readonly admin: string; readonly restricted: string };
  kubeconfigYaml(): string;
  writeKubeconfig(file: string): Promise<void>;
  /** processesActive counts live exec processes: leaders, and what closed execs left running. */
  stats(): { execActive: number; processesActive: number };
  toolStats(): ToolStats;
  close(): Promise<void>;
}

const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const inventory = opts.inventory ?? DEFAULT_INVENTORY;
  const log = opts.log ?? (() => {});
  const baseEnv = opts.env ?? { PATH: CONTAINER_PATH, LANG: 'C.UTF-8' };
  const graceMs = opts.killGraceMs ?? 2000;
  const authorizer = new RbacAuthorizer(effectivePolicy(inventory.users, inventory.rbac));
  const auth = new Authenticator(inventory, authorizer, opts.oidc ? new OidcAuthenticator(opts.oidc) : undefined);
  const killOnClose = opts.killOnClose ?? false;
  const tls = await generateTls();
  // Opened before anything else that would need undoing if the file cannot be opened.
  const audit = opts.auditLog === undefined ? undefined : await AuditLog.open(opts.auditLog, (err) => log(`audit log failed: ${err.message}`));
  const scratch = await mkdtemp(join(tmpdir(), 'podterm-sandbox-'));
  const world = new World(inventory);
  const store = new PodStore(world, inventory);
  const metrics = new SandboxMetrics();

  const podDir = (ns: string, pod: string): string => join(scratch, `${ns}_${pod}`);
  // Every pod's scratch dir (its "filesystem" and HOME) exists before any exec: targets start synchronously.
  await Promise.all(inventory.namespaces.flatMap((n) => n.pods.map((pod) => mkdir(podDir(n.name, pod.name)))));

  const sandboxId = randomBytes(6).toString('hex');
  const survivors = new SurvivorTracker(sandboxId);
  metrics.survivors = () => survivors.count;
  let execN = 0;
  const containerEnv = (ns: string, pod: string, container: string, tty: boolean): Record<string, string> => {
    const env: Record<string, string> = {
      ...baseEnv,
      HOME: podDir(ns, pod),
      HOSTNAME: pod,
      PODTERM_NAMESPACE: ns,
      PODTERM_POD: pod,
      PODTERM_CONTAINER: container,
    };
    if (tty) env.TERM = 'xterm-256color';
    return env;
  };

  const startTarget = (req: ExecRequest, sink: TargetSink, size?: { cols: number; rows: number }): ExecTarget => {
    const cwd = podDir(req.namespace, req.pod.name);
    const env = containerEnv(req.namespace, req.pod.name, req.container.name, req.tty);
    const marker = `${sandboxId}/${++execN}`;
    env[EXEC_MARKER_VAR] = marker;
    const spec: TargetSpec = { command: req.command, tty: req.tty, stdin: req.stdin, cwd, env, ...(size ? { size } : {}) };
    switch (req.container.target) {
      case 'echo':
        return startEchoTarget(spec, sink);
      case 'flood':
        return startFloodTarget(spec, sink);
      case 'none':
        // A distroless image: nothing to exec, whatever the command (containerd's failure).
        throw execNotFound(req.command[0] ?? '');
      case 'process':
        return startProcessTarget(spec, sink, { graceMs, gauge: metrics, killOnClose, marker, survivors });
    }
  };

  const mainGauge = { processStarted: () => metrics.mainProcessesActive++, processExited: () => metrics.mainProcessesActive-- };
  const mains = new MainProcesses({
    store,
    log,
    startProcess: (ns: string, pod: string, c: ContainerSpec, command: readonly string[], sink: TargetSink) => {
      const env = containerEnv(ns, pod, c.name, c.tty === true);
      const spec: TargetSpec = { command, tty: c.tty === true, stdin: c.stdin === true, cwd: podDir(ns, pod), env };
      // Main processes carry no exec marker: they are the container's, killed when the sandbox stops.
      return startProcessTarget(spec, sink, { graceMs, gauge: mainGauge, killOnClose: true });
    },
  });
  const extra = (ns: string) => (pod: { name: string }) => store.ephemeralSpecs(ns, pod.name);
  const isEphemeral = (req: ExecRequest): boolean => store.ephemeral(req.namespace, req.pod.name).some((e) => e.container.name === req.container.name);

  const protocols = opts.v5 === false ? PRE_V5_PROTOCOLS : SUPPORTED_PROTOCOLS;
  const exec = new ExecHandler({
    inventory,
    protocols,
    auth,
    metrics,
    startTarget,
    closeWaitMs: 2000,
    log,
    firstSizeWaitMs: opts.firstSizeWaitMs ?? 1000,
    resolve: (who, method, target, params) => resolveExecRequest(inventory, who, method, target, params, extra(target.namespace)),
  });
  const attachMetrics = new SandboxMetrics();
  const attach = new ExecHandler({
    inventory,
    protocols,
    auth,
    metrics: attachMetrics,
    startTarget: (req, sink) => mains.attach(req, sink, isEphemeral(req)),
    closeWaitMs: 2000,
    log,
    resolve: (who, method, target, params) => resolveAttachRequest(inventory, who, method, target, params, extra(target.namespace)),
  });
  const logs = new LogHandler(store, mains);
  const watches = new PodWatches(store);
  const ephemeral = new EphemeralContainers(store, mains);
  const tools = new ToolRoutes({ store, attach, logs, ephemeral, watches });
  metrics.tools = () => ({ attachActive: attachMetrics.execActive, logStreamsActive: logs.activeStreams, watchesActive: watches.active });
  const api = createApi({ world, auth, metrics, exec, tools, ...(audit ? { audit } : {}), hostPort: () => hostPort });
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, api.onRequest);
  server.on('upgrade', api.onUpgrade);
  server.on('clientError', (_err, socket) => socket.destroy());
  const host = opts.host ?? '127.0.0.1';
  let hostPort = '';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await mains.close();
    await audit?.close();
    await rm(scratch, { recursive: true, force: true });
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  hostPort = `${formatHost(host)}:${port}`;
  const url = `https://${hostPort}`;
  const tokens = auth.tokens as Sandbox['tokens'];
  const kubeconfig = buildKubeconfig({
    url,
    caPem: tls.caPem,
    users: Object.entries(auth.tokens).map(([name, token]) => {
      const spec = inventory.users[name];
      const own = spec?.namespace ?? spec?.namespaces.find((n) => n !== '*');
      return { name, token, namespace: own ?? 'default' };
    }),
  });
  log(`sandbox listening on ${url}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    caPem: tls.caPem,
    tokens,
    kubeconfigYaml: () => kubeconfig,
    async writeKubeconfig(file) {
      // Write then rename, so a reader polling for the file never sees it half-written.
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, kubeconfig, { mode: 0o600 });
      await rename(tmp, file);
    },
    stats: () => ({ execActive: metrics.execActive, processesActive: metrics.processesActive }),
    toolStats: () => ({
      attachActive: attachMetrics.execActive,
      logStreamsActive: logs.activeStreams,
      watchesActive: watches.active,
      mainProcessesActive: metrics.mainProcessesActive,
      survivorsActive: survivors.count,
    }),
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        logs.close();
        watches.close();
        ephemeral.close();
        store.close();
        server.closeAllConnections();
        await Promise.all([exec.close(), attach.close()]);
        // Everything the sandbox started dies with it: main processes, then every marked exec process.
        await mains.close();
        await survivors.close();
        await stopped;
        await audit?.close();
        await rm(scratch, { recursive: true, force: true });
        log('sandbox closed');
      })();
      return closing;
    },
  };
}
