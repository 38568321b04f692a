/**
 * A podterm.v1 client over the `ws` package, standing in for the browser in tests: it speaks the
 * frames from src/protocol, records every message size, and exposes the session's milestones.
 */
import WebSocket from 'ws';
import { ClientOp, decodeServerFrame, encode, InputPacer, ServerOp, SUBPROTOCOL, type ErrorInfo, type ExitInfo, type ServerFrame, type StartedInfo } from '../../src/protocol/index.js';

export interface ConnectOptions {
  token?: string;
  cookie?: string;
  origin?: string;
  protocol?: string;
  /** Do not read from the socket until resume() (a client that stops reading). */
  paused?: boolean;
  /** More request headers on the upgrade. */
  headers?: Record<string, string>;
  /** For `https:` URLs: the CA (PEM) that the gateway's certificate must verify against. */
  ca?: string;
}

export class UpgradeRefused extends Error {
  constructor(readonly status: number, readonly body: string) {
    super(`upgrade refused: ${status} ${body}`);
  }
}

export class TermClient {
  readonly ws: WebSocket;
  readonly frames: ServerFrame[] = [];
  readonly #out: Buffer[] = [];
  outBytes = 0;
  maxMessageBytes = 0;
  messages = 0;
  readonly started: Promise<StartedInfo>;
  readonly exited: Promise<ExitInfo>;
  readonly failed: Promise<ErrorInfo>;
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: Array<() => void> = [];
  /** Stdin paced by input credit, as the page does. `rawStdin` bypasses it (a client that ignores it). */
  readonly input: InputPacer;
  credits = 0;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.input = new InputPacer((chunk) => this.rawStdin(chunk));
    let onStarted!: (i: StartedInfo) => void;
    let onExited!: (i: ExitInfo) => void;
    let onFailed!: (i: ErrorInfo) => void;
    this.started = new Promise((r) => (onStarted = r));
    this.exited = new Promise((r) => (onExited = r));
    this.failed = new Promise((r) => (onFailed = r));
    this.closed = new Promise((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('message', (data: Buffer) => {
      this.messages++;
      this.maxMessageBytes = Math.max(this.maxMessageBytes, data.length);
      const frame = decodeServerFrame(new Uint8Array(data));
      this.frames.push(frame);
      if (frame[0] === ServerOp.Stdout || frame[0] === ServerOp.Stderr) {
        const b = Buffer.from(frame[1]);
        this.#out.push(b);
        this.outBytes += b.length;
      } else if (frame[0] === ServerOp.Started) {
        this.input.setWindow(frame[1].inputWindow);
        onStarted(frame[1]);
      } else if (frame[0] === ServerOp.InputCredit) {
        this.credits++;
        this.input.credit(frame[1]);
      }
      else if (frame[0] === ServerOp.Exited) onExited(frame[1]);
      else if (frame[0] === ServerOp.Error) onFailed(frame[1]);
      for (const w of this.#waiters.splice(0)) w();
    });
    ws.on('close', () => {
      for (const w of this.#waiters.splice(0)) w();
    });
    ws.on('error', () => undefined);
  }

  /** Opens `/ws/exec`; rejects with UpgradeRefused (status + body) when the server says no. */
  static connect(baseUrl: string, params: Record<string, string | number | string[]>, o: ConnectOptions = {}): Promise<TermClient> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.cookie) headers.cookie = o.cookie;
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws/exec?${q}`, o.protocol ?? SUBPROTOCOL, { headers, ...(o.origin ? { origin: o.origin } : {}), ...(o.ca ? { ca: o.ca } : {}), perMessageDeflate: false });
    const client = new TermClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          reject(new UpgradeRefused(res.statusCode ?? 0, body));
          ws.terminate();
        });
      });
      ws.once('open', () => {
        if (o.paused) (ws as unknown as { _socket: { pause(): void } })._socket.pause();
        resolve(client);
      });
      ws.once('error', reject);
    });
  }

  get text(): string {
    return Buffer.concat(this.#out).toString('utf8');
  }

  get output(): Buffer {
    return Buffer.concat(this.#out);
  }

  stdin(data: string | Uint8Array): void {
    this.input.write(typeof data === 'string' ? Buffer.from(data) : data);
  }
  rawStdin(data: string | Uint8Array): void {
    this.ws.send(encode([ClientOp.Stdin, typeof data === 'string' ? Buffer.from(data) : data]));
  }
  resize(cols: number, rows: number): void {
    this.ws.send(encode([ClientOp.Resize, cols, rows]));
  }
  pause(): void {
    this.ws.send(encode([ClientOp.Pause]));
  }
  resume(): void {
    this.ws.send(encode([ClientOp.Resume]));
  }
  /** Stop / start reading the TCP socket (a browser tab that is behind). */
  stopReading(): void {
    (this.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }
  startReading(): void {
    (this.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  }

  /** Waits until the output so far matches, or the socket closes, or the timeout passes. */
  async waitFor(test: RegExp | ((c: TermClient) => boolean), timeoutMs = 10_000): Promise<void> {
    const ok = (): boolean => (test instanceof RegExp ? test.test(this.text) : test(this));
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed before the output matched; output: ${JSON.stringify(this.text.slice(-400))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for output; got: ${JSON.stringify(this.text.slice(-400))}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, Math.min(left, 250));
        this.#waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }

  terminate(): void {
    this.ws.terminate();
  }
}
