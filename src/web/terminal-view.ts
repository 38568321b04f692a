/**
 * One xterm.js terminal with its add-ons and the page's terminal security rules. It knows nothing
 * about sockets: the session feeds it bytes and listens to its input and size.
 *
 * Security (issue 4): OSC 52 clipboard requests are swallowed, never answered; links open only
 * through confirm() with http/https and `noopener,noreferrer`; nothing the pod prints can navigate
 * the page.
 */
import { Terminal } from '@xterm/xterm';
import type { ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Disposer, debounce } from './lifecycle.js';

export interface ViewCommands {
  fontBigger(): void;
  fontSmaller(): void;
  fontReset(): void;
  openSearch(): void;
}

export interface ViewOptions {
  fontSize: number;
  theme: ITheme;
  commands: ViewCommands;
}

export function openLink(win: Window, uri: string): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
  if (!win.confirm(`Open this link from the terminal in a new tab?\n\n${url.href}`)) return;
  win.open(url.href, '_blank', 'noopener,noreferrer');
}

function copyText(win: Window, text: string): void {
  if (!text) return;
  // Clipboard writes can be refused (no focus, no permission); copying is best effort, not an error.
  win.navigator.clipboard?.writeText(text).catch(() => undefined);
}

export class TerminalView {
  readonly term: Terminal;
  readonly search: SearchAddon;
  private readonly fitAddon = new FitAddon();
  private readonly disposer = new Disposer();

  constructor(readonly host: HTMLElement, opts: ViewOptions) {
    const win = host.ownerDocument.defaultView!;
    this.term = new Terminal({
      allowProposedApi: true, // the unicode API is still "proposed" in xterm.js 6
      fontSize: opts.fontSize,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      theme: opts.theme,
      scrollback: 5000,
      cursorBlink: true,
      linkHandler: { activate: (_ev, text) => openLink(win, text), allowNonHttpProtocols: false },
    });
    this.disposer.add(() => this.term.dispose());
    this.search = new SearchAddon();
    this.term.loadAddon(this.fitAddon);
    this.term.loadAddon(this.search);
    this.term.loadAddon(new WebLinksAddon((_ev, uri) => openLink(win, uri)));
    this.term.loadAddon(new Unicode11Addon());
    this.term.unicode.activeVersion = '11';

    // OSC 52 lets a program read or set the clipboard; handled (true) means xterm never answers.
    const osc52 = this.term.parser.registerOscHandler(52, () => true);
    this.disposer.add(() => osc52.dispose());

    const copySelection = debounce(this.disposer, 150, () => {
      if (this.term.hasSelection()) copyText(win, this.term.getSelection());
    });
    const sel = this.term.onSelectionChange(copySelection);
    this.disposer.add(() => sel.dispose());

    this.term.attachCustomKeyEventHandler((ev) => this.onKey(win, ev, opts.commands));
    this.term.open(host);
  }

  /** false = xterm must not handle the key. */
  private onKey(win: Window, ev: KeyboardEvent, commands: ViewCommands): boolean {
    if (ev.type !== 'keydown' || !ev.ctrlKey || ev.altKey || ev.metaKey) return true;
    const key = ev.key.toLowerCase();
    if (ev.shiftKey && key === 'c') {
      ev.preventDefault();
      copyText(win, this.term.getSelection());
      return false;
    }
    // Ctrl+Shift+V: let the browser's own paste run; xterm's paste listener takes the text.
    if (ev.shiftKey && key === 'v') return false;
    if (ev.shiftKey && key === 'f') {
      ev.preventDefault();
      commands.openSearch();
      return false;
    }
    const font: Record<string, () => void> = {
      '=': commands.fontBigger, '+': commands.fontBigger, '-': commands.fontSmaller, '0': commands.fontReset,
    };
    const action = font[ev.key];
    if (action) {
      ev.preventDefault(); // not the browser's page zoom
      action();
      return false;
    }
    return true;
  }

  setFontSize(px: number): void {
    this.term.options.fontSize = px;
  }

  setTheme(theme: ITheme): void {
    this.term.options.theme = theme;
  }

  /** Fits rows/cols to the host; a host that is hidden (display none) keeps the old size. */
  fit(): void {
    if (this.host.offsetParent === null) return;
    this.fitAddon.fit();
  }

  focus(): void {
    this.term.focus();
  }

  /** Text of the whole buffer (scrollback + screen), trailing blanks trimmed: for tests and copy. */
  text(): string {
    const buf = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    return lines.join('\n');
  }

  close(): void {
    this.disposer.dispose();
  }
}
