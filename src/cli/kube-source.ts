/**
 * Which cluster `podterm serve` talks to. The rule (README, "Configuration"):
 *   1. `--sandbox` or `--in-cluster` (they exclude each other and `--kubeconfig`): that.
 *   2. `--kubeconfig FILE`, else `$KUBECONFIG` (its first existing file): that file, which must
 *      exist and be a usable kubeconfig. A `$KUBECONFIG` that names only missing files is an error,
 *      never a silent fall-back to the sandbox (which is a shell on this host).
 *   3. `~/.kube/config` if it exists (then it must be usable too).
 *   4. Otherwise the built-in sandbox, and the log says so.
 * Reads files; takes env as an argument (the composition root owns process.env).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { inspectKubeSource, KubeconfigError, type KubeSource, type KubeSummary } from '../kube/config.js';
import { StartupError, UsageError } from './cli-errors.js';

export { inspectKubeSource };

export type ClusterChoice =
  | { kind: 'sandbox'; why: 'flag' | 'no kubeconfig' }
  | { kind: 'in-cluster'; source: KubeSource; summary: KubeSummary }
  | { kind: 'kubeconfig'; file: string; from: string; source: KubeSource; summary: KubeSummary };

export interface ClusterFlags {
  kubeconfig: string | undefined;
  /** `--kubeconfig` or `KUBECONFIG` (the table's origin of the value). */
  kubeconfigFrom: string;
  inCluster: boolean;
  sandbox: boolean;
  kubeTimeoutMs: number;
}

function read(file: string, from: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new StartupError(`kubeconfig ${file} (from ${from}) cannot be read: ${code === 'EISDIR' ? 'it is a directory' : code ?? 'error'}`);
  }
}

function load(file: string, from: string, yaml: string, kubeTimeoutMs: number): ClusterChoice {
  const source: KubeSource = { kind: 'kubeconfig', yaml, kubeTimeoutMs };
  try {
    return { kind: 'kubeconfig', file, from, source, summary: inspectKubeSource(source) };
  } catch (err) {
    if (err instanceof KubeconfigError) throw new StartupError(`kubeconfig ${file} (from ${from}) ${err.message}`);
    throw err;
  }
}

export function chooseCluster(flags: ClusterFlags, env: NodeJS.ProcessEnv): ClusterChoice {
  const explicit = [flags.kubeconfigFrom === '--kubeconfig' && '--kubeconfig', flags.inCluster && '--in-cluster', flags.sandbox && '--sandbox'].filter(Boolean);
  if (explicit.length > 1) throw new UsageError(`${explicit.join(' and ')} exclude each other`);
  if (flags.sandbox) return { kind: 'sandbox', why: 'flag' };
  if (flags.inCluster) {
    const source: KubeSource = { kind: 'in-cluster', kubeTimeoutMs: flags.kubeTimeoutMs };
    try {
      return { kind: 'in-cluster', source, summary: inspectKubeSource(source) };
    } catch (err) {
      // Outside a pod there is no KUBERNETES_SERVICE_HOST and no service account token.
      throw new StartupError(`--in-cluster: not running in a pod with a service account (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
  }
  if (flags.kubeconfig !== undefined) {
    // KUBECONFIG is a list (kubectl merges it); podterm uses its first existing file.
    const files = flags.kubeconfigFrom === '--kubeconfig' ? [flags.kubeconfig] : flags.kubeconfig.split(delimiter).filter((f) => f !== '');
    for (const f of files) {
      const yaml = read(f, flags.kubeconfigFrom);
      if (yaml !== undefined) return load(resolve(f), flags.kubeconfigFrom, yaml, flags.kubeTimeoutMs);
    }
    throw new StartupError(`kubeconfig ${flags.kubeconfig} (from ${flags.kubeconfigFrom}) not found`);
  }
  const home = join(env.HOME || homedir(), '.kube', 'config');
  const yaml = read(home, '~/.kube/config');
  if (yaml !== undefined) return load(home, '~/.kube/config', yaml, flags.kubeTimeoutMs);
  return { kind: 'sandbox', why: 'no kubeconfig' };
}
