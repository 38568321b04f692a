/**
 * The composition root: the only place that reads argv and process.env. It picks the subcommand and
 * hands it plain values; everything below builds objects from what it is given.
 * Exit codes: 0 done (or stopped by SIGINT/SIGTERM), 2 refused to start (one line on stderr, no
 * stack), 1 anything else.
 */
import { StartupError, UsageError } from './cli-errors.js';

const USAGE = `usage:
  podterm serve   [--listen HOST:PORT] [--kubeconfig FILE | --in-cluster | --sandbox] [--workers N] [--token T]
  podterm sandbox [--listen HOST:PORT] [--pods FILE] --kubeconfig-out FILE
Run 'podterm serve --help' or 'podterm sandbox --help' for every option.`;

async function run(command: string | undefined, rest: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  switch (command) {
    case 'serve': {
      const { runServe } = await import('./serve-command.js');
      return runServe(rest, env);
    }
    case 'sandbox': {
      const { runSandbox } = await import('./sandbox-command.js');
      return runSandbox(rest, env);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const [command, ...rest] = argv;
  let code: number;
  try {
    code = await run(command, rest, env);
  } catch (err) {
    if (err instanceof UsageError) {
      const hint = command === 'serve' || command === 'sandbox' ? `Run 'podterm ${command} --help' for every option.` : USAGE;
      process.stderr.write(`podterm: ${err.message}\n${hint}\n`);
      code = 2;
    } else if (err instanceof StartupError) {
      process.stderr.write(`podterm: ${err.message}\n`);
      code = 2;
    } else {
      throw err;
    }
  }
  // Whatever the command started is closed by now; exit at once rather than wait on a stray
  // handle (a usage error must never leave the process hanging).
  process.exit(code);
}
