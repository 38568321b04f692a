/**
 * `podterm sandbox [--listen HOST:PORT] [--pods FILE] --kubeconfig-out FILE`: runs the stand-in
 * cluster until SIGINT/SIGTERM, then ends every exec (killing its processes) and exits 0. The
 * kubeconfig is written only once the server listens, so its existence means "ready".
 */
import type { OidcOptions } from '../sandbox/index.js';
import { flag, parseOptions, renderHelp, value } from './args.js';
import { StartupError, UsageError } from './cli-errors.js';
import { Lifetime } from './lifetime.js';
import { existingFile, listen, outputFile } from './values.js';

const asIs = (raw: string): string => raw;

export const SANDBOX_OPTIONS = {
  listen: value('HOST:PORT', listen, 'where to serve HTTPS (port 0 picks a free one)', { default: '127.0.0.1:0' }),
  pods: value('FILE', existingFile, 'inventory of namespaces, pods, users and RBAC (JSON or YAML; docs/sandbox-inventory.md)', { defaultText: 'built in' }),
  'kubeconfig-out': value('FILE', outputFile, 'where to write the kubeconfig (one context per user: admin, restricted, ...); required'),
  'audit-log': value('FILE', outputFile, 'append audit.k8s.io/v1 Events (level Metadata, JSON lines) to FILE'),
  quiet: flag('do not log each exec stream'),
  'kill-on-close': flag('closing an exec stream kills everything it started (default: hang up the terminal and leave survivors running, as a real container runtime does; the sandbox kills them when it stops)'),
  'no-v5': flag('refuse the v5.channel.k8s.io exec subprotocol, as a cluster before Kubernetes 1.30 does (its kubelet speaks v4 and older): clients fall back to v4, which cannot close stdin'),
  // OIDC bearer tokens, as kube-apiserver's --oidc-* flags.
  'oidc-issuer': value('URL', asIs, 'OIDC issuer (https, or http on 127.0.0.1/localhost only)'),
  'oidc-client-id': value('ID', asIs, 'OIDC: required audience'),
  'oidc-username-claim': value('C', asIs, 'OIDC: the username claim', { defaultText: 'sub' }),
  'oidc-username-prefix': value('P', asIs, 'OIDC: username prefix; `-` for none', { defaultText: '"<issuer>#" unless the claim is email' }),
  'oidc-groups-claim': value('C', asIs, 'OIDC: the groups claim'),
  'oidc-groups-prefix': value('P', asIs, 'OIDC: groups prefix'),
};

export const SANDBOX_HELP = renderHelp('usage: podterm sandbox [--listen HOST:PORT] [--pods FILE] [--kill-on-close] [--no-v5] --kubeconfig-out FILE', SANDBOX_OPTIONS);

const OIDC_OPTIONS = ['oidc-issuer', 'oidc-client-id', 'oidc-username-claim', 'oidc-username-prefix', 'oidc-groups-claim', 'oidc-groups-prefix'];

/** The --oidc-* options as startSandbox's `oidc`, or undefined when none is given. */
export function oidcOptions(get: (name: string) => string | undefined): OidcOptions | undefined {
  const issuerUrl = get('oidc-issuer');
  const clientId = get('oidc-client-id');
  if (issuerUrl === undefined && clientId === undefined) {
    const stray = OIDC_OPTIONS.find((o) => get(o) !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --oidc-issuer and --oidc-client-id`);
    return undefined;
  }
  if (issuerUrl === undefined || clientId === undefined) throw new UsageError('--oidc-issuer and --oidc-client-id go together');
  const o: { -readonly [K in keyof OidcOptions]: OidcOptions[K] } = { issuerUrl, clientId };
  const usernameClaim = get('oidc-username-claim');
  const usernamePrefix = get('oidc-username-prefix');
  const groupsClaim = get('oidc-groups-claim');
  const groupsPrefix = get('oidc-groups-prefix');
  if (usernameClaim !== undefined) o.usernameClaim = usernameClaim;
  if (usernamePrefix !== undefined) o.usernamePrefix = usernamePrefix;
  if (groupsClaim !== undefined) o.groupsClaim = groupsClaim;
  if (groupsPrefix !== undefined) o.groupsPrefix = groupsPrefix;
  return o;
}

/** Runs until stopped; resolves with the exit code. */
export async function runSandbox(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values: v, help } = parseOptions(SANDBOX_OPTIONS, argv, env);
  if (help) {
    console.log(SANDBOX_HELP);
    return 0;
  }
  const out = v['kubeconfig-out'];
  if (out === undefined) throw new UsageError('sandbox needs --kubeconfig-out FILE');
  const oidc = oidcOptions((name) => v[name as keyof typeof v] as string | undefined);
  const { loadInventory, startSandbox, InventoryError, OidcConfigError } = await import('../sandbox/index.js');
  const inventory = v.pods === undefined ? undefined : await loadInventory(v.pods).catch((err: unknown) => {
    throw err instanceof InventoryError ? new StartupError(`--pods ${v.pods}: ${err.message}`) : err;
  });
  const log = (level: string, msg: string, fields?: Record<string, unknown>): void => console.error(`[sandbox] ${level}: ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}`);

  const life = new Lifetime(log);
  try {
    const sandbox = await startSandbox({
      host: v.listen.host,
      port: v.listen.port,
      ...(inventory ? { inventory } : {}),
      ...(oidc ? { oidc } : {}),
      ...(v['audit-log'] === undefined ? {} : { auditLog: v['audit-log'] }),
      killOnClose: v['kill-on-close'] === true,
      ...(v['no-v5'] === true ? { v5: false } : {}),
      log: v.quiet ? () => {} : (line) => console.error(`[sandbox] ${line}`),
      // Exec'd processes get the caller's PATH so host tools resolve as they do in this shell.
      env: { PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: env.LANG ?? 'C.UTF-8' },
    }).catch((err: unknown) => {
      // A bad --oidc-issuer is a usage error, reported like the other option errors.
      if (err instanceof OidcConfigError) throw new UsageError(err.message);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new StartupError(`${v.listen.host}:${v.listen.port}: address in use; choose another with --listen`);
      throw err;
    });
    life.add(() => sandbox.close());
    if (!life.stopping) {
      await sandbox.writeKubeconfig(out).catch((err: unknown) => {
        throw new StartupError(`--kubeconfig-out ${out}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      });
      console.log(`sandbox listening on ${sandbox.url}`);
      console.log(`kubeconfig written to ${out} (contexts: ${Object.keys(sandbox.tokens).join(', ')})`);
      await life.stopRequested();
    }
    console.error('[sandbox] shutting down');
  } finally {
    await life.close();
  }
  return 0;
}
