/**
 * `podterm sandbox [--listen HOST:PORT] [--pods FILE] --kubeconfig-out FILE`: runs the stand-in
 * cluster until SIGINT/SIGTERM, then ends every exec (killing its processes) and exits 0. The
 * kubeconfig is written only once the server listens, so its existence means "ready".
 */
import { resolve } from 'node:path';
import { loadInventory, OidcConfigError, startSandbox, type OidcOptions } from '../sandbox/index.js';
import { parseArgs, parseListen, UsageError } from './args.js';

const HELP = `usage: podterm sandbox [--listen HOST:PORT] [--pods FILE] --kubeconfig-out FILE

  --listen HOST:PORT     where to serve HTTPS (default 127.0.0.1:0, a free port)
  --pods FILE            inventory of namespaces, pods, users and RBAC (JSON or YAML); default: built in
                         (docs/sandbox-inventory.md)
  --kubeconfig-out FILE  where to write the kubeconfig (one context per user: admin, restricted, ...)
  --audit-log FILE       append audit.k8s.io/v1 Events (level Metadata, JSON lines) to FILE
  --quiet                do not log each exec stream

  OIDC bearer tokens, as kube-apiserver's --oidc-* flags:
  --oidc-issuer URL      issuer (https, or http on 127.0.0.1/localhost only)
  --oidc-client-id ID    required audience
  --oidc-username-claim C   default sub
  --oidc-username-prefix P  default "<issuer>#" unless the claim is email; "-" for none
  --oidc-groups-claim C
  --oidc-groups-prefix P`;

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

export async function runSandbox(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const args = parseArgs(argv, ['listen', 'pods', 'kubeconfig-out', 'audit-log', ...OIDC_OPTIONS], ['help', 'quiet']);
  if (args.options.has('help')) {
    console.log(HELP);
    return;
  }
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  const out = args.options.get('kubeconfig-out');
  if (out === undefined) throw new UsageError('sandbox needs --kubeconfig-out FILE');
  const { host, port } = parseListen(args.options.get('listen') ?? '127.0.0.1:0');
  const podsFile = args.options.get('pods');
  const inventory = podsFile === undefined ? undefined : await loadInventory(podsFile);
  const quiet = args.options.has('quiet');
  const oidc = oidcOptions((name) => args.options.get(name));
  const auditLog = args.options.get('audit-log');

  // A bad --oidc-issuer is a usage error, reported like the other option errors.
  const sandbox = await startSandbox({
    host,
    port,
    ...(inventory ? { inventory } : {}),
    ...(oidc ? { oidc } : {}),
    ...(auditLog === undefined ? {} : { auditLog: resolve(auditLog) }),
    log: quiet ? () => {} : (line) => console.error(`[sandbox] ${line}`),
    // Exec'd processes get the caller's PATH so host tools resolve as they do in this shell.
    env: { PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: env.LANG ?? 'C.UTF-8' },
  }).catch((err: unknown) => {
    throw err instanceof OidcConfigError ? new UsageError(err.message) : err;
  });
  const file = resolve(out);
  await sandbox.writeKubeconfig(file);
  console.log(`sandbox listening on ${sandbox.url}`);
  console.log(`kubeconfig written to ${file} (contexts: ${Object.keys(sandbox.tokens).join(', ')})`);

  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  console.error('[sandbox] shutting down');
  await sandbox.close();
  process.exitCode = 0;
}
