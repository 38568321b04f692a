/**
 * An API server that accepts connections and never answers, for timeout tests: `http` reads the
 * request and sends nothing; `tcp` never even completes the TLS handshake. Torn down where created.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';

export interface HungServer {
  /** kubeconfig with one context, `admin`, pointing at the server. */
  yaml: string;
  /** Requests seen (http mode) / connections accepted (tcp mode). */
  readonly seen: number;
  /** Connections still open: the client dropped the others. */
  readonly open: number;
}

export async function startHungServer(t: TestContext, mode: 'http' | 'tcp'): Promise<HungServer> {
  const sockets = new Set<Socket>();
  let seen = 0;
  const server: Server =
    mode === 'http'
      ? createHttpServer(() => {
          seen++; // and never answer
        })
      : createTcpServer((s) => {
          seen++;
          s.resume(); // read and drop the ClientHello, so the client's close is seen
        });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
  });
  // An upgrade request (the exec WebSocket) is held the same way.
  server.on('upgrade', (_req, s: Socket) => {
    seen++;
    // Nobody reads an upgraded socket, and http servers allow half-open ones: read it, and end
    // ours when the client ends, so the client's close is seen.
    s.resume();
    s.once('end', () => s.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${mode === 'http' ? 'http' : 'https'}://127.0.0.1:${port}`;
  const yaml = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: hung',
    '  cluster:',
    `    server: ${url}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: admin',
    '  user:',
    '    token: hung-token',
    'contexts:',
    '- name: admin',
    '  context:',
    '    cluster: hung',
    '    user: admin',
    'current-context: admin',
    '',
  ].join('\n');
  return {
    yaml,
    get seen() {
      return seen;
    },
    get open() {
      return sockets.size;
    },
  };
}
