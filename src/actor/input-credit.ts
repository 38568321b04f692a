/**
 * The actor's half of input flow control (docs/protocol.md, Additions): counts the stdin a client
 * sent, what the exec socket has taken of it, and what was credited back with op 7.
 *
 * "Taken" is what left the exec socket's user-space queue (written − bufferedAmount): from there
 * the kernel and the API server pace it by TCP. Credit goes back lazily so typing costs no extra
 * frames: only once a quarter window is taken, or when the client is at least half-way through
 * its window (a paste), so a client never waits on credit the actor could give.
 */
export class InputCredit {
  readonly window: number;
  /** Slack beyond the window for one message in flight when the client computed its room. */
  readonly #slack: number;
  #received = 0;
  #written = 0;
  #credited = 0;

  constructor(window: number, slack: number) {
    this.window = window;
    this.#slack = slack;
  }

  received(n: number): void {
    this.#received += n;
  }

  written(n: number): void {
    this.#written += n;
  }

  /** Bytes sent by the client and not yet taken by the exec socket. */
  pending(buffered: number): number {
    return this.#received - this.#taken(buffered);
  }

  /** The client sent more than its window allows (it ignores op 7). */
  overrun(buffered: number): boolean {
    return this.pending(buffered) > this.window + this.#slack;
  }

  /** Credit to send now (0: none yet). Counts it as sent. */
  settle(buffered: number): number {
    const uncredited = this.#taken(buffered) - this.#credited;
    if (uncredited <= 0) return 0;
    const outstanding = this.#received - this.#credited;
    if (uncredited < this.window / 4 && outstanding < this.window / 2) return 0;
    this.#credited += uncredited;
    return uncredited;
  }

  /** Bytes the client still waits credit for that the socket has not taken yet: look again later. */
  waiting(buffered: number): boolean {
    return this.#received - this.#credited >= this.window / 2 && this.pending(buffered) > 0;
  }

  #taken(buffered: number): number {
    return Math.max(this.#credited, this.#written - Math.min(buffered, this.#written));
  }
}
