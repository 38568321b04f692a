/**
 * Value parsers for the options tables: each returns the typed value or throws a one-line
 * UsageError that names where the value came from (`--workers`, `PODTERM_TOKEN`). Secrets are
 * never echoed back in an error.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './cli-errors.js';
import type { Parser } from './args.js';

/** setTimeout fires at once for delays above 2^31-1 ms, so no timeout option may exceed it. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function int(min: number, max: number): Parser<number> {
  return (raw, from) => {
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) throw new UsageError(`${from} wants an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return n;
  };
}

/** One of a fixed set of words (a log level, a mode). */
export function oneOf<T extends string>(choices: readonly T[]): Parser<T> {
  return (raw, from) => {
    if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`${from} wants one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
    return raw as T;
  };
}

/** HOST:PORT (IPv6 as [::1]:PORT). Port 0 picks a free port. */
export const listen: Parser<{ host: string; port: number }> = (raw, from) => {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(raw);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${from} wants HOST:PORT, got ${JSON.stringify(raw)}`);
  return { host: (m[1] ?? m[2]) as string, port };
};

/** For callers outside the tables (kept from the old parser's API). */
export function parseListen(raw: string): { host: string; port: number } {
  return listen(raw, '--listen');
}

function kindOf(path: string): 'file' | 'dir' | 'other' | 'missing' {
  try {
    const s = statSync(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
}

export const existingFile: Parser<string> = (raw, from) => {
  const kind = kindOf(raw);
  if (kind === 'missing') throw new UsageError(`${from}: ${raw} not found`);
  if (kind === 'dir') throw new UsageError(`${from}: ${raw} is a directory, not a file`);
  return resolve(raw);
};

export const existingDir: Parser<string> = (raw, from) => {
  const kind = kindOf(raw);
  if (kind === 'missing') throw new UsageError(`${from}: ${raw} not found`);
  if (kind !== 'dir') throw new UsageError(`${from}: ${raw} is not a directory`);
  return resolve(raw);
};

/** A file to be written: its folder must exist, and it must not be a folder itself. */
export const outputFile: Parser<string> = (raw, from) => {
  const file = resolve(raw);
  if (kindOf(dirname(file)) !== 'dir') throw new UsageError(`${from}: folder ${dirname(file)} not found`);
  if (kindOf(file) === 'dir') throw new UsageError(`${from}: ${raw} is a directory`);
  return file;
};

/** Tokens travel in cookies and `Authorization: Bearer`: printable ASCII without spaces. */
export const token: Parser<string> = (raw, from) => {
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new UsageError(`${from} wants printable ASCII without spaces (the value is not shown)`);
  return raw;
};

export interface UserBinding {
  token: string;
  context: string;
  namespaces: string[];
}

/** TOKEN=CONTEXT[:NS,NS]. The error never shows the value: it starts with a secret. */
export const user: Parser<UserBinding> = (raw, from) => {
  const m = /^([\x21-\x3c\x3e-\x7e]+)=([^:=\s]+)(?::(\S*))?$/.exec(raw);
  if (!m) throw new UsageError(`${from} wants TOKEN=CONTEXT[:NS,NS] (the value is not shown)`);
  return { token: m[1] as string, context: m[2] as string, namespaces: m[3] ? m[3].split(',').filter((s) => s !== '') : [] };
};

export interface PersonBinding {
  token: string;
  username: string;
  groups: string[];
}

/**
 * TOKEN=USERNAME[:GROUP,GROUP] (`--person`): the first `:` after the name ends it, so a username
 * cannot contain `:` (groups can: `system:masters`). The error never shows the value.
 */
export const person: Parser<PersonBinding> = (raw, from) => {
  const m = /^([\x21-\x3c\x3e-\x7e]+)=([^:=\s\x00-\x1f\x7f]+)(?::(\S*))?$/.exec(raw);
  if (!m) throw new UsageError(`${from} wants TOKEN=USERNAME[:GROUP,GROUP] (the value is not shown)`);
  return { token: m[1] as string, username: m[2] as string, groups: m[3] ? [...new Set(m[3].split(',').filter((s) => s !== ''))] : [] };
};

/** An http(s) URL (the issuer and redirect URL; url-policy.ts checks https at start-up). */
export const url: Parser<string> = (raw, from) => {
  let ok = false;
  try {
    const u = new URL(raw);
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    ok = false;
  }
  if (!ok) throw new UsageError(`${from} wants an http(s) URL, got ${JSON.stringify(raw)}`);
  return raw;
};

/** A non-empty word without spaces or control characters (claim names, prefixes, client ids). */
export const word: Parser<string> = (raw, from) => {
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new UsageError(`${from} wants a value without spaces, got ${JSON.stringify(raw)}`);
  return raw;
};

/** A browser Origin as the header carries it: scheme://host[:port], nothing after. */
export const origin: Parser<string> = (raw, from) => {
  let ok = false;
  try {
    const u = new URL(raw);
    ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === raw;
  } catch {
    ok = false;
  }
  if (!ok) throw new UsageError(`${from} wants an origin like https://host[:port], got ${JSON.stringify(raw)}`);
  return raw;
};

/** `host:port,host:port` (IPv6 as [::1]:PORT): the peers of `--peers`. Port 0 cannot be a peer. */
export const hostPorts: Parser<Array<{ host: string; port: number }>> = (raw, from) => {
  const items = raw.split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (items.length === 0) throw new UsageError(`${from} wants HOST:PORT[,HOST:PORT...], got ${JSON.stringify(raw)}`);
  return items.map((item) => {
    const hp = listen(item, from);
    if (hp.port === 0) throw new UsageError(`${from}: a peer needs a port other than 0, got ${JSON.stringify(item)}`);
    return hp;
  });
};

/** `NAME[:PORT]`: a DNS name whose A/AAAA records are the peers (a headless Service). */
export const dnsName: Parser<{ name: string; port: number | undefined }> = (raw, from) => {
  const m = /^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/.exec(raw);
  const port = m?.[3] === undefined ? undefined : Number(m[3]);
  if (!m || (port !== undefined && (port < 1 || port > 65535))) throw new UsageError(`${from} wants a DNS name with an optional :PORT, got ${JSON.stringify(raw)}`);
  return { name: m[1] as string, port };
};
