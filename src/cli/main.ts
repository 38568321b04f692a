/**
 * The composition root: the only place that reads argv and process.env. It picks the subcommand and
 * hands it plain values; everything below builds objects from what it is given.
 */
import { UsageError } from './args.js';

const USAGE = `usage:
  podterm serve   [--listen HOST:PORT] [--kubeconfig FILE | --in-cluster | --sandbox] [--workers N] [--token T]
  podterm sandbox [--listen HOST:PORT] [--pods FILE] --kubeconfig-out FILE
Run 'podterm serve --help' or 'podterm sandbox --help' for every option.`;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve': {
        const { runServe } = await import('./serve-command.js');
        await runServe(rest, env);
        return;
      }
      case 'sandbox': {
        const { runSandbox } = await import('./sandbox-command.js');
        await runSandbox(rest, env);
        return;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`podterm: ${err.message}\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}
