/** A small, strict command-line parser: `--name value`, `--name=value`, boolean `--flag`. Pure. */
export interface ParsedArgs {
  /** Last value of each option; booleans are 'true'. */
  options: Map<string, string>;
  /** Every value of each option, in order (for repeatable options). */
  all: Map<string, string[]>;
  positionals: string[];
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * @param valued options that take a value; anything else that starts with `--` must be in `flags`.
 */
export function parseArgs(argv: readonly string[], valued: readonly string[], flags: readonly string[]): ParsedArgs {
  const options = new Map<string, string>();
  const all = new Map<string, string[]>();
  const positionals: string[] = [];
  const put = (name: string, value: string): void => {
    options.set(name, value);
    all.set(name, [...(all.get(name) ?? []), value]);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (valued.includes(name)) {
      const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      put(name, value);
    } else if (flags.includes(name)) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      put(name, 'true');
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { options, all, positionals };
}

/** Parses HOST:PORT (IPv6 as [::1]:PORT). Port 0 picks a free port. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--listen wants HOST:PORT, got ${JSON.stringify(value)}`);
  return { host: (m[1] ?? m[2]) as string, port };
}
