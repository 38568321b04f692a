/**
 * A uWS request body as a Node Readable with backpressure: when the reader falls behind, uWS stops
 * reading the socket (`res.pause()`), and resumes when it reads again. uWS hands each chunk in an
 * ArrayBuffer that is only valid during the callback, so each chunk is copied once. The body is
 * bounded: past `maxBytes` it fails with MessageTooBig (413).
 */
import { Readable } from 'node:stream';
import type { HttpResponse } from 'uWebSockets.js';
import { PodtermError } from '../protocol/errors.js';

export class RequestBody extends Readable {
  readonly #res: HttpResponse;
  readonly #max: number;
  #bytes = 0;
  #paused = false;
  #over = false;

  /** `empty`: the request declared no body (Content-Length 0 or none); uWS calls onData only for a body. */
  constructor(res: HttpResponse, maxBytes: number, empty: boolean) {
    super({ highWaterMark: 256 * 1024 });
    this.#res = res;
    this.#max = maxBytes;
    // The client can go away (aborted()) before any reader is attached, e.g. while the route
    // still checks permissions: an 'error' with no listener would be an uncaughtException.
    // Readers attached later (pipeline) still get the error and the stream stays destroyed.
    this.on('error', () => undefined);
    if (empty) {
      this.#over = true;
      this.push(null);
      return;
    }
    res.onData((chunk, isLast) => {
      if (this.#over) return;
      this.#bytes += chunk.byteLength;
      if (this.#bytes > this.#max) {
        this.#over = true;
        this.destroy(new PodtermError('MessageTooBig', `The upload is larger than this server accepts (${this.#max} bytes).`));
        return;
      }
      const more = this.push(Buffer.from(chunk.slice(0)));
      if (isLast) {
        this.#over = true;
        this.push(null);
      } else if (!more && !this.#paused) {
        this.#paused = true;
        res.pause();
      }
    });
  }

  get bytes(): number {
    return this.#bytes;
  }

  override _read(): void {
    if (!this.#paused || this.#over) return;
    this.#paused = false;
    this.#res.resume();
  }

  /** The client went away mid-body. */
  aborted(): void {
    this.#over = true;
    this.destroy(new PodtermError('BadRequest', 'The client went away during the upload.'));
  }
}
