/**
 * The command-line engine: each command declares one options table (name, kind, placeholder,
 * default, env var, help, value parser); `node:util` parseArgs does the tokenizing (strict: unknown
 * options, missing values and stray arguments are errors), this file resolves option > env var >
 * default, validates every value with the option's parser, and renders the help text and README's
 * table from the same table. Pure: argv and env come in as arguments.
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { UsageError } from './cli-errors.js';

export { UsageError } from './cli-errors.js';
export { parseListen } from './values.js';

/** Turns one raw value into a typed one; throws UsageError naming `from` (e.g. `--workers`). */
export type Parser<T> = (raw: string, from: string) => T;

interface Common {
  readonly help: string;
  /** Read when the option is absent; an empty value counts as unset. */
  readonly env?: string;
  /** What the default is, in words, for the help text and README (`CPU count`). */
  readonly defaultText?: string;
}
export interface ValueSpec<T, D extends string | undefined = string | undefined> extends Common {
  readonly kind: 'value';
  readonly meta: string;
  readonly parse: Parser<T>;
  /** Parsed like a given value, so a default is valid by construction. */
  readonly default: D;
}
export interface ListSpec<T> extends Common {
  readonly kind: 'list';
  readonly meta: string;
  readonly parse: Parser<T>;
}
export interface FlagSpec extends Common {
  readonly kind: 'flag';
}
export type OptionSpec = ValueSpec<unknown> | ListSpec<unknown> | FlagSpec;
export type OptionTable = Readonly<Record<string, OptionSpec>>;

export type Values<O extends OptionTable> = {
  -readonly [K in keyof O]: O[K] extends FlagSpec
    ? boolean
    : O[K] extends ListSpec<infer T>
      ? T[]
      : O[K] extends ValueSpec<infer T, infer D>
        ? D extends string ? T : T | undefined
        : never;
};
/** Where each value came from: `--name`, the env var's name, or `default`. */
export type Origins<O extends OptionTable> = { [K in keyof O]: string };

export interface Parsed<O extends OptionTable> {
  values: Values<O>;
  from: Origins<O>;
  help: boolean;
}

/** Declaration helpers: they keep the literal type of `default` so Values<> knows what is set. */
export function value<T, D extends string | undefined = undefined>(
  meta: string,
  parse: Parser<T>,
  help: string,
  more: { default?: D; env?: string; defaultText?: string } = {},
): ValueSpec<T, D> {
  return { kind: 'value', meta, parse, help, default: more.default as D, ...(more.env ? { env: more.env } : {}), ...(more.defaultText ? { defaultText: more.defaultText } : {}) };
}
export function list<T>(meta: string, parse: Parser<T>, help: string, more: { defaultText?: string } = {}): ListSpec<T> {
  return { kind: 'list', meta, parse, help, ...more };
}
export function flag(help: string, more: { defaultText?: string } = {}): FlagSpec {
  return { kind: 'flag', help, ...more };
}

/** Node's parseArgs messages run over several lines and quote `-- "--x"`; ours are one line. */
function usageFromNode(err: unknown): UsageError {
  const e = err as { code?: string; message?: string };
  const opt = /'(--?[^' ]+)/.exec(e.message ?? '')?.[1];
  const positional = /'([^']*)'/.exec(e.message ?? '')?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${opt ?? ''}`.trim());
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument ${JSON.stringify(positional ?? '')}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(e.message ?? '')) return new UsageError(`${opt} takes no value`);
      if (/ambiguous/.test(e.message ?? '')) return new UsageError(`${opt} needs a value (for one that starts with a dash, write ${opt}=-...)`);
      return new UsageError(`${opt} needs a value`);
    default:
      return new UsageError((e.message ?? String(err)).split('\n')[0] as string);
  }
}

