/**
 * One browser socket forwarded to the replica that holds its session (DESIGN.md, Scale: no broker
 * in the byte path). The upstream is a WebSocket client (the `ws` package, a dependency already:
 * Node 20 has no WebSocket client without a flag) to the holder's own `/ws/exec`, signed with the
 * cluster secret and the caller's identity (hop-auth.ts); the holder re-checks the owner binding.
 *
 * Frames pass one-to-one in both directions, never re-framed: the holder already keeps each below
 * MAX_SEND_BYTES (protocol/limits.ts, the uWS 20.30 bug), and a message that is not (a bug) ends
 * the socket rather than reaching the browser. Backpressure both ways:
 *  - down (holder -> browser): above the high-water mark of the browser socket the upstream stops
 *    being read (`ws.pause()`), so TCP backpressure reaches the holder, whose own watermarks pause
 *    the session's actor; uWS `drain` below the low-water mark resumes it.
 *  - up (browser -> holder): uWS cannot stop reading a socket; the protocol's input window bounds
 *    what a client may have in flight (docs/protocol.md, input credit), and a client that runs far
 *    past it (MAX_UP_BUFFERED queued on the hop) is closed instead of buffered.
 * Close codes pass through both ways; a browser close without a code (1005/1006: a dropped link)
 * goes on as 1001, which detaches the session on the holder as a drop would.
 *
 * One state table and one idempotent close (STYLE.md 1-4).
 */
import WebSocket from 'ws';
import { ERRORS, type ErrorCode } from '../protocol/errors.js';
import { errorFrame, SUBPROTOCOL } from '../protocol/index.js';
import { MAX_SEND_BYTES } from '../protocol/limits.js';
import { DEFAULT_INPUT_WINDOW } from '../protocol/limits.js';

/** The browser side, as ws-exec.ts wraps its uWS socket. */
export interface DownLink {
  /** false: uWS dropped the message (over its hard cap). */
  send(data: Uint8Array): boolean;
  bufferedAmount(): number;
  end(code: number, reason: string): void;
}

export interface ForwardOptions {
  /** `ws://holder/ws/exec?resume=...` (the browser's query as it came). */
  url: string;
  headers: Record<string, string>;
  /** Connect + handshake bound: past it the holder counts as gone (SessionGone). */
  connectTimeoutMs: number;
  highWaterBytes: number;
  lowWaterBytes: number;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** Called once when the forward has ended (both sides closed or being closed). */
  onDone: (f: ForwardedSocket) => void;
  /** The holder could not be reached at all (its address may have changed). */
  onUnreachable: () => void;
}

/** Browser messages buffered while the hop connects (a resize, maybe a first keystroke). */
const MAX_QUEUED_BYTES = 256 * 1024;
/** The input window plus slack: a client past this is ignoring input credit. */
const MAX_UP_BUFFERED = 2 * DEFAULT_INPUT_WINDOW + MAX_QUEUED_BYTES;

/**
 * | state      | next              | meaning                                            |
 * |------------|-------------------|----------------------------------------------------|
 * | connecting | open, closed      | the hop's handshake runs; browser input is queued   |
 * | open       | closed            | frames pass both ways                              |
 * | closed     |                   | both sides were told; nothing is touched again     |
 */
type ForwardState = 'connecting' | 'open' | 'closed';
const NEXT: Record<ForwardState, readonly ForwardState[]> = { connecting: ['open', 'closed'], open: ['closed'], closed: [] };

export class ForwardedSocket {
  #state: ForwardState = 'connecting';
  readonly #down: DownLink;
  readonly #up: WebSocket;
  readonly #o: ForwardOptions;
  #queue: Buffer[] = [];
  #queued = 0;
  #paused = false;

