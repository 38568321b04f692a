/**
 * One browser socket attached to a session (docs/protocol.md, Additions: "Several sockets may
 * attach at once"). The server holds it for the socket's life and reports the socket's events to
 * it; the session owns the flow state. Never touches the link after it closed or was ended.
 */
import type { SocketRole } from '../actor-link/actor-messages.js';

/** What the server gives the supervisor for one browser socket (uWS WebSocket, wrapped). */
export interface ClientLink {
  /** false: the socket dropped the message (over its hard backpressure cap). */
  send(data: ArrayBuffer): boolean;
  bufferedAmount(): number;
  end(code: number, reason: string): void;
}

/** The session's side of an attachment's events. */
export interface AttachmentHost {
  fromClient(a: Attachment, message: ArrayBuffer): void;
  drained(a: Attachment): void;
  left(a: Attachment, code: number): void;
}

export class Attachment {
  readonly id: number;
  readonly role: SocketRole;
  /** Who is attached (the owner key for owners), for the viewers list. */
  readonly user: string;
  #link: ClientLink | undefined;
  readonly #host: AttachmentHost;
  /** Its Started frame went out: broadcast output may follow (earlier output is in its replay). */
  ready = false;
  /** Above the high-water mark: acks wait until it drains. */
  backpressured = false;

  constructor(id: number, role: SocketRole, user: string, link: ClientLink, host: AttachmentHost) {
    this.id = id;
    this.role = role;
    this.user = user;
    this.#link = link;
    this.#host = host;
  }

  get open(): boolean {
    return this.#link !== undefined;
  }

  // ---- from the server (uWS events) ----

  /** One browser message (uWS's buffer, valid only during the callback: the host copies it). */
  message(data: ArrayBuffer): void {
    if (this.#link) this.#host.fromClient(this, data);
  }

  drain(): void {
    if (this.#link) this.#host.drained(this);
  }

  /** The socket closed, with the client's close code (1006 when the link dropped). */
  closed(code: number): void {
    if (!this.#link) return;
    this.#link = undefined;
    this.#host.left(this, code);
  }

  // ---- from the session ----

  send(data: ArrayBuffer): boolean {
    return this.#link ? this.#link.send(data) : true;
  }

  bufferedAmount(): number {
    return this.#link?.bufferedAmount() ?? 0;
  }

  /** Closes the socket; uWS runs the close handler inside end(), which finds the link gone. */
  end(code: number, reason: string): void {
    const link = this.#link;
    this.#link = undefined;
    link?.end(code, reason);
  }
}
