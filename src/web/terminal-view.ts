/**
 * One xterm.js terminal with its add-ons and the page's terminal security rules. It knows nothing
 * about sockets: the session feeds it bytes and listens to its input and size.
 *
 * Security (issue 4): OSC 52 clipboard requests are swallowed, never answered; links open only
 * through confirm() with http/https and `noopener,noreferrer`; nothing the pod prints can navigate
 * the page.
 *
 * Rendering (issue 8 item 12): xterm's DOM renderer clips the underscore of DejaVu Sans Mono at
 * 14 px (`a_b__c` showed `a b  c`): its rows are exactly one cell high with `overflow: hidden`, and
 * the glyph sits on the font's descent line. The WebGL add-on draws every glyph into its own cell
 * from a texture atlas, so nothing is clipped. It is loaded lazily,
 * in its own chunk, so the page's first script stays small; until it is ready, and whenever WebGL
 * is missing or its context is lost (a browser keeps ~16 live contexts per page), the DOM renderer
 * draws, with a taller line so the underscore fits in the row.
 * Whatever draws the cells, `screenReaderMode` keeps xterm's accessibility tree (the screen's rows
 * as text, and an aria-live region for new output), since the DOM renderer's rows are aria-hidden
 * and the WebGL canvas has no text at all. It has a price on floods: the tree measures every row
 * it updates (a layout per row per frame); `yes` into the page took ~1.5x as long in the e2e flood.
 */
import { Terminal } from '@xterm/xterm';
import type { ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Disposer, debounce } from './lifecycle.js';
import { cwdFromOsc7 } from './osc7.js';

/** What draws the cells. */
export type RendererKind = 'webgl' | 'dom';

/**
 * Line heights (a multiple of the font's cell height). The DOM renderer needs the extra room for
 * the underscore (measured in the e2e pixel check: 1.0 clips it at 14 px); WebGL does not.
 */
const LINE_HEIGHT: Record<RendererKind, number> = { webgl: 1, dom: 1.1 };

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
  private renderer: RendererKind = 'dom';
  private closed = false;
  /** A watcher's terminal keeps the session's size (op 5), whatever the window's. */
  private fixed: { cols: number; rows: number } | null = null;
  /** The shell's working directory, when it reports it with OSC 7 (file://HOST/PATH); null until then. */
  cwd: string | null = null;

  constructor(readonly host: HTMLElement, opts: ViewOptions) {
    const win = host.ownerDocument.defaultView!;
    this.term = new Terminal({
      allowProposedApi: true, // the unicode API is still "proposed" in xterm.js 6
      fontSize: opts.fontSize,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      lineHeight: LINE_HEIGHT.dom,
      screenReaderMode: true,
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
    // OSC 7 (set by fish, zsh and bash with vte.sh at every prompt): where the shell is, so an
    // upload can default to it. Only an absolute path is taken; the host part is not checked.
    const osc7 = this.term.parser.registerOscHandler(7, (data) => {
      this.cwd = cwdFromOsc7(data) ?? this.cwd;
      return true;
    });
    this.disposer.add(() => osc7.dispose());

    const copySelection = debounce(this.disposer, 150, () => {
      if (this.term.hasSelection()) copyText(win, this.term.getSelection());
    });
    const sel = this.term.onSelectionChange(copySelection);
    this.disposer.add(() => sel.dispose());

    this.term.attachCustomKeyEventHandler((ev) => this.onKey(win, ev, opts.commands));
    this.term.open(host);
    void this.loadWebgl();
  }

  get rendererKind(): RendererKind {
    return this.renderer;
  }

  /**
   * Switches to the WebGL renderer when the browser has WebGL2; any failure (no WebGL2, the chunk
   * did not load) leaves the DOM renderer drawing, which is a fallback, not an error.
   */
  private async loadWebgl(): Promise<void> {
    let WebglAddon: typeof import('@xterm/addon-webgl').WebglAddon;
    try {
      ({ WebglAddon } = await import('@xterm/addon-webgl'));
    } catch {
      return;
    }
    if (this.closed) return;
    const addon = new WebglAddon();
    try {
      this.term.loadAddon(addon); // throws when no WebGL2 context can be created
    } catch {
      addon.dispose();
      return;
    }
    // The addon is disposed with the terminal; a lost context hands the drawing back to the DOM.
    const lost = addon.onContextLoss(() => {
      lost.dispose();
      addon.dispose();
      this.setRenderer('dom');
    });
    this.setRenderer('webgl');
  }

  private setRenderer(kind: RendererKind): void {
    this.renderer = kind;
    this.term.options.lineHeight = LINE_HEIGHT[kind];
    this.fit(); // the row count follows the line height; the session sends the new size
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
    if (this.fixed || this.host.offsetParent === null) return;
    this.fitAddon.fit();
  }

  /** From now on the terminal has this size (a watcher follows the owner's), not the window's. */
  setFixedSize(cols: number, rows: number): void {
    this.fixed = { cols, rows };
    if (this.term.cols !== cols || this.term.rows !== rows) this.term.resize(cols, rows);
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

  /**
   * What the screen shows now, as xterm's buffer holds it: the visible rows (right-trimmed), which
   * buffer is active and where the cursor is. Tests compare it before a drop and after a resume.
   */
  screen(): { buffer: 'normal' | 'alternate'; lines: string[]; cursor: { x: number; y: number }; modes: Record<string, string | boolean> } {
    const buf = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = buf.viewportY; y < buf.viewportY + this.term.rows; y++) lines.push(buf.getLine(y)?.translateToString(true) ?? '');
    return { buffer: buf.type, lines, cursor: { x: buf.cursorX, y: buf.cursorY }, modes: { ...this.term.modes } };
  }

  /**
   * Where the last on-screen occurrence of `needle` starts: viewport row (0 = top line on screen)
   * and column, or null. ASCII needles: a column is a string index on lines without wide characters.
   */
  cellOf(needle: string): { row: number; col: number } | null {
    const buf = this.term.buffer.active;
    for (let y = buf.viewportY + this.term.rows - 1; y >= buf.viewportY; y--) {
      const col = buf.getLine(y)?.translateToString(true).lastIndexOf(needle) ?? -1;
      if (col >= 0) return { row: y - buf.viewportY, col };
    }
    return null;
  }

  close(): void {
    this.closed = true;
    this.disposer.dispose();
  }
}
