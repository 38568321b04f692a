/** Argument validation for `/ws/exec` and the API paths: all of it before any Kubernetes call. */
import { PodtermError } from '../protocol/errors.js';
import { MAX_DIMENSION, MIN_DIMENSION, type ExecParams } from '../protocol/index.js';

export type { ExecParams };

// DNS-1123 label (namespaces, containers) and subdomain (pod names), as Kubernetes validates them.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_COMMAND_ARGS = 64;
const MAX_COMMAND_BYTES = 8192;

export function validLabel(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}
export function validSubdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

function dimension(raw: string | null, name: string, fallback: number): number {
  if (raw === null || raw === '') return fallback;
  if (!/^\d{1,4}$/.test(raw)) throw new PodtermError('BadRequest', `${name} must be an integer ${MIN_DIMENSION}..${MAX_DIMENSION}.`);
  const n = Number(raw);
  if (n < MIN_DIMENSION || n > MAX_DIMENSION) throw new PodtermError('BadRequest', `${name} must be an integer ${MIN_DIMENSION}..${MAX_DIMENSION}.`);
  return n;
}

/** `attach`: Kubernetes booleans (absent, `0`, `false` are false); attach runs no command. */
function attachParam(raw: string | null, commands: number): boolean {
  if (raw === null || raw === '0' || raw.toLowerCase() === 'false') return false;
  if (commands > 0) throw new PodtermError('BadRequest', 'attach joins the main process: it takes no command.');
  return true;
}

/** Parses the `/ws/exec` query string; throws PodtermError('BadRequest') with a user-safe message. */
export function parseExecQuery(query: string): ExecParams {
  const q = new URLSearchParams(query);
  const namespace = q.get('namespace') ?? '';
  const pod = q.get('pod') ?? '';
  const container = q.get('container');
  if (!validLabel(namespace)) throw new PodtermError('BadRequest', 'namespace must be a DNS-1123 label.');
  if (!validSubdomain(pod)) throw new PodtermError('BadRequest', 'pod must be a DNS-1123 subdomain.');
  if (container !== null && container !== '' && !validLabel(container)) throw new PodtermError('BadRequest', 'container must be a DNS-1123 label.');
  const command = q.getAll('command');
  if (command.length > MAX_COMMAND_ARGS) throw new PodtermError('BadRequest', `command takes at most ${MAX_COMMAND_ARGS} arguments.`);
  if (command.some((c) => c.includes('\0'))) throw new PodtermError('BadRequest', 'command must not contain NUL.');
  if (command.reduce((n, c) => n + Buffer.byteLength(c), 0) > MAX_COMMAND_BYTES) throw new PodtermError('BadRequest', 'command is too long.');
  if (command.length > 0 && command[0] === '') throw new PodtermError('BadRequest', 'command must not start with an empty argument.');
  return {
    namespace,
    pod,
    container: container === null || container === '' ? null : container,
    command: command.length > 0 ? command : null,
    cols: dimension(q.get('cols'), 'cols', 80),
    rows: dimension(q.get('rows'), 'rows', 24),
    ...(attachParam(q.get('attach'), command.length) ? { attach: true } : {}),
  };
}
