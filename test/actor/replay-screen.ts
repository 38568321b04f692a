/**
 * What a headless xterm shows, for comparing a terminal fed a whole stream with one fed only the
 * replay: the active buffer, the visible lines with their colours and attributes, the cursor and
 * the input modes.
 */
import xterm from '@xterm/headless';

const { Terminal } = xterm;
export type HeadlessTerminal = InstanceType<typeof Terminal>;

export interface Screen {
  buffer: 'normal' | 'alternate';
  lines: string[];
  attrs: string[];
  cursor: [number, number];
  cursorHidden: boolean;
  modes: Record<string, unknown>;
}

export function newTerminal(cols: number, rows: number): HeadlessTerminal {
  return new Terminal({ cols, rows, allowProposedApi: true, scrollback: 1000 });
}

/** Writes every chunk and resolves when the terminal has parsed them all. */
export function feed(term: HeadlessTerminal, chunks: Iterable<Uint8Array | string>): Promise<void> {
  for (const c of chunks) term.write(c);
  return new Promise((resolve) => term.write('', resolve));
}

export function screen(term: HeadlessTerminal): Screen {
  const b = term.buffer.active;
  const lines: string[] = [];
  const attrs: string[] = [];
  const cell = b.getNullCell();
  for (let y = 0; y < term.rows; y++) {
    const line = b.getLine(b.baseY + y);
    lines.push(line?.translateToString(true) ?? '');
    let a = '';
    for (let x = 0; line && x < term.cols; x++) {
      line.getCell(x, cell);
      a += `${cell.getFgColorMode()}.${cell.getFgColor()}.${cell.getBgColorMode()}.${cell.getBgColor()}.` +
        `${cell.isBold()}${cell.isItalic()}${cell.isUnderline()}${cell.isInverse()}${cell.isDim()}|`;
    }
    attrs.push(a);
  }
  // xterm.js keeps cursor visibility in its core service only (no public API in 6.0).
  const core = (term as unknown as { _core: { coreService: { isCursorHidden: boolean } } })._core;
  return {
    buffer: b.type, lines, attrs, cursor: [b.cursorX, b.cursorY],
    cursorHidden: core.coreService.isCursorHidden, modes: { ...term.modes },
  };
}
