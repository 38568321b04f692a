/**
 * One WebSocket = one exec session (PROTOCOL.md, "WebSocket"). Owns the socket and nothing else:
 * decodes server frames with the shared protocol code and reports them; encodes stdin, resize,
 * pause and resume. One state enum, one idempotent close(reason); listeners are removed there.
 *
 * The end is reported the moment it is known: an Exited or Error frame is acted on at once (issue
 * 8 item 11), not when the server's close arrives, which can come seconds later while the gateway
 * tears the exec down. The socket then waits in `ending` for that close, which reports nothing more.
 */
import { ClientOp, InputPacer, SUBPROTOCOL, ServerOp, decodeServerFrame, encode } from '../protocol/index.js';
import type { ClientFrame, ErrorInfo, ExitInfo, StartedInfo, Viewer } from '../protocol/index.js';

/** `ending`: an end frame was reported; the server's close (PROTOCOL.md: it always follows) is awaited. */
export type SocketState = 'connecting' | 'open' | 'ending' | 'closing' | 'closed';

export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
  /** Attach to the container's main process (a debug container) instead of starting a shell. */
  attach?: boolean;
}

/** What a socket opens: a new session in a container, or (docs/protocol.md, Additions) a resume or a watch. */
export type SocketOpen = { target: ExecTarget } | { resume: string } | { observe: string };

/** How the session ended, as the page explains it. Exactly one is reported per socket. */
export type SocketEnd =
  | { kind: 'exited'; info: ExitInfo }
  | { kind: 'error'; info: ErrorInfo }
  | { kind: 'closed'; code: number; started: boolean }
  | { kind: 'local'; reason: string };

export interface ExecSocketEvents {
  started(info: StartedInfo): void;
  output(data: Uint8Array): void;
  ended(end: SocketEnd): void;
  /** Another socket changed the session's size (op 5). */
  size?(cols: number, rows: number): void;
  /** Who is attached (op 6), on every join and leave. */
  viewers?(viewers: Viewer[]): void;
}

const ALLOWED: Record<SocketState, SocketState[]> = {
  connecting: ['open', 'closing', 'closed'],
  open: ['ending', 'closing', 'closed'],
  ending: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
};

export class ExecSocket {
  private state: SocketState = 'connecting';
  private readonly ws: WebSocket;
  private started = false;
  /** Set once `ended` was called: exactly one end is reported per socket. */
  private reported = false;
  private readonly encoder = new TextEncoder();
  /** Paces stdin by the server's input credit (op 7); splits big pastes below the message limit. */
  private readonly input = new InputPacer((chunk) => this.send([ClientOp.Stdin, chunk]));

  constructor(what: SocketOpen, cols: number, rows: number, private readonly events: ExecSocketEvents) {
    const q = new URLSearchParams(
      'resume' in what
        ? { resume: what.resume }
        : 'observe' in what
          ? { observe: what.observe }
          : { namespace: what.target.namespace, pod: what.target.pod, container: what.target.container, cols: String(cols), rows: String(rows) },
    );
    if ('target' in what && what.target.attach) q.set('attach', 'true');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    this.ws = new WebSocket(`${scheme}://${location.host}/ws/exec?${q}`, SUBPROTOCOL);
    this.ws.binaryType = 'arraybuffer';
    this.ws.onopen = () => this.transition('open');
    this.ws.onmessage = (ev: MessageEvent) => this.onMessage(ev);
    // The browser reports no detail on error; the close event that always follows carries the code.
    this.ws.onclose = (ev: CloseEvent) => this.finish({ kind: 'closed', code: ev.code, started: this.started });
  }

  get current(): SocketState {
    return this.state;
  }

  private transition(next: SocketState): boolean {
    if (!ALLOWED[this.state].includes(next)) return false;
    this.state = next;
    return true;
  }

  private onMessage(ev: MessageEvent): void {
    // After an end frame nothing more is expected; anything that still arrives is ignored.
    if (this.state !== 'open' || !(ev.data instanceof ArrayBuffer)) return;
    let frame;
    try {
      frame = decodeServerFrame(new Uint8Array(ev.data));
    } catch {
      this.shut({ kind: 'error', info: { code: 'BadFrame', message: 'The server sent a frame this page cannot read.' } });
      return;
    }
    switch (frame[0]) {
      case ServerOp.Stdout:
      case ServerOp.Stderr:
        this.events.output(frame[1]);
        break;
      case ServerOp.Started:
        this.started = true;
        this.input.setWindow(frame[1].inputWindow);
        this.events.started(frame[1]);
        break;
      case ServerOp.InputCredit:
        this.input.credit(frame[1]);
        break;
      case ServerOp.Size:
        this.events.size?.(frame[1], frame[2]);
        break;
      case ServerOp.Viewers:
        this.events.viewers?.(frame[1].viewers);
        break;
      case ServerOp.Exited:
        this.endByFrame({ kind: 'exited', info: frame[1] });
        break;
      case ServerOp.Error:
        this.endByFrame({ kind: 'error', info: frame[1] });
        break;
    }
  }

  /** The server said how it ends; its close follows and is taken quietly in finish(). */
  private endByFrame(end: SocketEnd): void {
    if (!this.transition('ending')) return;
    this.report(end);
  }

  private send(frame: ClientFrame): void {
    if (this.state !== 'open') return;
    this.ws.send(encode(frame));
  }

  sendStdin(data: string | Uint8Array): void {
    this.input.write(typeof data === 'string' ? this.encoder.encode(data) : data);
  }

  resize(cols: number, rows: number): void {
    this.send([ClientOp.Resize, cols, rows]);
  }

  pause(): void {
    this.send([ClientOp.Pause]);
  }

  resume(): void {
    this.send([ClientOp.Resume]);
  }

  /**
   * Idempotent; the page's own reasons (tab closed, reconnect) are reported as 'local', unless an
   * end frame was reported already: then the socket is closed without a second report. The code
   * 1000 ends the session on the server (docs/protocol.md, Additions); 4000 only leaves it
   * (detached, resumable), as a reload's 1001 does.
   */
  close(reason: string, code: 1000 | 4000 = 1000): void {
    this.shut({ kind: 'local', reason }, code);
  }

  private shut(end: SocketEnd, code: 1000 | 4000 = 1000): void {
    if (!this.transition('closing')) return;
    const ws = this.ws;
    const connecting = ws.readyState === WebSocket.CONNECTING;
    this.finish(end);
    // Closing a socket that is still connecting makes Chrome log an error; close it once open.
    if (connecting) ws.onopen = () => ws.close(code);
    else ws.close(code);
  }

  private finish(end: SocketEnd): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.ws.onopen = null;
    this.ws.onmessage = null;
    this.ws.onclose = null;
    this.report(end);
  }

  private report(end: SocketEnd): void {
    if (this.reported) return;
    this.reported = true;
    this.events.ended(end);
  }
}
