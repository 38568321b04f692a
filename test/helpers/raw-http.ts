/**
 * A raw HTTP/1.1 client on one keep-alive TCP connection: sends exactly the bytes it is given (so
 * tests can send what fetch refuses to: duplicate Content-Length, bad versions, percent garbage,
 * raw high bytes) and parses the answers one by one.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  kind: 'answer';
  status: number;
  /** Lower-cased header names; repeated headers keep every value. */
  headers: Map<string, string[]>;
  body: Buffer;
  /** The server closed the connection after this answer. */
  closedAfter: boolean;
}

/** The connection closed (or timed out) before a whole answer arrived; `partial` is what came. */
export interface NoResponse {
  status: 0;
  kind: 'none';
  reason: 'closed' | 'timeout';
  partial: string;
}

export class RawConnection {
  readonly #socket: Socket;
  #buf = Buffer.alloc(0);
  #closed = false;
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => {
        s.off('error', reject);
        resolve(new RawConnection(s));
      });
      s.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends `bytes` (one request, possibly malformed) and waits for one answer. HEAD answers have no body. */
  async request(bytes: string | Buffer, o: { head?: boolean; timeoutMs?: number } = {}): Promise<RawResponse | NoResponse> {
    this.#socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    const deadline = Date.now() + (o.timeoutMs ?? 5000);
    for (;;) {
      const r = this.#parse(o.head ?? false);
      if (r) return r;
      if (this.#closed) return { status: 0, kind: 'none', reason: 'closed', partial: this.#take().toString('latin1') };
      const left = deadline - Date.now();
      if (left <= 0) return { status: 0, kind: 'none', reason: 'timeout', partial: this.#take().toString('latin1') };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  #take(): Buffer {
    const b = this.#buf;
    this.#buf = Buffer.alloc(0);
    return b;
  }

  #parse(head: boolean): RawResponse | undefined {
    const end = this.#buf.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const lines = this.#buf.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '');
    if (!m) throw new Error(`not an HTTP status line: ${JSON.stringify(lines[0])}`);
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      const k = line.slice(0, i).trim().toLowerCase();
      headers.set(k, [...(headers.get(k) ?? []), line.slice(i + 1).trim()]);
    }
    const length = head ? 0 : Number(headers.get('content-length')?.[0] ?? 0);
    if (this.#buf.length < end + 4 + length) return undefined;
    const body = this.#buf.subarray(end + 4, end + 4 + length);
    this.#buf = this.#buf.subarray(end + 4 + length);
    const closedAfter = (headers.get('connection')?.[0] ?? '').toLowerCase() === 'close';
    return { kind: 'answer', status: Number(m[1]), headers, body: Buffer.from(body), closedAfter };
  }

  /** Waits until the server closes the connection (true) or the timeout passes (false). */
  async waitClosed(timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.#closed;
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** One request on a fresh connection, closed afterwards. */
export async function rawRequest(port: number, bytes: string | Buffer, o: { head?: boolean; timeoutMs?: number } = {}): Promise<RawResponse | NoResponse> {
  const c = await RawConnection.open(port);
  try {
    return await c.request(bytes, o);
  } finally {
    c.close();
  }
}
