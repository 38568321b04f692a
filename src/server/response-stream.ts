/**
 * A streamed uWS response body with backpressure (STYLE.md 7): a chunk goes out only while uWS
 * takes it; when it does not, the source is paused and resumed from `onWritable`. So the gateway
 * holds at most one chunk per response whatever the size of the body. With a known size the body
 * goes out with `tryEnd` (Content-Length, so the browser can show progress); otherwise chunked.
 * A failure after the first byte can no longer become a JSON answer: the connection is cut, which
 * the browser sees as a failed download, never as a complete one.
 */
import type { Readable } from 'node:stream';
import type { HttpResponse } from 'uWebSockets.js';
import { statusLine } from './http-util.js';

type State = 'streaming' | 'ended' | 'aborted';

export class ResponseStream {
  #state: State = 'streaming';
  readonly #res: HttpResponse;
  readonly #size: number | null;
  #source: Readable | undefined;
  /** The chunk uWS did not fully take (tryEnd), and the write offset it started at. */
  #pending: ArrayBuffer | undefined;
  #pendingAt = 0;
  #sent = 0;
  #settle: ((outcome: 'ended' | 'aborted') => void) | undefined;

  constructor(res: HttpResponse, status: number, headers: ReadonlyArray<readonly [string, string]>, size: number | null) {
    this.#res = res;
    this.#size = size;
    res.cork(() => {
      res.writeStatus(statusLine(status));
      for (const [k, v] of headers) res.writeHeader(k, v);
    });
  }

  get bytesSent(): number {
    return this.#sent;
  }

  /**
   * Sends `source` to the end. Resolves `ended` when all of it went out, `aborted` when the client
   * left or the source failed (then the connection is cut and the source destroyed).
   */
  pipeFrom(source: Readable): Promise<'ended' | 'aborted'> {
    this.#source = source;
    const done = new Promise<'ended' | 'aborted'>((resolve) => (this.#settle = resolve));
    this.#res.onWritable((offset) => this.#writable(offset));
    source.on('data', (chunk: Buffer) => this.#chunk(chunk));
    source.once('end', () => this.#finish());
    source.once('error', () => this.fail());
    if (this.#state !== 'streaming') this.#finishWith(this.#state);
    return done;
  }

  #chunk(chunk: Buffer): void {
    if (this.#state !== 'streaming') return;
    const res = this.#res;
    this.#sent += chunk.byteLength;
    if (this.#size === null) {
      let ok = true;
      res.cork(() => (ok = res.write(chunk)));
      // uWS buffered the rest of the chunk; read more only once it drained.
      if (!ok) this.#source?.pause();
      return;
    }
    const ab = chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength) as ArrayBuffer;
    const at = res.getWriteOffset();
    let ok = false;
    let done = false;
    res.cork(() => ([ok, done] = res.tryEnd(ab, this.#size as number)));
    if (done) this.#finishWith('ended');
    else if (!ok) {
      this.#pending = ab;
      this.#pendingAt = at;
      this.#source?.pause();
    }
  }

  #writable(offset: number): boolean {
    if (this.#state !== 'streaming') return true;
    const pending = this.#pending;
    if (pending === undefined) {
      this.#source?.resume();
      return true;
    }
    const res = this.#res;
    let ok = false;
    let done = false;
    res.cork(() => ([ok, done] = res.tryEnd(pending.slice(offset - this.#pendingAt), this.#size as number)));
    if (done) this.#finishWith('ended');
    else if (ok) {
      this.#pending = undefined;
      this.#source?.resume();
    }
    return ok;
  }

  #finish(): void {
    if (this.#state !== 'streaming') return;
    if (this.#size === null) {
      this.#res.cork(() => this.#res.end());
      this.#finishWith('ended');
    } else if (this.#sent !== this.#size) {
      this.fail(); // the source ended short of the announced Content-Length
    } else if (this.#size === 0) {
      this.#res.cork(() => this.#res.end()); // an empty file: no chunk ever went through tryEnd
      this.#finishWith('ended');
    } else if (this.#pending === undefined) {
      // tryEnd completed the response with the last chunk already.
      this.#finishWith('ended');
    }
    // else: the last chunk is still pending; #writable finishes it.
  }

  #finishWith(outcome: 'ended' | 'aborted'): void {
    if (this.#state === 'streaming') this.#state = outcome;
    this.#source?.removeAllListeners('data');
    if (outcome === 'aborted') this.#source?.destroy();
    const settle = this.#settle;
    this.#settle = undefined;
    settle?.(outcome);
  }

  /** The source failed mid-stream: cut the connection so the download is not taken as complete. */
  fail(): void {
    if (this.#state !== 'streaming') return;
    this.#res.close();
    this.#finishWith('aborted');
  }

  /** uWS reported the client gone: nothing may touch the response any more. */
  aborted(): void {
    this.#finishWith('aborted');
  }
}
