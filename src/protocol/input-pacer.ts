/**
 * The client's half of input flow control (docs/protocol.md, Additions): keep at most `inputWindow`
 * stdin bytes sent and not yet credited by op 7; what does not fit waits here, in order, and goes
 * out as credit returns. uWebSockets.js cannot stop reading a socket, so a paste is paced by this
 * agreement instead of by TCP. Used by the page, the test client and the bench client alike.
 *
 * Before the Started frame (or with a server that sends no `inputWindow`) the window is unlimited,
 * as for an old server.
 */
export const STDIN_CHUNK = 16 * 1024;

export class InputPacer {
  #window = Number.POSITIVE_INFINITY;
  /** Sent and not yet credited. */
  #inFlight = 0;
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  readonly #send: (chunk: Uint8Array) => void;

  constructor(send: (chunk: Uint8Array) => void) {
    this.#send = send;
  }

  /** From the Started frame's `inputWindow`. */
  setWindow(bytes: number | undefined): void {
    this.#window = bytes !== undefined && bytes > 0 ? bytes : Number.POSITIVE_INFINITY;
    this.#pump();
  }

  /** Bytes waiting for credit (a paste in progress), for a progress display. */
  get queuedBytes(): number {
    return this.#queued;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  write(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    for (let i = 0; i < bytes.byteLength; i += STDIN_CHUNK) {
      const piece = bytes.subarray(i, i + STDIN_CHUNK);
      this.#queue.push(piece);
      this.#queued += piece.byteLength;
    }
    this.#pump();
  }

  /** Op 7: the pod has taken `n` more bytes. */
  credit(n: number): void {
    this.#inFlight = Math.max(0, this.#inFlight - n);
    this.#pump();
  }

  /** The socket is gone: drop what waits. */
  clear(): void {
    this.#queue.length = 0;
    this.#queued = 0;
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      const room = this.#window - this.#inFlight;
      if (room <= 0) return;
      let piece = this.#queue[0]!;
      if (piece.byteLength > room) {
        // Send what fits; the rest stays first in line.
        this.#queue[0] = piece.subarray(room);
        piece = piece.subarray(0, room);
      } else {
        this.#queue.shift();
      }
      this.#queued -= piece.byteLength;
      this.#inFlight += piece.byteLength;
      this.#send(piece);
    }
  }
}
