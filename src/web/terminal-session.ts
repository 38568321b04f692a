/**
 * One tab's terminal: the xterm view, the exec socket of the current session, flow control,
 * resize coalescing and the status line.
 *
 * A session outlives its socket (docs/protocol.md, Additions): the tab keeps the session's resume
 * token. A dropped connection resumes by itself with backoff ("reconnecting…"); Reconnect and a
 * page reload resume when the session still lives and otherwise open a new one and say so.
 */
import type { ITheme } from '@xterm/xterm';
import type { StartedInfo, Viewer } from '../protocol/index.js';
import { ApiError, listPods, whyNotExec } from './api.js';
import { ExecSocket } from './exec-socket.js';
import type { ExecTarget, SocketEnd, SocketOpen } from './exec-socket.js';
import { FlowControl } from './flow-control.js';
import { Disposer, debounce } from './lifecycle.js';
import { SearchBox } from './search-box.js';
import { StatusLine } from './status-line.js';
import type { StatusKind } from './status-line.js';
import type { SessionCounters } from './test-hook-api.js';
import { TerminalView } from './terminal-view.js';
import { ToolsBar } from './tools-bar.js';
import { ShareBar } from './share-ui.js';
import type { ViewCommands } from './terminal-view.js';

export type SessionState = StatusKind | 'closed';

/** The session's lifecycle; any state may go to 'closed' (tab closed), handled by close(). */
const NEXT: Record<StatusKind, readonly StatusKind[]> = {
  checking: ['checking', 'connecting', 'failed'], // 'checking' again: the first connect() after construction
  connecting: ['connected', 'exited', 'failed', 'reconnecting', 'checking'], // checking: the resumed session was gone
  connected: ['exited', 'failed', 'reconnecting'],
  reconnecting: ['reconnecting', 'connected', 'exited', 'failed'],
  exited: ['checking'],
  failed: ['checking'],
};

/** Resize frames wait this long so a window drag sends one frame, not one per pixel. */
const RESIZE_DEBOUNCE_MS = 75;
/** Automatic resumes after a drop wait 0.5 s, 1 s, 2 s… up to this, and give up after RESUME_TRIES. */
const RESUME_BACKOFF_MAX_MS = 8000;
const RESUME_TRIES = 40;
/** xterm.js: RIS (ESC c) resets the terminal, in order with the writes around it. */
const RESET = '\x1bc';

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

/** Why a watch ended, in words (no resume and no new session for a watcher: Reconnect rejoins). */
function watchEnd(end: SocketEnd): string {
  if (end.kind === 'exited') return end.info.exitCode === null ? 'The shared terminal exited.' : `The shared terminal exited with code ${end.info.exitCode}.`;
  if (end.kind === 'error') {
    return end.info.code === 'SessionGone' ? 'The shared session is gone: it ended, or its owner stopped sharing it.' : end.info.message;
  }
  if (end.kind === 'closed' && !end.started) return 'The shared terminal could not be joined.';
  return 'The connection was lost; Reconnect to watch again.';
}

export class TerminalSession {
  readonly panel: HTMLElement;
  readonly view: TerminalView;
  private readonly status: StatusLine;
  private readonly searchBox: SearchBox;
  private readonly tools: ToolsBar | null;
  private readonly share: ShareBar;
  /** Watch mode: the share token this tab watches with (read-only; no tools, no input, no resize). */
  readonly watchToken: string | null;
  private readonly disposer = new Disposer();
  private socket: ExecSocket | null = null;
  private flow: FlowControl | null = null;
  private lastSize = { cols: 0, rows: 0 };
  private resizesSent = 0;
  /** Bumped per attempt so a late preflight answer for an old attempt is ignored. */
  private attempt = 0;
  /** The id of the session this tab shows (from its last Started frame), for Share and the Sessions panel. */
  sessionId: string | null = null;
  /** The live session's resume token (null: none, or it ended). The App keeps it across reloads. */
  resumeToken: string | null;
  /** Automatic resumes since the connection dropped. */
  private tries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The resume of this attempt found the session gone: the new session says so when it starts. */
  private replaced = false;
  state: SessionState = 'checking';
  statusText = '';

