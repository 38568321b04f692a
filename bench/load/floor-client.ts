/**
 * The no-gateway floor: what a client gets by talking to the API server (here the sandbox) itself.
 * - `openFloorExec`: @kubernetes/client-node `Exec` with a TTY, the library the gateway uses.
 * - `openTlsWs`: one bare TLS WebSocket exec connection on `ws` (v5.channel.k8s.io) with a shared
 *   SecureContext, nothing else: the memory floor a gateway session is compared with.
 */
import { PassThrough, Writable } from 'node:stream';
import { type SecureContext, createSecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { type BenchSession, type EndInfo, type Target, deferred, noop } from './session.js';

const configs = new Map<string, KubeConfig>();
export function kubeConfig(path: string): KubeConfig {
  let kc = configs.get(path);
  if (!kc) {
    kc = new KubeConfig();
    kc.loadFromString(readFileSync(path, 'utf8'));
    configs.set(path, kc);
  }
  return kc;
}

function exitCodeOf(status: V1Status): number | null {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause?.message !== undefined ? Number(cause.message) : null;
}

export function openFloorExec(kubeconfig: string, target: Target): BenchSession {
  const started = deferred<void>();
  const ended = deferred<EndInfo>();
  let exit: EndInfo | undefined;
  let socket: WebSocket | undefined;
  const stdin = new PassThrough();
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      session.onData(chunk);
      cb();
    },
  });
  const session: BenchSession = {
    started: started.promise,
    ended: ended.promise,
    onData: noop,
    write: (bytes) => void stdin.write(bytes),
    pauseReading: () => socket?.pause(),
    resumeReading: () => socket?.resume(),
    close(abrupt = false) {
      if (!socket) return;
      if (abrupt) socket.terminate();
      else socket.close(1000);
    },
  };
  new Exec(kubeConfig(kubeconfig))
    .exec(target.namespace, target.pod, target.container ?? '', target.command ?? ['sh'], sink, sink, stdin, true, (status) => {
      exit = { exitCode: exitCodeOf(status) };
    })
    .then(
      (ws) => {
        socket = ws as unknown as WebSocket;
        ws.on('close', (code: number) => {
          // client-node never ends the stdin pipe it reads; the session does.
          stdin.destroy();
          ended.resolve({ ...(exit ?? { exitCode: null }), closeCode: code });
        });
        started.resolve();
      },
      (err: unknown) => {
        stdin.destroy();
        const msg = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err);
        started.reject(new Error(msg));
        ended.resolve({ exitCode: null, error: msg });
      },
    );
  return session;
}

/**
 * TLS options for the bare floor connections: CA, client credentials and headers from the
 * kubeconfig, with one SecureContext shared by every connection (as a lean client would; a `ca`
 * option per connection makes Node parse the CA and build a new context each time).
 */
export async function tlsOptions(kubeconfig: string): Promise<WebSocket.ClientOptions> {
  const opts: WebSocket.ClientOptions & { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer } = {};
  await kubeConfig(kubeconfig).applyToHTTPSOptions(opts);
  const { ca, cert, key, ...rest } = opts;
  const secureContext = createSecureContext({ ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) });
  // ws hands unknown options to tls.connect, which takes `secureContext`; its types do not list it.
  const withContext: WebSocket.ClientOptions & { secureContext: SecureContext } = { ...rest, secureContext };
  return withContext;
}

export function openTlsWs(kubeconfig: string, tls: WebSocket.ClientOptions, target: Target): BenchSession {
  const started = deferred<void>();
  const ended = deferred<EndInfo>();
  const server = kubeConfig(kubeconfig).getCurrentCluster()?.server ?? '';
  const q = new URLSearchParams({ stdin: 'true', stdout: 'true', tty: 'true' });
  if (target.container) q.set('container', target.container);
  for (const arg of target.command ?? ['sh']) q.append('command', arg);
  const url = `${server.replace(/^http/, 'ws')}/api/v1/namespaces/${target.namespace}/pods/${target.pod}/exec?${q.toString()}`;
  const ws = new WebSocket(url, ['v5.channel.k8s.io'], { ...tls, perMessageDeflate: false, handshakeTimeout: 60000 });
  let error: string | undefined;
  ws.on('open', () => started.resolve());
  ws.on('message', noop);
  ws.on('error', (err) => {
    error ??= err.message;
    started.reject(err);
  });
  ws.on('close', (code) => {
    started.reject(new Error(error ?? `closed (${code})`));
    ended.resolve({ exitCode: null, closeCode: code, ...(error ? { error } : {}) });
  });
  return {
    started: started.promise,
    ended: ended.promise,
    onData: noop,
    write: (bytes) => ws.readyState === WebSocket.OPEN && ws.send(Buffer.concat([Buffer.of(0), bytes])),
    pauseReading: () => ws.pause(),
    resumeReading: () => ws.resume(),
    close: (abrupt = false) => (abrupt || ws.readyState === WebSocket.CONNECTING ? ws.terminate() : ws.close(1000)),
  };
}
