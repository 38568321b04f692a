/**
 * One exec stream: a WebSocket speaking one of the channel protocols, and the target it drives.
 * The session owns both. Its one close(reason) is the only teardown path, whatever starts it
 * (process exit, client close, TCP drop, protocol error, server shutdown): it ends the target
 * (SIGHUP, then SIGKILL, then reaping) and the socket, and only then drops sandbox_exec_active.
 */
import type { RawData, WebSocket } from 'ws';
import { decodeMessage, encodeMessage, hasJsonStatus, STREAM, type ExecProtocol } from './channel-codec.js';
import type { ExecRequest } from './exec-request.js';
import type { SandboxMetrics } from './metrics.js';
import { ResizeDecoder } from './resize-decoder.js';
import { execStatusJson, execStatusText, type ExecOutcome } from './status.js';
import { TargetStartError, type ExecTarget, type TargetSink } from './target.js';

/** Stop reading the target above this many bytes queued on the socket; resume below LOW_WATER. */
const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;
const INPUT_PAUSED_PING_MS = 1000;
/** How often a finished session checks that its queued output has reached the kernel. */
const FLUSH_POLL_MS = 20;
/** A client that takes nothing for this long loses the rest (a real kubelet waits up to 4 h). */
const FLUSH_LIMIT_MS = 5 * 60_000;

export type SessionState = 'open' | 'finishing' | 'closing' | 'closed';

export interface SessionDeps {
  readonly metrics: SandboxMetrics;
  /** Starts the container's target; throws TargetStartError when the command cannot start. */
  startTarget(req: ExecRequest, sink: TargetSink, size?: { cols: number; rows: number }): ExecTarget;
  /** How long to wait for the client's close frame after ours before dropping the TCP connection. */
  readonly closeWaitMs: number;
  readonly log: (line: string) => void;
  /**
   * TTY execs wait this long for the client's first size before starting the process, as the
   * kubelet has done since kubernetes#47991, so `stty size` sees the client's terminal and not
   * 80x24. 0: start at once (attach: the process is already running).
   */
  readonly firstSizeWaitMs?: number;
}

