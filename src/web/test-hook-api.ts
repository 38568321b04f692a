/**
 * The shape of `window.__podterm`, the page's read-only test hook. Kept free of DOM types so the
 * end-to-end tests (compiled without the DOM library) can import it too.
 */
export interface SessionCounters {
  /** Output bytes handed to the terminal, newlines among them, pause frames sent, bytes not yet parsed. */
  bytes: number;
  newlines: number;
  pauses: number;
  backlog: number;
  /** Resize frames sent in this session (after the size given when connecting). */
  resizes: number;
}

/** The visible rows of a terminal, the active buffer and the cursor (TerminalView.screen()). */
export interface ScreenSnapshot {
  buffer: 'normal' | 'alternate';
  lines: string[];
  cursor: { x: number; y: number };
  /** xterm's public modes (application cursor keys, bracketed paste, mouse tracking, …). */
  modes: Record<string, string | boolean>;
}

export interface PodtermHook {
  activeText(): string;
  /** The active terminal's screen as xterm's buffer holds it (not pixels). */
  activeScreen(): ScreenSnapshot | null;
  activeState(): string | null;
  activeStatus(): string | null;
  activeCounters(): SessionCounters | null;
  activeSize(): { cols: number; rows: number } | null;
  /** The active terminal's theme background, to see it follow prefers-color-scheme. */
  activeBackground(): string | null;
  tabCount(): number;
  /** What draws the active terminal's cells: 'webgl' or 'dom'. */
  activeRenderer(): string | null;
  /** Viewport row (0 = top) and column of the last on-screen `needle`, to point at it on the page. */
  activeCellOf(needle: string): { row: number; col: number } | null;
}

/** How code running in the page reaches the hook. */
export interface HookWindow {
  __podterm: PodtermHook;
}
