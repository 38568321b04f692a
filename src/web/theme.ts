/**
 * Light and dark terminal themes that follow `prefers-color-scheme`, as the page's CSS does.
 * The page CSS switches by media query on its own; terminals need their theme object set.
 */
import type { ITheme } from '@xterm/xterm';

export const DARK: ITheme = {
  background: '#1b1d23',
  foreground: '#d8dee9',
  cursor: '#d8dee9',
  selectionBackground: '#4c566a',
};

export const LIGHT: ITheme = {
  background: '#fbfbfa',
  foreground: '#24292f',
  cursor: '#24292f',
  selectionBackground: '#b6d4fe',
  // xterm's default palette is tuned for dark backgrounds; darken the two that vanish on white.
  yellow: '#8a6d00',
  brightYellow: '#9a7b00',
  white: '#6e7781',
  brightWhite: '#57606a',
};

export interface ThemeWatcher {
  readonly current: ITheme;
  onChange(cb: (theme: ITheme) => void): () => void;
  close(): void;
}

export function watchTheme(win: Window): ThemeWatcher {
  const query = win.matchMedia('(prefers-color-scheme: dark)');
  const listeners = new Set<(theme: ITheme) => void>();
  const pick = (): ITheme => (query.matches ? DARK : LIGHT);
  const onMedia = (): void => {
    for (const cb of listeners) cb(pick());
  };
  query.addEventListener('change', onMedia);
  return {
    get current() {
      return pick();
    },
    onChange(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    close() {
      query.removeEventListener('change', onMedia);
      listeners.clear();
    },
  };
}
