/**
 * A podterm.v1 client on the `ws` package: what a browser tab does, minus the terminal. Frames are
 * encoded and decoded with src/protocol, so the bench speaks exactly the contract in PROTOCOL.md.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { ClientOp, InputPacer, SUBPROTOCOL, ServerOp, decodeServerFrame, encode, type StartedInfo } from '../../src/protocol/index.js';
import { type BenchSession, type EndInfo, type Target, deferred, noop } from './session.js';

export function execUrl(wsUrl: string, target: Target, cols = 80, rows = 24): string {
  const q = new URLSearchParams({ namespace: target.namespace, pod: target.pod, cols: String(cols), rows: String(rows) });
  if (target.container) q.set('container', target.container);
  for (const arg of target.command ?? []) q.append('command', arg);
  return `${wsUrl}/ws/exec?${q.toString()}`;
}

const stdinFrames = new Map<number, Uint8Array>();
/** Single-byte stdin frames are what typists send; encode each once. */
function stdinFrame(bytes: Uint8Array): Uint8Array {
  if (bytes.length !== 1) return encode([ClientOp.Stdin, bytes]);
  const b = bytes[0] as number;
  let f = stdinFrames.get(b);
  if (!f) stdinFrames.set(b, (f = encode([ClientOp.Stdin, Uint8Array.of(b)])));
  return f;
}

/** A podterm session with what resuming needs: its Started frame and a close with any code. */
export interface PodtermSession extends BenchSession {
  /** The Started frame (resumed, resumeToken, session id); rejects as `started` does. */
  readonly info: Promise<StartedInfo>;
  /** performance.now() when the socket was created, and when the first output frame after Started came. */
  readonly openedAt: number;
  readonly firstOutput: Promise<number>;
  /** Closes with a handshake and this code: 1000 ends the session, any other code detaches it. */
  closeWith(code: number): void;
}

/**
 * `join`: instead of opening a session, reattach to one as its owner with a resume token
 * (`/ws/exec?resume=TOKEN`, a string), or watch one read-only with a share token (`{observe}`,
 * `/ws/exec?observe=TOKEN`; docs/protocol.md, Additions).
 */
export function openPodterm(wsUrl: string, token: string, target: Target, join?: string | { observe: string }): PodtermSession {
  const started = deferred<void>();
  const info = deferred<StartedInfo>();
  const firstOutput = deferred<number>();
  const ended = deferred<EndInfo>();
  let exit: EndInfo | undefined;
  const openedAt = performance.now();
  const q: Record<string, string> | undefined = join === undefined ? undefined : typeof join === 'string' ? { resume: join, cols: '80', rows: '24' } : { observe: join.observe };
  const url = q === undefined ? execUrl(wsUrl, target) : `${wsUrl}/ws/exec?${new URLSearchParams(q).toString()}`;
  const ws = new WebSocket(url, SUBPROTOCOL, {
    headers: { Authorization: `Bearer ${token}` },
    perMessageDeflate: false,
    handshakeTimeout: 60000,
  });
  // Honours the server's input credit (op 7) as the page does; a keystroke fits the window at once.
  const input = new InputPacer((chunk) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(stdinFrame(chunk));
  });
  const session: PodtermSession = {
    info: info.promise,
    openedAt,
    firstOutput: firstOutput.promise,
    closeWith(code) {
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(code);
    },
    started: started.promise,
    ended: ended.promise,
    onData: noop,
    write(bytes) {
      input.write(bytes);
    },
    pauseReading: () => ws.pause(),
    resumeReading: () => ws.resume(),
    close(abrupt = false) {
      if (abrupt) ws.terminate();
      else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000);
    },
  };
  ws.on('message', (data: Buffer) => {
    const frame = decodeServerFrame(data);
    switch (frame[0]) {
      case ServerOp.Stdout:
      case ServerOp.Stderr:
        firstOutput.resolve(performance.now());
        session.onData(frame[1]);
        return;
      case ServerOp.Started:
        input.setWindow(frame[1].inputWindow);
        info.resolve(frame[1]);
        started.resolve();
        return;
      case ServerOp.InputCredit:
        input.credit(frame[1]);
        return;
      case ServerOp.Exited:
        exit = { exitCode: frame[1].exitCode };
        return;
      case ServerOp.Error:
        exit = { exitCode: null, error: `${frame[1].code}: ${frame[1].message}` };
        started.reject(new Error(exit.error));
        info.reject(new Error(exit.error));
        return;
    }
  });
  ws.on('unexpected-response', (_req, res) => {
    let body = '';
    res.on('data', (c: Buffer) => (body += c.toString()));
    res.on('end', () => {
      exit = { exitCode: null, error: `HTTP ${res.statusCode}: ${body.slice(0, 200)}` };
      started.reject(new Error(exit.error));
      info.reject(new Error(exit.error));
      ws.terminate();
    });
  });
  ws.on('error', (err) => {
    exit ??= { exitCode: null, error: err.message };
    started.reject(err);
    info.reject(err);
  });
  ws.on('close', (code) => {
    const end: EndInfo = { ...(exit ?? { exitCode: null }), closeCode: code };
    const gone = new Error(end.error ?? `closed (${code}) before the exec started`);
    started.reject(gone);
    info.reject(gone);
    firstOutput.reject(gone);
    ended.resolve(end);
  });
  return session;
}
