/**
 * Starts the processes under test: the sandbox cluster and the podterm gateway, each as its own
 * child process through the CLI (bench/podterm-entry.js from the same build output), with a
 * readiness wait before anything is measured.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { type ChildSet, type Spawned, poll, waitForLine } from './children.js';
import { scrape, type MetricSet } from './metrics.js';
import { descendantPids, cmdline } from './procfs.js';

/** bench/podterm-entry.js next to this build's bench/lib/. */
export const ENTRY = fileURLToPath(new URL('../podterm-entry.js', import.meta.url));
/** The repository root (the build output sits two or three levels below; find package.json). */
export const REPO_ROOT = findRoot();

function findRoot(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'node_modules'))) return dir;
    dir = join(dir, '..');
  }
  throw new Error('bench: cannot find the repository root from ' + import.meta.url);
}

export interface SandboxHandle {
  readonly child: Spawned;
  readonly kubeconfig: string;
  readonly server: string;
  /** TLS and auth options for talking to the sandbox directly (CA, client cert or token header). */
  readonly tls: RequestOptions;
  readonly kc: KubeConfig;
  metrics(): Promise<MetricSet>;
}

export interface SandboxOptions {
  pods?: string;
  readyTimeoutMs?: number;
}

export async function startSandbox(children: ChildSet, opts: SandboxOptions = {}): Promise<SandboxHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'podterm-bench-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const args = [ENTRY, 'sandbox', '--listen', '127.0.0.1:0', '--kubeconfig-out', kubeconfig];
  if (opts.pods) args.push('--pods', opts.pods);
  const child = children.spawn('sandbox', process.execPath, args, { cwd: REPO_ROOT });
  void child.exited.then(() => rmSync(dir, { recursive: true, force: true }));
  // The sandbox writes the kubeconfig only once it listens: its existence is the readiness signal.
  await poll(
    'the sandbox kubeconfig',
    async () => {
      if (child.proc.exitCode !== null) throw new Error(`bench: sandbox exited (${child.proc.exitCode}):\n${child.stderrTail()}`);
      return existsSync(kubeconfig) && statSync(kubeconfig).size > 0 ? true : undefined;
    },
    opts.readyTimeoutMs ?? 30000,
  );
  const kc = new KubeConfig();
  kc.loadFromString(readFileSync(kubeconfig, 'utf8'));
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('bench: the sandbox kubeconfig names no server');
  const tls: RequestOptions = {};
  await kc.applyToHTTPSOptions(tls);
  return { child, kubeconfig, server, tls, kc, metrics: () => scrape(server, tls) };
}

export interface GatewayOptions {
  kubeconfig: string;
  workers: number;
  token?: string;
  /** Extra `serve` arguments, e.g. ['--max-sessions', '20000']. */
  extraArgs?: readonly string[];
  /** Node flags for the gateway process, e.g. --inspect=127.0.0.1:0. */
  nodeArgs?: readonly string[];
  /** Run under `clinic heapprofiler|doctor`, reports in dest. */
  clinic?: { tool: 'heapprofiler' | 'doctor'; dest: string };
  readyTimeoutMs?: number;
}

export interface GatewayHandle {
  readonly child: Spawned;
  /** The gateway's own pid (differs from child.pid under clinic). */
  readonly pid: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly token: string;
  readonly workers: number;
  /** ws://... of the V8 inspector when started with --inspect. */
  readonly inspectorUrl: string | undefined;
  /**
   * One keep-alive connection for /metrics and /healthz, opened while the gateway is idle: with
   * 10,000 sessions the gateway sits at its open-files limit and accepts no new connection.
   */
  readonly httpAgent: HttpAgent;
  metrics(): Promise<MetricSet>;
}

export async function startGateway(children: ChildSet, opts: GatewayOptions): Promise<GatewayHandle> {
  const token = opts.token ?? `bench-${process.pid}-${Date.now().toString(36)}`;
  const serve = [
    ...(opts.nodeArgs ?? []),
    ENTRY,
    'serve',
    '--listen', '127.0.0.1:0',
    '--kubeconfig', opts.kubeconfig,
    '--workers', String(opts.workers),
    '--token', token,
    // The scenarios measure sessions that end with their socket (churn proves nothing survives
    // that end); resumable sessions are measured with --gateway-arg --detach-grace-ms=N.
    '--detach-grace-ms', '0',
    ...(opts.extraArgs ?? []),
  ];
  const name = `gateway(workers=${opts.workers})`;
  const child = opts.clinic
    ? children.spawn(name, process.execPath, [join(REPO_ROOT, 'node_modules', 'clinic', 'bin.js'), opts.clinic.tool, '--dest', opts.clinic.dest, '--', process.execPath, ...serve], {
        cwd: REPO_ROOT,
        env: { ...process.env, NO_INSIGHT: 'true' },
      })
    : children.spawn(name, process.execPath, serve, { cwd: REPO_ROOT });
  // The bench gives the token, so the ready line carries only the URL (a given token is never printed).
  const m = await waitForLine(child, /podterm: open (http:\/\/[^/\s]+)\//, opts.readyTimeoutMs ?? 60000);
  const httpUrl = m[1] as string;
  // Under clinic the gateway is a descendant of the clinic process; find it by its command line.
  const pid = opts.clinic
    ? await poll('the gateway pid under clinic', () => descendantPids(child.pid).find((p) => cmdline(p).includes(`${ENTRY} serve`)), 10000)
    : child.pid;
  const inspect = /Debugger listening on (ws:\/\/\S+)/.exec(child.stderrTail());
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  void child.exited.then(() => httpAgent.destroy());
  return {
    child,
    pid,
    httpUrl,
    wsUrl: httpUrl.replace(/^http/, 'ws'),
    token,
    workers: opts.workers,
    inspectorUrl: inspect?.[1],
    httpAgent,
    metrics: () => scrape(httpUrl, {}, httpAgent),
  };
}
