/**
 * The few terminal modes a replay must re-create when the replay buffer dropped the bytes that set
 * them: alternate screen (?47/?1047/?1049), cursor keys (DECCKM ?1), keypad (DECKPAM, ?66), origin
 * (?6), autowrap (?7), cursor visibility (?25) and style (DECSCUSR), insert (IRM), mouse tracking
 * (?9/?1000/?1002/?1003) and encoding (?1006/?1015/?1016), focus events (?1004), bracketed paste
 * (?2004), scroll region (DECSTBM), the G0 charset and the SGR attributes in force.
 *
 * A byte-at-a-time VT500-style parser (https://vt100.net/emu/dec_ansi_parser), reduced to what
 * those modes need. It keeps its state across calls, so a sequence split between two chunks at
 * any byte is read as one. Text between sequences is skipped with Buffer#indexOf (memchr): plain
 * output costs next to nothing. Mode semantics follow xterm.js 6 (InputHandler.setModePrivate):
 * one mouse protocol and one mouse encoding, the last set wins, any reset clears it.
 *
 * The same parser, given a sink, reports where each query sequence (DSR, DA, DECRQM, window
 * reports, XTVERSION, DECRQSS, XTGETTCAP, OSC colour queries) starts and ends, so a replay can
 * leave them out: a replayed query would make the browser's xterm answer it into the shell's stdin.
 */

const enum S { Ground, Esc, EscInter, Csi, CsiIgnore, Osc, Str, StrEsc }

const ESC = 0x1b, BEL = 0x07, CAN = 0x18, SUB = 0x1a;
const MAX_PARAMS = 16;
const RAW_MAX = 64;
const SGR_MAX = 128;

// Boolean modes, one bit each, so that a snapshot is a single number.
const enum M {
  AppCursor = 1, Origin = 2, NoWrap = 4, CursorHidden = 8, Insert = 16, AppKeypad = 32, Focus = 64, Paste = 128,
}

/** Called with [start, end) of a complete query sequence inside the buffer being scanned. */
export type QuerySink = (start: number, end: number) => void;

/** CSI finals that never change a tracked mode (so are skipped in place): every final but h l m p q r s u. */
const FAST_SKIP = new Uint8Array(128);
for (let c = 0x40; c <= 0x7e; c++) FAST_SKIP[c] = 'hlmpqrsu'.includes(String.fromCharCode(c)) ? 0 : 1;

/** What DECSC (ESC 7, CSI s, ?1048, ?1049) saves and DECRC restores, less the cursor position. */
interface Saved {
  sgr: Uint8Array;
  g0: number;
}
const NOTHING_SAVED: Saved = { sgr: new Uint8Array(0), g0: 0x42 };

export class TerminalModes {
  #state = S.Ground;
  #seqStart = -1; // where the current sequence began in the buffer being scanned; -1 if in an earlier one
  #prefix = 0; // CSI private marker (< = > ?) or, for strings, the introducer (] P _ ^ X)
  #inter = 0; // last intermediate byte
  readonly #params = new Int32Array(MAX_PARAMS);
  #nParams = 0;
  #raw = new Uint8Array(RAW_MAX); // CSI parameter bytes, for SGR
  #rawLen = 0;

  #flags = 0;
  #alt = 0; // 0, 47, 1047 or 1049
  #mouse = 0; // 0, 9, 1000, 1002 or 1003
  #mouseEnc = 0; // 0, 1006, 1015 or 1016
  #cursorStyle = 0;
  // DECSTBM, 0 = unset. xterm.js keeps one region per buffer and resets the alternate one on leaving it.
  #top = 0;
  #bottom = 0;
  #altTop = 0;
  #altBottom = 0;
  #g0 = 0x42; // 'B' = US ASCII
  #sgr = new Uint8Array(SGR_MAX); // SGR parameters since the last reset, ';'-joined
  #sgrLen = 0;
  // xterm.js saves the cursor per buffer; restoring with nothing saved gives the defaults.
  #savedNormal = NOTHING_SAVED;
  #savedAlt = NOTHING_SAVED;

  /** True when no sequence is in progress: the next byte starts text or a new sequence. */
  get ground(): boolean {
    return this.#state === S.Ground;
  }

  get altScreen(): boolean {
    return this.#alt !== 0;
  }