export function parseOptions<O extends OptionTable>(table: O, argv: readonly string[], env: NodeJS.ProcessEnv): Parsed<O> {
  const config: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(table)) {
    config[name] = spec.kind === 'flag' ? { type: 'boolean' } : { type: 'string', ...(spec.kind === 'list' ? { multiple: true } : {}) };
  }
  let raw: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    raw = nodeParseArgs({ args: [...argv], options: config, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw usageFromNode(err);
  }
  const values: Record<string, unknown> = {};
  const from: Record<string, string> = {};
  for (const [name, spec] of Object.entries(table)) {
    const given = raw[name];
    const envRaw = spec.env === undefined ? undefined : env[spec.env];
    const fromEnv = envRaw !== undefined && envRaw !== '' && given === undefined;
    from[name] = given !== undefined ? `--${name}` : fromEnv ? (spec.env as string) : 'default';
    if (spec.kind === 'flag') {
      values[name] = given === true;
    } else if (spec.kind === 'list') {
      values[name] = ((given as string[] | undefined) ?? []).map((v) => spec.parse(v, `--${name}`));
    } else {
      const text = given !== undefined ? (given as string) : fromEnv ? envRaw : spec.default;
      values[name] = text === undefined ? undefined : spec.parse(text, from[name] === 'default' ? `--${name}` : from[name]);
    }
  }
  return { values: values as Values<O>, from: from as Origins<O>, help: raw.help === true };
}

function defaultWords(spec: OptionSpec): string {
  if (spec.defaultText) return spec.defaultText;
  const parts: string[] = [];
  if (spec.env) parts.push(`\`$${spec.env}\``);
  if (spec.kind === 'value' && spec.default !== undefined) parts.push(/^\d+$/.test(spec.default) ? spec.default : `\`${spec.default}\``);
  return parts.join(', else ');
}

function synopsis(name: string, spec: OptionSpec): string {
  return spec.kind === 'flag' ? `--${name}` : `--${name} ${spec.meta}`;
}

/** The `--help` text: one entry per option, help wrapped to 100 columns, default in brackets. */
export function renderHelp(head: string, table: OptionTable): string {
  const lines = [head, ''];
  const width = Math.max(...Object.entries(table).map(([n, s]) => synopsis(n, s).length)) + 4;
  for (const [name, spec] of Object.entries(table)) {
    const d = defaultWords(spec);
    // Backticks are for README; the terminal gets the plain words.
    const text = (d ? `${spec.help} [default: ${d}]` : spec.help).replaceAll('`', '');
    const words = text.split(' ');
    let line = `  ${synopsis(name, spec)}`.padEnd(width);
    for (const w of words) {
      if (line.length + w.length + 1 > 100 && line.trim() !== '') {
        lines.push(line.trimEnd());
        line = ' '.repeat(width);
      }
      line += `${w} `;
    }
    lines.push(line.trimEnd());
  }
  return lines.join('\n');
}

/** README's configuration table, generated from the same table (a test keeps them equal). */
export function renderMarkdown(table: OptionTable): string {
  const row = (cells: string[]): string => `|${cells.map((c) => (c ? ` ${c} ` : ' ')).join('|')}|`;
  const rows = Object.entries(table).map(([name, spec]) => row([`\`${synopsis(name, spec)}\``, defaultWords(spec), spec.help]));
  return ['| option | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** The untyped form the bench's command line uses: last value, every value, positionals. */
export interface ParsedArgs {
  options: Map<string, string>;
  all: Map<string, string[]>;
  positionals: string[];
}

export function parseArgs(argv: readonly string[], valued: readonly string[], flags: readonly string[]): ParsedArgs {
  const config: Record<string, { type: 'string' | 'boolean'; multiple: true }> = {};
  for (const n of valued) config[n] = { type: 'string', multiple: true };
  for (const n of flags) config[n] = { type: 'boolean', multiple: true };
  let parsed: { values: Record<string, (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = nodeParseArgs({ args: [...argv], options: config, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (err) {
    throw usageFromNode(err);
  }
  const options = new Map<string, string>();
  const all = new Map<string, string[]>();
  for (const [name, vals] of Object.entries(parsed.values)) {
    const strings = (vals ?? []).map(String);
    all.set(name, strings);
    options.set(name, strings[strings.length - 1] as string);
  }
  return { options, all, positionals: parsed.positionals };
}
