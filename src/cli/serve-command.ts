/**
 * `podterm serve`: turns argv/env into GatewayOptions, starts the gateway (and the sandbox cluster
 * when no cluster is configured), prints the one ready line, and drains on SIGTERM/SIGINT.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, parseListen, UsageError } from './args.js';
import { sessionsWithinFds, softNoFileLimit } from './fd-limit.js';
import type { GatewayOptions } from '../server/gateway.js';

const HELP = `usage: podterm serve [options]
  --listen HOST:PORT          where to listen (default 127.0.0.1:8080; port 0 picks one)
  --kubeconfig FILE           use this kubeconfig (default: $KUBECONFIG, then ~/.kube/config)
  --in-cluster                use the pod's service account
  --sandbox                   start the built-in sandbox cluster in-process
  --workers N                 worker threads for session actors (default: CPUs; 0 = main thread)
  --token T                   the access token (default: $PODTERM_TOKEN, else random)
  --user TOKEN=CONTEXT[:NS,NS] another token bound to a kubeconfig context (repeatable); the
                              namespaces are shown when the context may not list namespaces
  --allow-origin ORIGIN       allowed browser Origin (repeatable; default: the server's own)
  --max-sessions N            global session limit (default 10000, lowered to fit ulimit -n)
  --max-sessions-per-token N  per-token session limit (default 1000)
  --idle-timeout-ms MS        close after this long without input (default 1800000; 0 = off)
  --max-session-age-ms MS     close sessions older than this (default 43200000; 0 = off)
  --max-message-bytes N       largest client message (default 65536; larger closes with 1009)
  --drain-grace-ms MS         on SIGTERM, wait this long before closing sessions (default 10000)
  --web-root DIR              folder of the built page (default: <build>/web)`;

const VALUED = ['listen', 'kubeconfig', 'workers', 'token', 'user', 'allow-origin', 'max-sessions', 'max-sessions-per-token', 'idle-timeout-ms', 'max-session-age-ms', 'max-message-bytes', 'drain-grace-ms', 'web-root'];
const FLAGS = ['in-cluster', 'sandbox', 'help'];

interface SandboxHandle {
  kubeconfigYaml(): string;
  close(): Promise<void>;
}
interface SandboxModule {
  startSandbox(opts?: { host?: string; port?: number }): Promise<SandboxHandle>;
}

function int(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} wants a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

function parseUser(spec: string): { token: string; context: string; namespaces: string[] } {
  const m = /^([^=]+)=([^:]+)(?::(.*))?$/.exec(spec);
  if (!m) throw new UsageError(`--user wants TOKEN=CONTEXT[:NS,NS], got a value of another shape`);
  return { token: m[1] as string, context: m[2] as string, namespaces: m[3] ? m[3].split(',').filter((s) => s !== '') : [] };
}

function log(level: string, msg: string, fields?: Record<string, unknown>): void {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
}

export async function runServe(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const args = parseArgs(argv, VALUED, FLAGS);
  const opt = (n: string): string | undefined => args.options.get(n);
  if (opt('help')) {
    console.log(HELP);
    return;
  }
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  const sources = ['kubeconfig', 'in-cluster', 'sandbox'].filter((n) => opt(n) !== undefined);
  if (sources.length > 1) throw new UsageError('--kubeconfig, --in-cluster and --sandbox exclude each other');
  const { host, port } = parseListen(opt('listen') ?? '127.0.0.1:8080');
  const token = opt('token') ?? env.PODTERM_TOKEN ?? randomBytes(18).toString('base64url');

  let sandbox: SandboxHandle | undefined;
  let kube: GatewayOptions['kube'];
  const kubeconfigFile = opt('kubeconfig') ?? (env.KUBECONFIG ?? '').split(':').find((f) => f !== '' && existsSync(f)) ?? defaultKubeconfig(env);
  if (opt('in-cluster')) {
    kube = { kind: 'in-cluster' };
  } else if (!opt('sandbox') && kubeconfigFile) {
    kube = { kind: 'kubeconfig', yaml: readFileSync(kubeconfigFile, 'utf8') };
  } else {
    const mod = (await import(new URL('../sandbox/index.js', import.meta.url).href)) as SandboxModule;
    sandbox = await mod.startSandbox({ host: '127.0.0.1', port: 0 });
    kube = { kind: 'kubeconfig', yaml: sandbox.kubeconfigYaml() };
    log('info', 'no cluster configured: serving the built-in sandbox cluster');
  }

  const { startGateway, DEFAULTS } = await import('../server/gateway.js');
  // Two sockets per session, plus the sandbox's socket and pty/pipes when it runs in this process.
  const fdCap = sessionsWithinFds(softNoFileLimit(readLimits()), sandbox ? 6 : 2);
  const askedSessions = int(opt('max-sessions'), 'max-sessions');
  const maxSessions = Math.min(askedSessions ?? DEFAULTS.maxSessions, fdCap);
  if (maxSessions < (askedSessions ?? DEFAULTS.maxSessions)) {
    log('warn', 'session limit lowered to fit the open-files limit (raise it with ulimit -n)', { maxSessions, asked: askedSessions ?? DEFAULTS.maxSessions });
  }
  const workers = int(opt('workers'), 'workers') ?? availableParallelism();
  const origins = args.all.get('allow-origin');
  const gateway = await startGateway({
    host,
    port,
    kube,
    workers,
    tokens: [{ token }, ...(args.all.get('user') ?? []).map(parseUser)],
    ...(origins ? { allowedOrigins: origins } : {}),
    maxSessions,
    maxSessionsPerToken: int(opt('max-sessions-per-token'), 'max-sessions-per-token'),
    idleTimeoutMs: int(opt('idle-timeout-ms'), 'idle-timeout-ms'),
    maxSessionAgeMs: int(opt('max-session-age-ms'), 'max-session-age-ms'),
    maxMessageBytes: int(opt('max-message-bytes'), 'max-message-bytes'),
    drainGraceMs: int(opt('drain-grace-ms'), 'drain-grace-ms'),
    webRoot: opt('web-root'),
    log,
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log('info', 'draining', { signal });
    void (async () => {
      await gateway.drain();
      await gateway.close();
      await sandbox?.close();
      log('info', 'stopped');
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // The one line bench and tests parse; the token goes only here, never into the log.
  process.stdout.write(`podterm: open ${gateway.url}/?token=${encodeURIComponent(token)}\n`);
}

function readLimits(): string {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return ''; // not Linux: no cap from here
  }
}

function defaultKubeconfig(env: NodeJS.ProcessEnv): string | undefined {
  const f = join(env.HOME ?? homedir(), '.kube', 'config');
  return existsSync(f) ? f : undefined;
}
