/**
 * OSC 7, "current working directory": `ESC ] 7 ; file://HOST/PATH ST`, PATH percent-encoded
 * (sent by fish, zsh and bash with VTE's vte.sh at every prompt). Pure, for the page and its tests.
 */

const MAX_PATH = 4096;

/** `file://host/p%20ath` -> `/p ath`; null for anything that is not an absolute file URL. */
export function cwdFromOsc7(data: string): string | null {
  const m = /^file:\/\/[^/]*(\/.*)$/s.exec(data);
  if (!m) return null;
  let path: string;
  try {
    path = decodeURIComponent(m[1]!);
  } catch {
    return null; // a bad %-escape
  }
  return path.includes('\0') || path.length > MAX_PATH ? null : path;
}