  constructor(doc: Document, readonly target: ExecTarget, private readonly host: SessionHost, resumeToken: string | null = null, watchToken: string | null = null) {
    this.resumeToken = resumeToken;
    this.watchToken = watchToken;
    this.label = watchToken ? 'shared terminal' : `${target.pod}/${target.container}`;
    this.panel = doc.createElement('section');
    this.panel.className = 'terminal-panel';
    this.panel.setAttribute('role', 'tabpanel');
    const termHost = doc.createElement('div');
    termHost.className = 'terminal-host';
    this.status = new StatusLine(doc, () => void this.connect());
    this.share = new ShareBar(doc, watchToken ? 'observer' : 'owner', this.disposer, () => this.sessionId);
    if (watchToken) {
      // A watcher gets no container tools: only the badge and who is watching.
      this.tools = null;
      const bar = doc.createElement('div');
      bar.className = 'terminal-tools';
      bar.setAttribute('role', 'toolbar');
      bar.append(this.share.el);
      const row = doc.createElement('div');
      row.className = 'terminal-row';
      row.append(termHost);
      this.panel.append(bar, row, this.status.el);
    } else {
      // The view is made below; the cwd is asked for only when an upload starts.
      this.tools = new ToolsBar(doc, target, termHost, this.disposer, (t) => host.openTerminal(t), () => this.view.cwd);
      this.tools.el.append(this.share.el);
      this.panel.append(this.tools.el, this.tools.row, this.status.el);
    }
    doc.getElementById('terminals')!.append(this.panel);
    this.disposer.add(() => this.panel.remove());
    this.disposer.add(() => clearTimeout(this.retryTimer));

    this.view = new TerminalView(termHost, { fontSize: host.fontSize(), theme: host.theme(), commands: host.commands });
    this.disposer.add(() => this.view.close());
    // A watcher's keys go nowhere (the server ignores them too; docs/protocol.md, Additions).
    if (watchToken) this.view.term.options.disableStdin = true;
    this.searchBox = new SearchBox(doc, this.view.search, () => this.view.focus());
    this.disposer.add(() => this.searchBox.dispose());
    termHost.append(this.searchBox.el);

    const input = this.view.term.onData((d) => {
      if (!this.watchToken) this.socket?.sendStdin(d);
    });
    this.disposer.add(() => input.dispose());
    const binary = this.view.term.onBinary((d) => {
      if (!this.watchToken) this.socket?.sendStdin(Uint8Array.from(d, (ch) => ch.charCodeAt(0)));
    });
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

  /**
   * Resumes the tab's session when it has a token (Reconnect, a reload); otherwise, or when that
   * session is gone, starts a new one: checks the target through the API first, then opens the socket.
   */
  async connect(): Promise<void> {
    if (this.state === 'closed') return;
    const attempt = ++this.attempt;
    clearTimeout(this.retryTimer);
    this.tries = 0;
    // 4000, not 1000: leaving a socket must not end the session we are about to resume.
    this.socket?.close('reconnect', 4000);
    this.socket = null;
    if (this.watchToken !== null) {
      this.setState('checking', 'Joining the shared terminal…');
      this.setState('connecting', 'Joining the shared terminal…');
      this.open({ observe: this.watchToken }, attempt);
      return;
    }
    this.setState('checking', `Connecting to ${targetLabel(this.target)}…`);
    if (this.resumeToken !== null) {
      this.setState('connecting', `Resuming the session in ${targetLabel(this.target)}…`);
      this.open({ resume: this.resumeToken }, attempt);
      return;
    }
    const reason = await this.explain();
    if (attempt !== this.attempt) return; // a newer attempt or close() happened meanwhile
    if (reason !== null) {
      this.setState('failed', reason);
      return;
    }
    this.setState('connecting', `Connecting to ${targetLabel(this.target)}…`);
    this.open({ target: this.target }, attempt);
  }

  /** The connection dropped: resume by itself, with backoff, while the token may still be good. */
  private resumeLater(): void {
    const token = this.resumeToken;
    if (token === null || this.tries >= RESUME_TRIES) {
      this.resumeToken = null;
      this.setState('failed', 'The connection was lost and could not be restored.');
      return;
    }
    const delay = Math.min(RESUME_BACKOFF_MAX_MS, 500 * 2 ** this.tries++);
    this.setState('reconnecting', 'reconnecting…');
    const attempt = ++this.attempt;
    this.retryTimer = setTimeout(() => {
      if (attempt === this.attempt) this.open({ resume: token }, attempt);
    }, delay);
  }

  private open(what: SocketOpen, attempt: number): void {
    this.view.fit();
    const { cols, rows } = this.view.term;
    this.lastSize = { cols, rows };
    const flow = new FlowControl({
      write: (data, parsed) => this.view.term.write(data, parsed),
      pause: () => socket.pause(),
      resume: () => socket.resume(),
    });
    const socket: ExecSocket = new ExecSocket(what, cols, rows, {
      started: (info) => this.onStarted(info),
      output: (data) => flow.write(data),
      ended: (end) => void this.onEnded(end, attempt),
      // A watcher shows the session at its size; an owner's other tab keeps its own (the last resize wins).
      size: (c, r) => {
        if (this.watchToken) this.view.setFixedSize(c, r);
      },
      viewers: (v: Viewer[]) => this.share.setViewers(v),
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
      // The pod list names spec.containers only: an attach target may be an ephemeral (debug)
      // container, which is not among them; the gateway checks it when the socket opens.
      return whyNotExec(pod, this.target.attach ? null : this.target.container);
    } catch (err) {
      return err instanceof ApiError ? err.message : 'The podterm server cannot be reached.';
    }
  }

  private onStarted(info: StartedInfo): void {
    this.resumeToken = info.resumeToken ?? null;
    this.sessionId = info.session;
    this.share.setLive(true);
    this.tries = 0;
    // The protocol: after a resumed or observer Started the client resets its terminal; the replay follows.
    if (info.resumed || info.role === 'observer') this.view.term.write(RESET);
    if (this.watchToken) {
      if (info.cols && info.rows) this.view.setFixedSize(info.cols, info.rows);
      this.label = `watching ${info.pod}/${info.container}`;
      this.setState('connected', `Watching ${info.namespace}/${info.pod}/${info.container} · ${commandLabel(info.command)} · read-only`);
      return;
    }
    // The session's size, not ours: if they differ, the resize below tells the pod (the last one wins).
    if (info.cols && info.rows) this.lastSize = { cols: info.cols, rows: info.rows };
    // An attach runs no command of ours: the Started frame's command is not what runs there.
    this.setState('connected', `Connected to ${info.namespace}/${info.pod}/${info.container} · ${this.target.attach ? 'attached' : commandLabel(info.command)}`);
    if (this.replaced) {
      this.replaced = false;
      this.notice('the previous session had ended; this is a new one');
    }
    this.sendResize(); // the window may have changed while connecting
    if (!this.panel.hidden) this.view.focus(); // a background tab must not take the keyboard
  }

  private sendResize(): void {
    const { cols, rows } = this.view.term;
    if (!this.socket || this.state !== 'connected' || this.watchToken) return;
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
    this.share.setLive(false);
    if (this.watchToken && end.kind !== 'local') {
      this.setState('failed', watchEnd(end));
      return;
    }
    const resuming = this.state === 'reconnecting' || (this.state === 'connecting' && this.resumeToken !== null);
    switch (end.kind) {
      case 'local':
        return;
      case 'exited': {
        this.resumeToken = null;
        const { exitCode, message } = end.info;
        this.setState('exited', exitCode === null ? `exited${message ? ': ' + message : ''}` : `exited with code ${exitCode}`);
        return;
      }
      case 'error':
        this.resumeToken = null;
        if (end.info.code === 'SessionGone' && this.state === 'connecting') {
          // Reconnect or a reload asked for a session that has ended: start a new one, and say so.
          this.replaced = true;
          this.socket = null;
          void this.connect();
          return;
        }
        // docs/protocol.md: NoShell (4413) means no shell in the image; a debug container helps.
        if ((end.info.code as string) === 'NoShell') this.tools?.offerDebug();
        this.setState('failed', end.info.code === 'SessionGone' && this.state === 'reconnecting' ? 'The session ended while the connection was down.' : end.info.message);
        return;
      case 'closed':
        // A drop (no end frame): the session lives on, detached; resume it.
        if (this.resumeToken !== null && end.code !== 1000 && (end.started || resuming)) {
          this.resumeLater();
          return;
        }
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
