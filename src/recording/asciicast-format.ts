/**
 * asciicast v2 lines (asciinema's doc/asciicast-v2.md): a header object on the first line, then one
 * `[time, code, data]` array per line, newline-delimited JSON. Codes used here: `o` output, `i`
 * input, `r` resize (`"COLSxROWS"`), `m` marker (a label). Time is seconds since the start, a float;
 * six decimals is what asciinema itself writes.
 */

export type EventCode = 'o' | 'i' | 'r' | 'm';

export interface AsciicastHeader {
  version: 2;
  width: number;
  height: number;
  /** Unix time of the start, whole seconds (the spec says integer). */
  timestamp: number;
  command: string;
  title: string;
  env: { TERM: string; SHELL: string };
}

export function headerLine(h: AsciicastHeader): string {
  return JSON.stringify(h) + '\n';
}

/**
 * One event line. `data` is a well-formed string (the writer decodes bytes with TextDecoder, which
 * never yields lone surrogates); JSON.stringify escapes C0 controls, `"` and `\`, which is all JSON
 * requires, so asciinema reads back exactly `data`.
 */
export function eventLine(t: number, code: EventCode, data: string): string {
  return `[${t.toFixed(6)}, "${code}", ${JSON.stringify(data)}]\n`;
}

/**
 * One event line as buffers to write in order, whose data is `escaped`: well-formed UTF-8 escaped by
 * escapeJsonBytes, the same bytes eventLine writes for the decoded text.
 */
export function escapedEventLine(t: number, code: EventCode, escaped: readonly Buffer[]): Buffer[] {
  return [Buffer.from(eventLineStart(t, code), 'latin1'), ...escaped, EVENT_LINE_END];
}

/** What comes before an event's escaped data (ASCII), and after it: `[t, "code", "` … `"]\n`. */
export function eventLineStart(t: number, code: EventCode): string {
  return `[${t.toFixed(6)}, "${code}", "`;
}
export const EVENT_LINE_END = Buffer.from('"]\n', 'latin1');

const SAFE_ARG = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** The command as one string for the header (POSIX-shell quoting where an argument needs it). */
export function commandString(argv: readonly string[]): string {
  return argv.map((a) => (SAFE_ARG.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}
