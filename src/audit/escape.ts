/**
 * Makes a string safe to put in an audit line that people read in terminals and log viewers: no
 * code point that moves the cursor, rewrites the line, hides or reorders text may reach the log
 * raw. JSON.stringify alone is not enough: it escapes C0 controls but leaves DEL, the C1 controls
 * (U+0080–U+009F, e.g. U+009B CSI), U+2028/U+2029 (line breaks to many viewers, raw in JSON), the
 * bidi overrides (U+202A–U+202E, U+2066–U+2069, "Trojan Source", CVE-2021-42574) and invisible
 * format characters as they are.
 *
 * Escaped (replaced by a visible, reversible escape):
 * - General_Category Cc (C0, DEL, C1), Cf (format: bidi marks and overrides, zero-width
 *   space/joiners, word joiner, BOM, soft hyphen, tag characters), Zl and Zp (U+2028, U+2029),
 *   Cs (lone surrogates: invalid UTF-16 cannot be written as UTF-8 at all);
 * - Default_Ignorable_Code_Point (Hangul fillers U+115F/U+1160/U+3164/U+FFA0, variation selectors,
 *   combining grapheme joiner): they render as nothing;
 * - the backslash itself, so the escaping can be undone exactly (`unescapeText`).
 * Forms: `\xHH` up to U+00FF, `\uHHHH` in the BMP, `\u{HHHHH}` above; `\\` for a backslash.
 */

const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}\\]/gu;
const FORBIDDEN_ONE = /^[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}]$/u;

/** Longest string kept (code units), so one field cannot flood the log. */
export const MAX_FIELD_CHARS = 4096;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function escapeOne(ch: string): string {
  if (ch === '\\') return '\\\\';
  const cp = ch.codePointAt(0)!;
  if (cp <= 0xff) return `\\x${hex(cp, 2)}`;
  if (cp <= 0xffff) return `\\u${hex(cp, 4)}`;
  return `\\u{${hex(cp, 5)}}`;
}

/** True if `cp` must never appear raw in an audit line. */
export function isForbiddenCodePoint(cp: number): boolean {
  return FORBIDDEN_ONE.test(String.fromCodePoint(cp)) || (cp >= 0xd800 && cp <= 0xdfff);
}

/**
 * The escaped form of `s`. Strings longer than `max` code units are cut first and end with a
 * visible `…[+N chars]` (the cut may split a surrogate pair; the half left is then escaped too).
 */
export function escapeText(s: string, max = MAX_FIELD_CHARS): string {
  let cut = '';
  if (s.length > max) {
    cut = `…[+${s.length - max} chars]`;
    s = s.slice(0, max);
  }
  return s.replace(FORBIDDEN, escapeOne) + cut;
}

const ESCAPE = /\\(?:\\|x([0-9a-f]{2})|u\{([0-9a-f]{5,6})\}|u([0-9a-f]{4}))/g;

/** Undoes escapeText (not the cut): for tools and tests reading the log. */
export function unescapeText(s: string): string {
  return s.replace(ESCAPE, (m, x?: string, big?: string, u?: string) => {
    if (m === '\\\\') return '\\';
    const h = x ?? big ?? u!;
    const cp = parseInt(h, 16);
    // A lone surrogate was escaped as one \uHHHH: String.fromCharCode keeps it lone.
    return cp <= 0xffff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
  });
}
