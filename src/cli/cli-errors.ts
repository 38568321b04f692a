/**
 * The two ways the CLI refuses to start, both exit 2 with one line on stderr and no stack:
 * a UsageError (bad option, value or argument) also points at `--help`; a StartupError (a
 * kubeconfig that is missing or malformed, a port in use) is about the world, not the command line.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}