  constructor(down: DownLink, o: ForwardOptions) {
    this.#down = down;
    this.#o = o;
    const up = new WebSocket(o.url, SUBPROTOCOL, {
      headers: o.headers,
      handshakeTimeout: o.connectTimeoutMs,
      perMessageDeflate: false,
      followRedirects: false,
      skipUTF8Validation: true,
      maxPayload: MAX_SEND_BYTES,
    });
    this.#up = up;
    up.binaryType = 'nodebuffer';
    up.on('open', () => this.#opened());
    up.on('message', (data: Buffer) => this.#fromHolder(data));
    up.on('close', (code: number, reason: Buffer) => this.#holderClosed(code, reason.toString()));
    up.on('unexpected-response', (_req, res) => {
      // The holder refused the upgrade itself (a hop it does not trust, a bad query): ours to log.
      const status = res.statusCode ?? 0;
      res.resume();
      this.#o.log(status === 401 ? 'error' : 'warn', 'the holding replica refused the forwarded socket', { status, holder: hostOf(o.url) });
      this.#fail(status === 503 ? 'ServerShuttingDown' : status === 410 ? 'SessionGone' : 'Internal');
    });
    up.on('error', (err: Error) => {
      if (this.#state === 'closed') return; // our own terminate() of a handshake we gave up on
      // Before open: the holder cannot be reached (refused, no such host, timeout): it is gone.
      if (this.#state === 'connecting') {
        this.#o.log('info', 'the holding replica cannot be reached', { holder: hostOf(o.url), err: err.message });
        this.#o.onUnreachable();
        this.#fail('SessionGone', 'The session ended: the server that held it is gone.');
      } else {
        this.#o.log('warn', 'the hop to the holding replica failed', { holder: hostOf(o.url), err: err.message });
        this.#fail('UpstreamUnavailable', 'The server holding this session cannot be reached; reconnect to try again.');
      }
    });
  }

  get state(): ForwardState {
    return this.#state;
  }

  // ---- from the browser (uWS events) ----

  /** One browser message; uWS's buffer is valid only now, so it is copied. */
  fromClient(message: ArrayBuffer): void {
    if (this.#state === 'closed') return;
    const copy = Buffer.from(new Uint8Array(message));
    if (this.#state === 'connecting') {
      this.#queued += copy.length;
      if (this.#queued > MAX_QUEUED_BYTES) return this.#fail('BadFrame', 'Too much input before the session was ready.');
      this.#queue.push(copy);
      return;
    }
    if (this.#up.bufferedAmount > MAX_UP_BUFFERED) return this.#fail('BadFrame', 'Input ran past the input window.');
    this.#up.send(copy, { binary: true });
  }

  /** uWS `drain`: read the holder again once the browser has taken most of what we sent. */
  drained(): void {
    if (this.#paused && this.#state === 'open' && this.#down.bufferedAmount() <= this.#o.lowWaterBytes) {
      this.#paused = false;
      this.#up.resume();
    }
  }

  /** The browser socket closed (its handler ran: never touch it again). */
  clientClosed(code: number): void {
    if (this.#state === 'closed') return;
    this.#to('closed');
    this.#closeUp(passableCode(code) ? code : 1001);
    this.#o.onDone(this);
  }

  /**
   * Drain of this (forwarding) replica. The session lives on its holder, so no error frame: a bare
   * 1001 is a drop to the page, which resumes by itself through another replica (the holder sees
   * 1001 and detaches, as for a reload).
   */
  shutdown(): void {
    if (this.#state === 'closed') return;
    this.#to('closed');
    this.#closeUp(1001);
    this.#down.end(1001, 'ServerShuttingDown');
    this.#o.onDone(this);
  }

  // ---- from the holder ----

  #opened(): void {
    if (this.#state !== 'connecting') return;
    this.#to('open');
    for (const b of this.#queue) this.#up.send(b, { binary: true });
    this.#queue = [];
    this.#queued = 0;
  }

  #fromHolder(data: Buffer): void {
    if (this.#state !== 'open') return;
    if (data.length >= MAX_SEND_BYTES) {
      this.#o.log('error', 'the holding replica sent a frame too large to pass on', { bytes: data.length });
      return this.#fail('Internal');
    }
    if (!this.#down.send(data)) {
      this.#o.log('error', 'the browser socket dropped a forwarded message; closing it');
      return this.#fail('Internal', undefined, ERRORS.Internal.close);
    }
    if (!this.#paused && this.#down.bufferedAmount() > this.#o.highWaterBytes) {
      this.#paused = true;
      this.#up.pause();
    }
  }

  #holderClosed(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'connecting') return this.#fail('SessionGone', 'The session ended: the server that held it is gone.');
    this.#to('closed');
    if (code === 1005 || code === 1006) {
      // The holder vanished without a close frame (killed, or the link dropped).
      this.#down.send(new Uint8Array(errorFrame('UpstreamUnavailable', 'The server holding this session went away; reconnect to see whether it lives on.')));
      this.#down.end(ERRORS.UpstreamUnavailable.close, 'UpstreamUnavailable');
    } else {
      // The holder's own end (exit 1000, SessionGone 4411, drain 1001, ...): its frames came first.
      this.#down.end(code, reason);
    }
    this.#o.onDone(this);
  }

  /** Ends both sides with one of our error codes (frame + close code to the browser). */
  #fail(code: ErrorCode, message: string = ERRORS[code].text, upCode = 1001): void {
    if (this.#state === 'closed') return;
    this.#to('closed');
    this.#closeUp(upCode);
    this.#down.send(new Uint8Array(errorFrame(code, message)));
    this.#down.end(ERRORS[code].close, code);
    this.#o.onDone(this);
  }

  #closeUp(code: number): void {
    this.#queue = [];
    const up = this.#up;
    // Read again, so the holder's close reply is seen and the TCP socket ends now, not at ws's 30 s timer.
    if (this.#paused) up.resume();
    if (up.readyState === WebSocket.OPEN) up.close(code);
    else if (up.readyState === WebSocket.CONNECTING) up.terminate();
  }

  #to(next: ForwardState): void {
    if (!NEXT[this.#state].includes(next)) throw new Error(`forward: ${this.#state} -> ${next} is not a transition`);
    this.#state = next;
  }
}

/** RFC 6455 §7.4: codes a close frame may carry (1005/1006/1015 are reserved for reporting). */
function passableCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
}
