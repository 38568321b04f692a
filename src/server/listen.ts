/**
 * Listening without sharing the port. uWS listens with SO_REUSEPORT by default, so a second
 * gateway on a port in use would start and steal half the connections (issue 8, item 15);
 * LIBUS_LISTEN_EXCLUSIVE_PORT turns that off. uWS only says "false" on failure, so the reason
 * (EADDRINUSE, EACCES, EADDRNOTAVAIL) is learnt by trying the same bind once with node:net.
 */
import { createServer, type AddressInfo } from 'node:net';
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

/**
 * One exclusive listen, now: uWS calls back before listen() returns, so a caller can close one
 * listening socket and open the next in the same turn of the event loop (listener.ts).
 */
export function listenNow(app: uws.TemplatedApp, host: string, port: number): uws.us_listen_socket | false {
  const exclusive = (uws as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: number }).LIBUS_LISTEN_EXCLUSIVE_PORT;
  let socket: uws.us_listen_socket | false = false;
  (app.listen as unknown as ListenWithOptions).call(app, host, port, exclusive, (s) => (socket = s));
  return socket;
}

export async function listenExclusive(app: uws.TemplatedApp, host: string, port: number): Promise<uws.us_listen_socket> {
  const socket = listenNow(app, host, port);
  if (socket) return socket;
  throw new ListenError(await whyNot(host, port), host, port);
}

/**
 * A port free right now on `host` (the kernel's pick for port 0). uSockets sets SO_REUSEADDR on a
 * listening socket only when it is given a port other than 0 (bsd_create_listen_socket); without
 * it, the same port cannot be bound again while connections accepted from it are open, which a
 * certificate reload needs (listener.ts). So a TLS gateway asked for port 0 picks the port first.
 */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
