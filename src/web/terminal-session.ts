/**
 * One tab's terminal: the xterm view, the exec socket of the current session, flow control,
 * resize coalescing and the status line. Reconnect keeps the view and opens a new session.
 */
import type { ITheme } from '@xterm/xterm';
import type { StartedInfo } from '../protocol/index.js';
import { ApiError, listPods, whyNotExec } from './api.js';
import { ExecSocket } from './exec-socket.js';
import type { ExecTarget, SocketEnd } from './exec-socket.js';
import { FlowControl } from './flow-control.js';
import { Disposer, debounce } from './lifecycle.js';
import { SearchBox } from './search-box.js';
import { StatusLine } from './status-line.js';
import type { StatusKind } from './status-line.js';
import type { SessionCounters } from './test-hook-api.js';
import { TerminalView } from './terminal-view.js';
import { ToolsBar } from './tools-bar.js';
import type { ViewCommands } from './terminal-view.js';

export type SessionState = StatusKind | 'closed';

/** The session's lifecycle; any state may go to 'closed' (tab closed), handled by close(). */
const NEXT: Record<StatusKind, readonly StatusKind[]> = {
  checking: ['checking', 'connecting', 'failed'], // 'checking' again: the first connect() after construction
  connecting: ['connected', 'exited', 'failed'],
  connected: ['exited', 'failed'],
  exited: ['checking'],
  failed: ['checking'],
};

/** Resize frames wait this long so a window drag sends one frame, not one per pixel. */
const RESIZE_DEBOUNCE_MS = 75;

export interface SessionHost {
  fontSize(): number;
  theme(): ITheme;
  commands: ViewCommands;
  /** The state changed: the tab bar and document.title follow. */
  changed(session: TerminalSession): void;
  /** Opens another terminal tab (a debug container the tools bar started). */
  openTerminal(target: ExecTarget): void;
}

export function targetLabel(t: ExecTarget): string {
  return `${t.namespace}/${t.pod}/${t.container}`;
}

function commandLabel(command: string[]): string {
  // PROTOCOL.md: without `command` the gateway runs `/bin/sh -c '...exec bash || exec sh'`.
  if (command.length === 3 && command[1] === '-c') return 'shell';
  return command.join(' ');
}

export class TerminalSession {
  readonly panel: HTMLElement;
  readonly view: TerminalView;
  private readonly status: StatusLine;
  private readonly searchBox: SearchBox;
  private readonly tools: ToolsBar;
  private readonly disposer = new Disposer();
  private socket: ExecSocket | null = null;
  private flow: FlowControl | null = null;
  private lastSize = { cols: 0, rows: 0 };
  private resizesSent = 0;
  /** Bumped per attempt so a late preflight answer for an old attempt is ignored. */
  private attempt = 0;
  state: SessionState = 'checking';
  statusText = '';

  constructor(doc: Document, readonly target: ExecTarget, private readonly host: SessionHost) {
    this.label = `${target.pod}/${target.container}`;
    this.panel = doc.createElement('section');
    this.panel.className = 'terminal-panel';
    this.panel.setAttribute('role', 'tabpanel');
    const termHost = doc.createElement('div');
    termHost.className = 'terminal-host';
    this.status = new StatusLine(doc, () => void this.connect());
    this.tools = new ToolsBar(doc, target, termHost, this.disposer, (t) => host.openTerminal(t));
    this.panel.append(this.tools.el, this.tools.row, this.status.el);
    doc.getElementById('terminals')!.append(this.panel);
    this.disposer.add(() => this.panel.remove());

    this.view = new TerminalView(termHost, { fontSize: host.fontSize(), theme: host.theme(), commands: host.commands });
    this.disposer.add(() => this.view.close());
    this.searchBox = new SearchBox(doc, this.view.search, () => this.view.focus());
    this.disposer.add(() => this.searchBox.dispose());
    termHost.append(this.searchBox.el);

    const input = this.view.term.onData((d) => this.socket?.sendStdin(d));
    this.disposer.add(() => input.dispose());
    const binary = this.view.term.onBinary((d) => this.socket?.sendStdin(Uint8Array.from(d, (ch) => ch.charCodeAt(0))));
    this.disposer.add(() => binary.dispose());
    const sendResize = debounce(this.disposer, RESIZE_DEBOUNCE_MS, () => this.sendResize());
    const resized = this.view.term.onResize(sendResize);
    this.disposer.add(() => resized.dispose());
    // The host changes size with the window, the tab bar and the font; fit follows in the next frame.
    const win = doc.defaultView!;
    let frame = 0;
    const observer = new ResizeObserver(() => {
      win.cancelAnimationFrame(frame);
      frame = win.requestAnimationFrame(() => this.view.fit());
    });
    observer.observe(termHost);
    this.disposer.add(() => {
      observer.disconnect();
      win.cancelAnimationFrame(frame);
    });
  }

  /** What the tab and the document title call it; the App sets it (see tab-labels.ts). */
  label: string;

  get counters(): SessionCounters {
    const f = this.flow;
    return {
      bytes: f?.bytesWritten ?? 0, newlines: f?.newlines ?? 0, pauses: f?.pauses ?? 0, backlog: f?.backlog ?? 0,
      resizes: this.resizesSent,
    };
  }