  /** A copy with the same parser state and modes (the replay settles a copy, never the live one). */
  clone(): TerminalModes {
    const c = new TerminalModes();
    c.#state = this.#state; c.#prefix = this.#prefix; c.#inter = this.#inter;
    c.#params.set(this.#params); c.#nParams = this.#nParams;
    c.#raw.set(this.#raw); c.#rawLen = this.#rawLen;
    c.#flags = this.#flags; c.#alt = this.#alt; c.#mouse = this.#mouse; c.#mouseEnc = this.#mouseEnc;
    c.#cursorStyle = this.#cursorStyle; c.#top = this.#top; c.#bottom = this.#bottom; c.#g0 = this.#g0;
    c.#altTop = this.#altTop; c.#altBottom = this.#altBottom;
    c.#savedNormal = this.#savedNormal; c.#savedAlt = this.#savedAlt; // never mutated, only replaced
    c.#sgr.set(this.#sgr); c.#sgrLen = this.#sgrLen;
    return c;
  }

  /**
   * Reads buf[start, end). With `untilGround`, stops right after the byte that returns the parser
   * to ground (or at once if it is there) and returns that index; otherwise returns `end`.
   */
  scan(buf: Buffer, start = 0, end = buf.length, sink?: QuerySink, untilGround = false): number {
    if (untilGround && this.#state === S.Ground) return start;
    this.#seqStart = -1;
    let i = start;
    while (i < end) {
      const state = this.#state;
      if (state === S.Ground) {
        // Sequences are often a few bytes apart (colours, cursor moves): look there in JS first,
        // as a Buffer#indexOf call costs more than a short loop; memchr for the long stretches.
        let e = i;
        const near = Math.min(end, i + 32);
        while (e < near && buf[e] !== ESC) e++;
        if (e === near) {
          if (near === end) return end;
          e = buf.indexOf(ESC, near);
          if (e < 0 || e >= end) return end;
        }
        if (sink === undefined) {
          const next = this.#fast(buf, e, end);
          if (next > 0) { i = next; continue; }
        }
        this.#seqStart = e;
        this.#state = S.Esc;
        i = e + 1;
        continue;
      }
      const b = buf[i] as number;
      if (state === S.Osc || state === S.Str) {
        // Strings can be long (OSC 52, sixel): jump to the next possible terminator.
        const e = buf.indexOf(ESC, i);
        const stop = e < 0 || e >= end ? end : e;
        if (state === S.Osc) {
          const bel = buf.indexOf(BEL, i);
          if (bel >= 0 && bel < stop) {
            this.#endString(buf, bel + 1, sink);
            i = bel + 1;
            if (untilGround) return i;
            continue;
          }
        }
        if (stop === end) return end;
        this.#state = S.StrEsc;
        i = stop + 1;
        continue;
      }
      i++;
      if (b === CAN || b === SUB) { this.#state = S.Ground; if (untilGround) return i; continue; }
      if (state === S.StrEsc) {
        if (b === 0x5c) { this.#endString(buf, i, sink); if (untilGround) return i; continue; }
        this.#endString(buf, -1, sink); // ESC ended the string; this byte follows that ESC
        this.#seqStart = i - 2 >= start ? i - 2 : -1;
        this.#state = S.Esc;
        // fall through to the Esc handling of b
      } else if (b === ESC) {
        this.#seqStart = i - 1;
        this.#state = S.Esc;
        continue;
      }
      switch (this.#state) {
        case S.Esc: this.#esc(b); break;
        case S.EscInter:
          if (b >= 0x20 && b <= 0x2f) break;
          if (b >= 0x30 && b <= 0x7e) this.#escDispatch(b);
          if (b >= 0x20) this.#state = S.Ground; // C0 controls execute inside a sequence
          break;
        case S.Csi: this.#csi(b, buf, i, sink); break;
        case S.CsiIgnore: if (b >= 0x40 && b <= 0x7e) this.#state = S.Ground; break;
      }
      if (untilGround && this.#state === S.Ground) return i;
    }
    return end;
  }

  /**
   * The common sequences of a flood, read in place when whole in this buffer: a CSI that cannot
   * change a tracked mode (cursor moves, erases) is skipped, an SGR is read straight from the
   * buffer, ESC ( B sets G0. Returns the index after the sequence, or 0 for the byte-wise path.
   */
  #fast(buf: Buffer, e: number, end: number): number {
    const n = buf[e + 1];
    if (n === 0x28) { // ESC ( F
      const f = buf[e + 2];
      if (f === undefined || e + 2 >= end || f < 0x30 || f > 0x7e) return 0;
      this.#g0 = f;
      return e + 3;
    }
    if (n !== 0x5b || e + 2 >= end) return 0;
    let j = e + 2;
    let c = buf[j] as number;
    while (c >= 0x30 && c <= 0x3f && ++j < end) c = buf[j] as number;
    if (j >= end || c < 0x40 || c > 0x7e) return 0; // intermediates, controls, or cut off: byte-wise
    if (FAST_SKIP[c] === 1) return j + 1;
    if (c !== 0x6d) return 0; // h l r s u and friends: byte-wise
    const len = j - e - 2;
    const first = buf[e + 2] as number;
    if (len > 0 && first >= 0x3c) return j + 1; // CSI > ... m and the like are not SGR
    if (len > RAW_MAX) return 0;
    if (len === 0 || (len === 1 && first === 0x30)) { this.#sgrLen = 0; return j + 1; }
    for (let k = 0; k < len; k++) this.#raw[k] = buf[e + 2 + k] as number;
    this.#rawLen = len;
    this.#sgrDispatch();
    return j + 1;
  }

  #esc(b: number): void {
    switch (b) {
      case 0x5b: // [
        this.#state = S.Csi; this.#prefix = 0; this.#inter = 0; this.#nParams = 0; this.#params[0] = -1; this.#rawLen = 0;
        return;
      case 0x5d: case 0x50: case 0x5f: case 0x5e: case 0x58: // ] P _ ^ X
        this.#state = b === 0x5d ? S.Osc : S.Str; this.#prefix = b;
        return;
    }
    if (b >= 0x20 && b <= 0x2f) { this.#state = S.EscInter; this.#inter = b; return; }
    if (b < 0x20) return; // a C0 control inside ESC executes; still in ESC
    this.#state = S.Ground;
    if (b === 0x63) this.#reset(); // RIS
    else if (b === 0x3d) this.#flags |= M.AppKeypad; // DECKPAM
    else if (b === 0x3e) this.#flags &= ~M.AppKeypad; // DECKPNM
    else if (b === 0x37) this.#save(this.#alt !== 0); // DECSC
    else if (b === 0x38) this.#restore(this.#alt !== 0); // DECRC
  }

  #escDispatch(final: number): void {
    if (this.#inter === 0x28) this.#g0 = final; // ESC ( F designates G0
  }

  #csi(b: number, buf: Buffer, i: number, sink: QuerySink | undefined): void {
    if (b >= 0x30 && b <= 0x3b) { // digits, ':' and ';'
      if (this.#inter !== 0) { this.#state = S.CsiIgnore; return; }
      if (this.#rawLen < RAW_MAX) this.#raw[this.#rawLen] = b;
      this.#rawLen++;
      const n = this.#nParams;
      if (b <= 0x39) {
        const cur = this.#params[n] as number;
        this.#params[n] = Math.min((cur < 0 ? 0 : cur) * 10 + b - 0x30, 0xffff);
      } else if (b === 0x3b && n + 1 < MAX_PARAMS) {
        this.#nParams = n + 1;
        this.#params[n + 1] = -1;
      }
      return;
    }
    if (b >= 0x3c && b <= 0x3f) { // private marker, only first
      if (this.#rawLen > 0 || this.#prefix !== 0 || this.#inter !== 0) this.#state = S.CsiIgnore;
      else this.#prefix = b;
      return;
    }
    if (b >= 0x20 && b <= 0x2f) { this.#inter = b; return; }
    if (b < 0x20) return; // C0 control inside CSI executes
    this.#state = S.Ground;
    if (b > 0x7e) return;
    const count = this.#nParams + 1;
    if (sink && this.#seqStart >= 0 && this.#isQuery(b)) sink(this.#seqStart, i);
    if (this.#inter === 0 && (b === 0x68 || b === 0x6c)) { // h, l: SM/RM, DECSET/DECRST
      for (let k = 0; k < count; k++) this.#setMode(this.#params[k] as number, b === 0x68);
    } else if (this.#inter === 0 && this.#prefix === 0) {
      if (b === 0x6d) this.#sgrDispatch(); // m
      else if (b === 0x72) { // r: DECSTBM
        const t = this.#params[0] as number, bo = count > 1 ? this.#params[1] as number : -1;
        this.#setRegion(t > 0 ? t : 0, bo > 0 ? bo : 0);
      } else if (b === 0x73) this.#save(this.#alt !== 0); // s: SCOSC
      else if (b === 0x75) this.#restore(this.#alt !== 0); // u: SCORC

    } else if (this.#inter === 0x20 && b === 0x71 && this.#prefix === 0) { // SP q: DECSCUSR
      const p = this.#params[0] as number;
      this.#cursorStyle = p > 0 ? p : 0;
    } else if (this.#inter === 0x21 && b === 0x70) this.#softReset(); // ! p: DECSTR
  }

  #isQuery(final: number): boolean {
    const pre = this.#prefix, inter = this.#inter;
    if (inter === 0x24) return final === 0x70; // $ p: DECRQM
    if (inter !== 0) return false;
    switch (final) {
      case 0x6e: return pre === 0 || pre === 0x3f; // n: DSR
      case 0x63: return pre === 0 || pre === 0x3e || pre === 0x3d; // c: DA1, DA2, DA3
      case 0x74: return pre === 0; // t: window operations and reports
      case 0x71: return pre === 0x3e; // > q: XTVERSION
      case 0x75: return pre === 0x3f; // ? u: kitty keyboard flags query
      case 0x78: return pre === 0; // x: DECREQTPARM
      default: return false;
    }
  }

  #setMode(p: number, on: boolean): void {
    if (this.#prefix === 0) {
      if (p === 4) this.#flag(M.Insert, on);
      return;
    }
    if (this.#prefix !== 0x3f) return;
    switch (p) {
      case 1: this.#flag(M.AppCursor, on); break;
      case 6: this.#flag(M.Origin, on); break;
      case 7: this.#flag(M.NoWrap, !on); break;
      case 25: this.#flag(M.CursorHidden, !on); break;
      case 66: this.#flag(M.AppKeypad, on); break;
      case 1004: this.#flag(M.Focus, on); break;
      case 2004: this.#flag(M.Paste, on); break;
      case 9: case 1000: case 1002: case 1003: this.#mouse = on ? p : 0; break;
      case 1006: case 1015: case 1016: this.#mouseEnc = on ? p : 0; break;
      case 1048: if (on) this.#save(this.#alt !== 0); else this.#restore(this.#alt !== 0); break;
      case 47: case 1047: case 1049:
        if (on) {
          if (p === 1049) this.#save(this.#alt !== 0);
          if (this.#alt === 0) this.#alt = p;
        } else {
          this.#alt = 0; this.#altTop = 0; this.#altBottom = 0;
          if (p === 1049) this.#restore(false);
        }
        break;
    }
  }

  #save(alt: boolean): void {
    const s: Saved = { sgr: this.#sgr.slice(0, this.#sgrLen), g0: this.#g0 };
    if (alt) this.#savedAlt = s; else this.#savedNormal = s;
  }

  #restore(alt: boolean): void {
    const s = alt ? this.#savedAlt : this.#savedNormal;
    this.#sgr.set(s.sgr);
    this.#sgrLen = s.sgr.length;
    this.#g0 = s.g0;
  }

  #setRegion(top: number, bottom: number): void {
    if (this.#alt !== 0) { this.#altTop = top; this.#altBottom = bottom; } else { this.#top = top; this.#bottom = bottom; }
  }

  #flag(bit: number, on: boolean): void {
    this.#flags = on ? this.#flags | bit : this.#flags & ~bit;
  }

  /**
   * SGR is cumulative, so keep the parameters since the last reset (0 or an empty parameter). The
   * 0 inside 38;5;0 or 38;2;0;0;0 is a colour, not a reset: those arguments are skipped.
   */
  #sgrDispatch(): void {
    if (this.#rawLen > RAW_MAX) { this.#sgrLen = 0; return; } // too long to keep: lossy, drop to default
    const raw = this.#raw, len = this.#rawLen;
    let keepFrom = 0; // raw offset after the last reset parameter
    let tok = 0, skip = 0;
    while (tok <= len) {
      let e = tok;
      let value = 0, empty = true, colon = false;
      while (e < len && raw[e] !== 0x3b) {
        const c = raw[e] as number;
        if (c === 0x3a) colon = true;
        else if (!colon) { value = value * 10 + c - 0x30; empty = false; }
        e++;
      }
      if (skip > 0) skip--;
      else if (empty || value === 0) keepFrom = e + 1;
      else if (!colon && (value === 38 || value === 48 || value === 58)) {
        const next = e + 1 < len ? (raw[e + 1] as number) : 0;
        skip = next === 0x35 ? 2 : next === 0x32 ? 4 : 0; // ;5;n or ;2;r;g;b
      }
      tok = e + 1;
    }
    if (keepFrom >= len) { this.#sgrLen = 0; return; }
    const add = len - keepFrom;
    if (keepFrom === 0 && this.#sgrLen > 0 && this.#sgrLen + 1 + add <= SGR_MAX) {
      this.#sgr[this.#sgrLen++] = 0x3b;
    } else if (keepFrom > 0 || this.#sgrLen + 1 + add > SGR_MAX) {
      this.#sgrLen = 0; // a reset inside, or too much accumulated: start again from this one (lossy at worst)
    }
    for (let k = keepFrom, w = this.#sgrLen; k < len; k++, w++) this.#sgr[w] = raw[k] as number; // no view allocated
    this.#sgrLen += add;
  }

  #endString(buf: Buffer, end: number, sink: QuerySink | undefined): void {
    const start = this.#seqStart;
    this.#state = S.Ground;
    if (!sink || start < 0 || end < 0) return;
    if (this.#prefix === 0x5d) {
      // OSC Ps ; ... ; ? (4, 10-19 colour queries, 52 clipboard query): the payload ends in ";?".
      let last = end - 1;
      if (buf[last] === 0x5c) last--; // ESC \
      last--; // the terminator (BEL or ESC)
      if (buf[last] === 0x3f && buf[last - 1] === 0x3b) sink(start, end);
    } else if (this.#prefix === 0x50) {
      // DCS $ q (DECRQSS), DCS + q (XTGETTCAP): after optional numeric parameters.
      let k = start + 2;
      while (k < end && ((buf[k] as number) >= 0x30 && (buf[k] as number) <= 0x3b)) k++;
      if ((buf[k] === 0x24 || buf[k] === 0x2b) && buf[k + 1] === 0x71) sink(start, end);
    }
  }

  /** DECSTR as xterm.js does it (InputHandler.softReset): every flag here, not mouse or buffer. */
  #softReset(): void {
    this.#flags = 0; this.#cursorStyle = 0;
    this.#setRegion(0, 0);
    this.#g0 = 0x42; this.#sgrLen = 0;
    if (this.#alt !== 0) this.#savedAlt = NOTHING_SAVED; else this.#savedNormal = NOTHING_SAVED;
  }

  #reset(): void {
    this.#softReset();
    this.#alt = 0; this.#mouse = 0; this.#mouseEnc = 0;
    this.#top = 0; this.#bottom = 0; this.#altTop = 0; this.#altBottom = 0;
    this.#savedNormal = NOTHING_SAVED; this.#savedAlt = NOTHING_SAVED;
  }

  /** The sequences that put a freshly reset terminal into these modes ('' when all are default). */
  prefix(): string {
    let s = '';
    const f = this.#flags;
    const saved = (v: Saved): string => v.sgr.length === 0 && v.g0 === 0x42 ? '' : `${sgr(v.sgr)}\x1b(${String.fromCharCode(v.g0)}\x1b7`;
    s += saved(this.#savedNormal);
    if (this.#top !== 0 || this.#bottom !== 0) s += `\x1b[${this.#top || 1};${this.#bottom || ''}r`;
    if (this.#alt !== 0) s += `\x1b[?${this.#alt}h`;
    if (this.#altTop !== 0 || this.#altBottom !== 0) s += `\x1b[${this.#altTop || 1};${this.#altBottom || ''}r`;
    if (this.#alt !== 0) s += saved(this.#savedAlt);
    if (f & M.Origin) s += '\x1b[?6h';
    if (f & M.NoWrap) s += '\x1b[?7l';
    if (f & M.Insert) s += '\x1b[4h';
    if (f & M.AppCursor) s += '\x1b[?1h';
    if (f & M.AppKeypad) s += '\x1b=';
    if (f & M.CursorHidden) s += '\x1b[?25l';
    if (this.#cursorStyle !== 0) s += `\x1b[${this.#cursorStyle} q`;
    if (this.#mouse !== 0) s += `\x1b[?${this.#mouse}h`;
    if (this.#mouseEnc !== 0) s += `\x1b[?${this.#mouseEnc}h`;
    if (f & M.Focus) s += '\x1b[?1004h';
    if (f & M.Paste) s += '\x1b[?2004h';
    if (this.#g0 !== 0x42 || s.includes('\x1b7')) s += `\x1b(${String.fromCharCode(this.#g0)}`;
    if (this.#sgrLen > 0 || s.includes('\x1b7')) s += sgr(this.#sgr.subarray(0, this.#sgrLen));
    return s;
  }
}

function sgr(params: Uint8Array): string {
  return params.length === 0 ? '\x1b[m' : `\x1b[0;${Buffer.from(params).toString('latin1')}m`;
}
