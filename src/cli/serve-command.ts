/**
 * `podterm serve`: turns argv/env into GatewayOptions, starts the gateway (and the sandbox cluster
 * when no cluster is configured), prints the one ready line, and drains on SIGTERM/SIGINT.
 * Every option is checked before anything starts; whatever starts is owned by one Lifetime, so a
 * failed start, a signal or a crash leaves no sandbox process or scratch folder behind.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseOptions, renderHelp } from './args.js';
import { StartupError } from './cli-errors.js';
import { fdsPerSession, sessionsWithinFds, softNoFileLimit } from './fd-limit.js';
import { Lifetime } from './lifetime.js';
import { SERVE_OPTIONS, defaultWorkers } from './serve-options.js';
import { signInOptions } from './sign-in-options.js';
import { clusterOptions } from './cluster-options.js';
import { tlsOptions } from './tls-options.js';
import { createLogger, logFn, type LogFn } from '../log/logger.js';
import type { KubeSource } from '../kube/config.js';
import type { GatewayOptions } from '../server/gateway.js';

export const SERVE_HELP = renderHelp('usage: podterm serve [options]', SERVE_OPTIONS);

interface SandboxHandle {
  readonly url: string;
  kubeconfigYaml(): string;
  close(): Promise<void>;
}
interface SandboxModule {
  startSandbox(opts?: { host?: string; port?: number }): Promise<SandboxHandle>;
}


function readLimits(): string {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return ''; // not Linux: no cap from here
  }
}

/** Runs until stopped; resolves with the exit code. Throws UsageError/StartupError before serving. */
export async function runServe(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values: v, from, help } = parseOptions(SERVE_OPTIONS, argv, env);
  if (help) {
    console.log(SERVE_HELP);
    return 0;
  }
  // One pino logger for the CLI, the gateway and (at the same level) the actor workers.
  const logger = createLogger({ level: v['log-level'] });
  const log = logFn(logger.child({ component: 'cli' }));
  // client-node takes seconds to load: a usage error must not wait for it.
  const { chooseCluster, inspectKubeSource } = await import('./kube-source.js');
  const cluster = chooseCluster({ kubeconfig: v.kubeconfig, kubeconfigFrom: from.kubeconfig, inCluster: v['in-cluster'], sandbox: v.sandbox, kubeTimeoutMs: v['kube-timeout-ms'] }, env);
  const oidc = signInOptions(v, env);
  const clustered = clusterOptions(v, env);
  const tls = tlsOptions(v);
  const generated = v.token === undefined;
  const token = v.token ?? randomBytes(18).toString('base64url');
  if (cluster.kind !== 'sandbox') {
    const unknown = v.user.find((u) => !cluster.summary.contexts.includes(u.context));
    if (unknown) throw new StartupError(`--user binds a token to context ${JSON.stringify(unknown.context)}, which the kubeconfig does not define (${cluster.summary.contexts.join(', ')})`);
  }

  const life = new Lifetime(log);
  try {
    let kube: KubeSource;
    let sandboxed = false;
    if (cluster.kind === 'sandbox') {
      const mod = (await import(new URL('../sandbox/index.js', import.meta.url).href)) as SandboxModule;
      const sandbox = await mod.startSandbox({ host: '127.0.0.1', port: 0 });
      life.add(() => sandbox.close());
      sandboxed = true;
      kube = { kind: 'kubeconfig', yaml: sandbox.kubeconfigYaml(), kubeTimeoutMs: v['kube-timeout-ms'] };
      const summary = inspectKubeSource(kube);
      const unknown = v.user.find((u) => !summary.contexts.includes(u.context));
      if (unknown) throw new StartupError(`--user binds a token to context ${JSON.stringify(unknown.context)}; the sandbox has ${summary.contexts.join(', ')}`);
      const why = cluster.why === 'flag' ? 'serving the built-in sandbox cluster (--sandbox)' : 'no cluster configured: serving the built-in sandbox cluster';
      log('info', why, { context: summary.context, server: summary.server });
    } else {
      kube = cluster.source;
      // Where the credentials come from, never the credentials themselves.
      log('info', 'cluster', { ...(cluster.kind === 'kubeconfig' ? { kubeconfig: cluster.file, from: cluster.from } : { inCluster: true }), context: cluster.summary.context, server: cluster.summary.server });
    }
    if (life.stopping) return await stopped(life, log);
    // With the sandbox, recording is on by default in a folder of its own, so a first-time user
    // sees it work; it is left behind on exit (the recordings are the point).
    let recordDir = v['record-dir'];
    if (recordDir === undefined && sandboxed) {
      recordDir = await mkdtemp(join(tmpdir(), 'podterm-recordings-'));
      log('info', 'sandbox: recording sessions (asciicast v2) into a temporary folder; choose another with --record-dir', { recordDir });
    }

    const { startGateway, DEFAULTS } = await import('../server/gateway.js');
    const fdCap = sessionsWithinFds(softNoFileLimit(readLimits()), fdsPerSession({ recording: recordDir !== undefined, sandboxed }));
    const maxSessions = Math.min(v['max-sessions'], fdCap);
    if (maxSessions < v['max-sessions']) {
      log('warn', 'session limit lowered to fit the open-files limit (raise it with ulimit -n)', { maxSessions, asked: v['max-sessions'] });
    }
    const options: GatewayOptions = {
      host: v.listen.host,
      port: v.listen.port,
      kube,
      workers: v.workers ?? defaultWorkers(),
      tokens: [{ token }, ...v.user, ...v.person],
      ...(oidc ? { oidc } : {}),
      ...(tls ? { tls } : {}),
      identity: v.identity,
      ...(v['allow-origin'].length > 0 ? { allowedOrigins: v['allow-origin'] } : {}),
      maxSessions,
      maxSessionsPerToken: v['max-sessions-per-token'],
      idleTimeoutMs: v['idle-timeout-ms'],
      maxSessionAgeMs: v['max-session-age-ms'],
      detachGraceMs: v['detach-grace-ms'],
      replayBytes: v['replay-bytes'],
      maxMessageBytes: v['max-message-bytes'],
      drainGraceMs: v['drain-grace-ms'],
      kubeTimeoutMs: v['kube-timeout-ms'],
      killOnClose: v['kill-on-close'] === 'on',
      maxUploadBytes: v['max-upload-bytes'],
      debugImage: v['debug-image'],
      webRoot: v['web-root'],
      logger,
      logLevel: v['log-level'],
      ...(recordDir !== undefined ? { recordDir } : {}),
      recordMode: v['record-mode'],
      recordMaxBytes: v['record-max-bytes'],
      recordInput: v['record-input'] === true,
      recordRetentionDays: v['record-retention-days'],
      ...(v['recordings-group'] !== undefined ? { recordingsGroup: v['recordings-group'] } : {}),
      ...(v['audit-log'] !== undefined ? { auditLog: v['audit-log'] } : {}),
      ...(v['replica-id'] !== undefined ? { replicaId: v['replica-id'] } : {}),
      ...clustered,
    };
    const gateway = await startGateway(options).catch((err: unknown) => {
      const e = err as { name?: string; code?: string };
      if (e.name === 'ListenError' && e.code === 'EADDRINUSE') throw new StartupError(`${options.host}:${options.port}: address in use; choose another with --listen`);
      if (e.name === 'ListenError') throw new StartupError(`${(err as Error).message}; choose another with --listen`);
      // Checked above already: the files changed in between.
      if (e.name === 'TlsFilesError') throw new StartupError(`TLS: ${(err as Error).message}`);
      // Sign-in set-up: a bad issuer or secret (TypeError), or discovery failing (AuthError).
      if (oidc && (err instanceof TypeError || (err as { reason?: string }).reason === 'provider-unavailable')) throw new StartupError(`sign-in: ${(err as Error).message}`);
      throw err;
    });
    life.add(() => gateway.close());
    if (tls) {
      // SIGHUP (as nginx and kubelet-managed certificate renewals expect): new connections get the
      // files as they are now; a bad renewal is logged and the served certificate stays.
      // The gateway logs why a reload failed.
      const onHangup = (): void => void gateway.reloadTls().catch(() => undefined);
      process.on('SIGHUP', onHangup);
      life.add(() => void process.off('SIGHUP', onHangup));
    }
    if (life.stopping) return await stopped(life, log);

    // The ready line bench and tests parse. A token podterm made up is shown once, here, so the
    // user can sign in; a token the operator gave is theirs and never printed (it would end up
    // in `kubectl logs`).
    const url = generated ? `${gateway.url}/?token=${encodeURIComponent(token)}` : `${gateway.url}/`;
    process.stdout.write(`podterm: open ${url}${generated ? '' : ` (sign in with the token from ${from.token})`}\n`);

    const signal = await life.stopRequested();
    log('info', 'draining', { signal });
    const grace = v['drain-grace-ms'] ?? DEFAULTS.drainGraceMs;
    // A shutdown that hangs must not keep the pod Terminating forever.
    setTimeout(() => {
      log('error', 'shutdown took too long; exiting');
      process.exit(1);
    }, grace + 30_000).unref();
    await Promise.race([gateway.drain(), life.hurried()]);
    return await stopped(life, log);
  } catch (err) {
    await life.close();
    throw err;
  }
}

async function stopped(life: Lifetime, log: LogFn): Promise<number> {
  await life.close();
  log('info', 'stopped');
  return 0;
}
