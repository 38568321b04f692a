/**
 * A read-only window into the page for the end-to-end tests (and for anyone debugging in the
 * console): terminal text and counters. It can read what the page shows but cannot send input.
 */
import type { App } from './app.js';
import type { PodtermHook } from './test-hook-api.js';

export function installTestHook(win: Window, app: App): void {
  const hook: PodtermHook = {
    activeText: () => app.activeSession()?.view.text() ?? '',
    activeScreen: () => app.activeSession()?.view.screen() ?? null,
    activeState: () => app.activeSession()?.state ?? null,
    activeStatus: () => app.activeSession()?.statusText ?? null,
    activeCounters: () => app.activeSession()?.counters ?? null,
    activeSize: () => {
      const t = app.activeSession()?.view.term;
      return t ? { cols: t.cols, rows: t.rows } : null;
    },
    activeBackground: () => app.activeSession()?.view.term.options.theme?.background ?? null,
    tabCount: () => app.sessions.size,
    activeRenderer: () => app.activeSession()?.view.rendererKind ?? null,
    activeCellOf: (needle) => app.activeSession()?.view.cellOf(needle) ?? null,
  };
  Object.defineProperty(win, '__podterm', { value: Object.freeze(hook) });
}
