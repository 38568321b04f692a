/**
 * Listening without sharing the port. uWS listens with SO_REUSEPORT by default, so a second
 * gateway on a port in use would start and steal half the connections (issue 8, item 15);
 * LIBUS_LISTEN_EXCLUSIVE_PORT turns that off. uWS only says "false" on failure, so the reason
 * (EADDRINUSE, EACCES, EADDRNOTAVAIL) is learnt by trying the same bind once with node:net.
 */
import { createServer } from 'node:net';
import uws from 'uWebSockets.js';

export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(
    readonly code: string,
    readonly host: string,
    readonly port: number,
  ) {
    super(code === 'EADDRINUSE' ? `${host}:${port}: address in use` : `cannot listen on ${host}:${port} (${code})`);
  }
}

/** The native binding takes (host, port, options, cb); the package's typings lack that overload. */
type ListenWithOptions = (host: string, port: number, options: number, cb: (s: uws.us_listen_socket | false) => void) => unknown;

function whyNot(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'unknown'));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve('unknown')));
  });
}

export async function listenExclusive(app: uws.TemplatedApp, host: string, port: number): Promise<uws.us_listen_socket> {
  const exclusive = (uws as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: number }).LIBUS_LISTEN_EXCLUSIVE_PORT;
  const socket = await new Promise<uws.us_listen_socket | false>((resolve) => {
    (app.listen as unknown as ListenWithOptions).call(app, host, port, exclusive, resolve);
  });
  if (socket) return socket;
  throw new ListenError(await whyNot(host, port), host, port);
}
