/**
 * `podterm sandbox [--listen HOST:PORT] [--pods FILE] --kubeconfig-out FILE`: runs the stand-in
 * cluster until SIGINT/SIGTERM, then ends every exec (killing its processes) and exits 0. The
 * kubeconfig is written only once the server listens, so its existence means "ready".
 */
import { resolve } from 'node:path';
import { loadInventory, startSandbox } from '../sandbox/index.js';
import { parseArgs, parseListen, UsageError } from './args.js';

const HELP = `usage: podterm sandbox [--listen HOST:PORT] [--pods FILE] [--kill-on-close] --kubeconfig-out FILE

  --listen HOST:PORT     where to serve HTTPS (default 127.0.0.1:0, a free port)
  --pods FILE            inventory of namespaces, pods and users (JSON or YAML); default: built in
  --kubeconfig-out FILE  where to write the kubeconfig (contexts admin and restricted)
  --kill-on-close        closing an exec stream kills everything it started (default: hang up the
                         terminal and leave survivors running, as a real container runtime does;
                         the sandbox kills them when it stops)
  --quiet                do not log each exec stream`;

export async function runSandbox(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const args = parseArgs(argv, ['listen', 'pods', 'kubeconfig-out'], ['help', 'quiet', 'kill-on-close']);
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

  const sandbox = await startSandbox({
    host,
    port,
    ...(inventory ? { inventory } : {}),
    killOnClose: args.options.has('kill-on-close'),
    log: quiet ? () => {} : (line) => console.error(`[sandbox] ${line}`),
    // Exec'd processes get the caller's PATH so host tools resolve as they do in this shell.
    env: { PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: env.LANG ?? 'C.UTF-8' },
  });
  const file = resolve(out);
  await sandbox.writeKubeconfig(file);
  console.log(`sandbox listening on ${sandbox.url}`);
  console.log(`kubeconfig written to ${file} (contexts: admin, restricted)`);

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