export class ExecSession {
  #state: SessionState = 'open';
  #target: ExecTarget | undefined;
  #paused = false;
  /** Set while reading the client is paused for input backpressure. */
  #inputProbe: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  /** Ends the wait for queued output in #teardown early (shutdown). */
  #stopFlushWait: (() => void) | undefined;
  /** Until the target starts: stdin that arrived early (in order), and a v5 stdin close. */
  #early: { data: Buffer[]; eof: boolean } | undefined;
  #firstSizeTimer: NodeJS.Timeout | undefined;
  readonly #resize = new ResizeDecoder();
  readonly #wsClosed: Promise<void>;
  #resolveClosed!: () => void;
  /** Settles when teardown is complete: process reaped, socket closed, gauge decremented. */
  readonly closed = new Promise<void>((resolve) => (this.#resolveClosed = resolve));

  constructor(
    readonly ws: WebSocket,
    readonly protocol: ExecProtocol,
    readonly req: ExecRequest,
    readonly deps: SessionDeps,
  ) {
    deps.metrics.execActive++;
    deps.metrics.execTotal++;
    this.#wsClosed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.once('close', () => void this.close('client closed the connection'));
    ws.on('error', (err) => {
      deps.log(`exec ${this.#name()}: socket error: ${err.message}`);
      void this.close('socket error');
    });

    // The kubelet's handshake: one empty message on the lowest channel the client will read.
    const first = req.stdout ? STREAM.stdout : req.stderr ? STREAM.stderr : STREAM.error;
    this.#send(first, Buffer.alloc(0));

    if (req.container.state !== 'running') {
      this.#finish({ kind: 'internal', message: `unable to upgrade connection: container not found ("${req.container.name}")` });
      return;
    }
    const wait = req.tty ? (deps.firstSizeWaitMs ?? 0) : 0;
    if (wait > 0) {
      this.#early = { data: [], eof: false };
      this.#firstSizeTimer = setTimeout(() => this.#start(undefined), wait);
    } else {
      this.#start(undefined);
    }
  }

  #start(size: { cols: number; rows: number } | undefined): void {
    clearTimeout(this.#firstSizeTimer);
    this.#firstSizeTimer = undefined;
    if (this.#state !== 'open' || this.#target !== undefined) return;
    const early = this.#early;
    this.#early = undefined;
    const sink: TargetSink = {
      stdout: (d) => {
        if (this.req.stdout) this.#sendOutput(STREAM.stdout, d);
      },
      stderr: (d) => {
        if (this.req.stderr) this.#sendOutput(STREAM.stderr, d);
      },
      stdinDrained: () => this.#setInputPaused(false),
      finished: (outcome) => this.#finish(outcome),
    };
    try {
      this.#target = this.deps.startTarget(this.req, sink, size);
    } catch (err) {
      // A start failure is the command's failure, reported on channel 3, never the server's crash.
      let message = err instanceof TargetStartError ? err.message : `error executing command in container: ${(err as Error).message}`;
      // On v5 the API server relays the kubelet's InternalError and wraps it once more
      // (StreamTranslator: NewInternalError(err)): "Internal error occurred: Internal error occurred: ...".
      if (this.protocol === 'v5.channel.k8s.io') message = `Internal error occurred: ${message}`;
      this.#finish({ kind: 'internal', message });
      return;
    }
    for (const d of early?.data ?? []) this.#target.writeStdin(d);
    if (early?.eof) this.#target.endStdin();
  }

  get state(): SessionState {
    return this.#state;
  }

  #name(): string {
    return `${this.req.namespace}/${this.req.pod.name}/${this.req.container.name}`;
  }

  #send(channel: number, payload: Uint8Array): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const { data, binary } = encodeMessage(this.protocol, channel, payload);
    this.ws.send(data, { binary }, () => this.#onSent());
  }

  #sendOutput(channel: number, payload: Uint8Array): void {
    this.#send(channel, payload);
    this.deps.metrics.outputBytesTotal += payload.byteLength;
    if (!this.#paused && this.ws.bufferedAmount > HIGH_WATER) this.#setPaused(true);
  }

  /**
   * Input backpressure: stop reading the socket (TCP then slows the client) until the target
   * drains. A socket that is not read never sees the peer's FIN, so ping while paused: writing to
   * a connection the client has dropped fails, which closes the session.
   */
  #setInputPaused(paused: boolean): void {
    if (paused === (this.#inputProbe !== undefined) || this.#state !== 'open') return;
    if (paused) {
      this.ws.pause();
      this.#inputProbe = setInterval(() => this.ws.ping(), INPUT_PAUSED_PING_MS);
    } else {
      clearInterval(this.#inputProbe);
      this.#inputProbe = undefined;
      this.ws.resume();
    }
  }

  #setPaused(paused: boolean): void {
    if (this.#paused === paused) return;
    this.#paused = paused;
    this.deps.metrics.execPaused += paused ? 1 : -1;
    if (paused) this.#target?.pause();
    else this.#target?.resume();
  }

  /** Send callback: the socket has taken a message; resume the target once the queue has drained. */
  #onSent(): void {
    if (this.#paused && this.#state === 'open' && this.ws.bufferedAmount <= LOW_WATER) this.#setPaused(false);
  }

  #onMessage(data: RawData, _isBinary: boolean): void {
    if (this.#state !== 'open') return;
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const msg = decodeMessage(this.protocol, buf);
    switch (msg.kind) {
      case 'skip':
        return;
      case 'invalid':
        // Go's reader returns an error and the connection is torn down, without a status.
        this.deps.log(`exec ${this.#name()}: ${msg.reason}; closing`);
        this.ws.terminate();
        void this.close(msg.reason);
        return;
      case 'close-stream':
        if (msg.channel === STREAM.stdin && this.req.stdin) {
          if (this.#early) this.#early.eof = true;
          else this.#target?.endStdin();
        }
        return;
      case 'data':
        if (msg.channel === STREAM.stdin && this.req.stdin && this.#early) {
          this.#early.data.push(Buffer.from(msg.payload)); // bounded by the 1 s wait; kubectl sends its size first
        } else if (msg.channel === STREAM.stdin && this.req.stdin) {
          // Input backpressure: stop reading the socket (TCP then slows the client) until the target drains.
          if (this.#target?.writeStdin(msg.payload) === false) this.#setInputPaused(true);
        } else if (msg.channel === STREAM.resize) {
          for (const size of this.#resize.push(msg.payload)) {
            if (this.#early && size.width > 0 && size.height > 0) {
              this.#start({ cols: size.width, rows: size.height });
              continue;
            }
            // Resizes apply to terminals only; a zero dimension is ignored as the runtimes do.
            if (this.req.tty && size.width > 0 && size.height > 0) this.#target?.resize(size.width, size.height);
          }
        }
        // Anything else (1, 2, 3, channels >= 5, stdin when not requested) is dropped, as in wsstream.
        return;
    }
  }

  /** The command is over: one status frame, then close 1000 and wait briefly for the client's close. */
  #finish(outcome: ExecOutcome): void {
    if (this.#state !== 'open') return;
    this.#state = 'finishing';
    if (hasJsonStatus(this.protocol)) this.#send(STREAM.error, Buffer.from(execStatusJson(outcome)));
    else {
      const text = execStatusText(outcome);
      if (text !== '') this.#send(STREAM.error, Buffer.from(text));
    }
    // The close frame follows once the queued output has reached the kernel (see #teardown).
    void this.close('command finished');
  }

  /**
   * Idempotent: the first caller starts teardown, later callers await the same promise. A shutdown
   * (1001) cuts short a teardown that is still waiting for a slow client to take its output.
   */
  close(reason: string, code = 1000): Promise<void> {
    if (this.#closing && code !== 1000) this.#stopFlushWait?.();
    this.#closing ??= this.#teardown(reason, code);
    return this.#closing;
  }

  /**
   * Resolves once everything queued for the client has been written to the kernel (or the socket
   * is gone, or FLUSH_LIMIT_MS passed). A real API server behaves so: Go's writes block until the
   * kernel took the bytes, and only then does it send its close and drop the connection, whose
   * kernel buffers are still delivered. Closing on a timer instead dropped the tail of the output
   * and the status of a client that was paused for longer than closeWaitMs (issue 8 item 6).
   */
  #flushed(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearInterval(poll);
        clearTimeout(cap);
        this.#stopFlushWait = undefined;
        resolve();
      };
      const check = (): void => {
        if (this.ws.readyState !== this.ws.OPEN || this.ws.bufferedAmount === 0) done();
      };
      const poll = setInterval(check, FLUSH_POLL_MS);
      const cap = setTimeout(done, FLUSH_LIMIT_MS);
      this.#stopFlushWait = done;
      check();
    });
  }

  async #teardown(reason: string, code: number): Promise<void> {
    this.#state = 'closing'; // before anything calls back, so re-entrant calls see it
    clearTimeout(this.#firstSizeTimer);
    this.#early = undefined;
    this.deps.log(`exec ${this.#name()}: closing (${reason})`);
    clearInterval(this.#inputProbe);
    this.#inputProbe = undefined;
    const targetClosed = this.#target?.close();
    if (code === 1000) await this.#flushed();
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(code);
    const deadline = setTimeout(() => this.ws.terminate(), this.deps.closeWaitMs);
    try {
      await Promise.all([targetClosed, this.#wsClosed]);
    } finally {
      clearTimeout(deadline);
      this.ws.removeAllListeners('message');
      if (this.#paused) this.deps.metrics.execPaused--; // the target is gone; nothing to resume
      this.#state = 'closed';
      this.deps.metrics.execActive--;
      this.#resolveClosed();
    }
  }
}