  private setState(state: StatusKind, text: string): void {
    if (this.state === 'closed') return;
    if (!NEXT[this.state].includes(state)) throw new Error(`terminal session: illegal transition ${this.state} -> ${state}`);
    this.state = state;
    this.statusText = text;
    this.status.show({ kind: state, text });
    if (state === 'exited' || state === 'failed') this.notice(text);
    this.host.changed(this);
  }

  /**
   * A dim "[why it ended]" line in the terminal itself, after everything the pod sent has been
   * parsed. Control characters are stripped: the text may come from the server's error frame.
   */
  private notice(text: string): void {
    const term = this.view.term;
    const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
    term.write('', () => {
      const newline = term.buffer.active.cursorX === 0 ? '' : '\r\n';
      term.write(`${newline}\x1b[2m[podterm: ${clean}]\x1b[0m\r\n`);
    });
  }

  /** Starts a session: checks the target through the API first, then opens the socket. */
  async connect(): Promise<void> {
    if (this.state === 'closed') return;
    const attempt = ++this.attempt;
    this.socket?.close('reconnect');
    this.socket = null;
    this.setState('checking', `Connecting to ${targetLabel(this.target)}…`);
    const reason = await this.explain();
    if (attempt !== this.attempt) return; // a newer attempt or close() happened meanwhile
    if (reason !== null) {
      this.setState('failed', reason);
      return;
    }
    this.view.fit();
    const { cols, rows } = this.view.term;
    this.lastSize = { cols, rows };
    this.setState('connecting', `Connecting to ${targetLabel(this.target)}…`);
    const flow = new FlowControl({
      write: (data, parsed) => this.view.term.write(data, parsed),
      pause: () => socket.pause(),
      resume: () => socket.resume(),
    });
    const socket: ExecSocket = new ExecSocket(this.target, cols, rows, {
      started: (info) => this.onStarted(info),
      output: (data) => flow.write(data),
      ended: (end) => void this.onEnded(end, attempt),
    });
    this.flow = flow;
    this.socket = socket;
  }

  /** Why this target cannot be exec'd into right now, or null if the API says it can. */
  private async explain(): Promise<string | null> {
    try {
      const pods = await listPods(this.target.namespace);
      const pod = pods.find((p) => p.name === this.target.pod);
      if (!pod) return `pod ${this.target.pod} does not exist in namespace ${this.target.namespace}`;
      return whyNotExec(pod, this.target.container);
    } catch (err) {
      return err instanceof ApiError ? err.message : 'The podterm server cannot be reached.';
    }
  }

  private onStarted(info: StartedInfo): void {
    this.setState('connected', `Connected to ${info.namespace}/${info.pod}/${info.container} · ${commandLabel(info.command)}`);
    this.sendResize(); // the window may have changed while connecting
    if (!this.panel.hidden) this.view.focus(); // a background tab must not take the keyboard
  }

  private sendResize(): void {
    const { cols, rows } = this.view.term;
    if (!this.socket || this.state !== 'connected') return;
    if (cols === this.lastSize.cols && rows === this.lastSize.rows) return;
    this.lastSize = { cols, rows };
    this.resizesSent++;
    this.socket.resize(cols, rows);
  }

  private async onEnded(end: SocketEnd, attempt: number): Promise<void> {
    if (attempt !== this.attempt) return;
    // After an Exited or Error frame the socket still waits for the server's close; it stays ours
    // so that Reconnect or closing the tab closes it if that close has not come yet.
    if (end.kind === 'closed' || end.kind === 'local') this.socket = null;
    switch (end.kind) {
      case 'local':
        return;
      case 'exited': {
        const { exitCode, message } = end.info;
        this.setState('exited', exitCode === null ? `exited${message ? ': ' + message : ''}` : `exited with code ${exitCode}`);
        return;
      }
      case 'error':
        // docs/protocol.md: NoShell (4413) means no shell in the image; a debug container helps.
        if ((end.info.code as string) === 'NoShell') this.tools.offerDebug();
        this.setState('failed', end.info.message);
        return;
      case 'closed':
        if (end.started) {
          this.setState('failed', end.code === 1000 ? 'The session ended.' : `The connection was lost (close code ${end.code}).`);
          return;
        }
        // Refused before the upgrade: the browser hides the HTTP answer, so ask the API why.
        this.setState('failed', (await this.explain()) ?? `The server refused a terminal in ${targetLabel(this.target)}.`);
    }
  }

  show(visible: boolean): void {
    this.panel.hidden = !visible;
    if (visible) {
      this.view.fit();
      this.view.focus();
    }
  }

  openSearch(): void {
    this.searchBox.open();
  }

  setFontSize(px: number): void {
    this.view.setFontSize(px);
    this.view.fit();
  }

  setTheme(theme: ITheme): void {
    this.view.setTheme(theme);
  }

  /** Idempotent: ends the session and removes the panel. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.attempt++;
    this.socket?.close('tab closed');
    this.socket = null;
    this.disposer.dispose();
  }
}
