/**
 * TerminalModes against xterm.js itself: after any prefix of a stream that turns every tracked
 * mode on and then off, a fresh headless xterm fed only prefix() behaves like one fed the stream
 * (same buffer, modes, cursor visibility, scroll region and origin, charset, SGR), and the scan
 * gives the same state however the stream is split into chunks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TerminalModes } from '../../src/actor/terminal-modes.js';
import { feed, newTerminal, screen, type HeadlessTerminal } from './replay-screen.js';

const ON = [
  'hello ', '\x1b[?1h', '\x1b[?2004h', '\x1b[?1000h', '\x1b[?1006h', '\x1b[?1004h', '\x1b[?25l', '\x1b[4h', '\x1b=',
  '\x1b[?7l', '\x1b[5 q', '\x1b[3;20r', '\x1b[?6h', '\x1b(0', 'lqk', '\x1b[1;38;5;196m', 'é中', '\x1b]0;a title\x07',
  '\x1bP+q6b75\x1b\\', '\x1b[?1049h', '\x1b[48;2;0;0;0m', '\x1b[?1002h', '\x1b[?1016h', '\x1b[3m', '\x1b[?1003;1006h',
  '\x1b[38:2::10:20:30m', '\x1b[?9h', '\x1b]11;?\x1b\\', '\x1b[6n', 'tail',
];
const OFF = [
  '\x1b[?1l', '\x1b[?2004l', '\x1b[?1000l', '\x1b[?1006l', '\x1b[?1004l', '\x1b[?25h', '\x1b[4l', '\x1b>', '\x1b[?7h',
  '\x1b[0 q', '\x1b[r', '\x1b[?6l', '\x1b(B', '\x1b[m', '\x1b[?1049l', 'done\r\n', '\x1b[?1047h', '\x1b[1m', '\x1b[0;4m',
  '\x1b[?47l', '\x1b[?1h\x1b[?2004h\x1b[7m', '\x1b[!p', '\x1b[?2004h\x1b[?1049h\x1b[?1000h', '\x1bc', 'after reset',
];
const STREAM = Buffer.from(ON.join('') + OFF.join(''));

function core(term: HeadlessTerminal): { charset: unknown } {
  return { charset: (term as unknown as { _core: { _inputHandler: { _charsetService: { charset: unknown } } } })._core._inputHandler._charsetService.charset };
}

/** What a terminal in a given state does with a probe that shows origin, scroll region, charset and SGR. */
async function probe(term: HeadlessTerminal): Promise<unknown> {
  const s = screen(term);
  const out: unknown[] = [s.buffer, s.modes, s.cursorHidden, core(term).charset];
  for (const p of ['\x1b[1;1H', '\x1b[99;1H', '\n\n\n\n', '\x1b[1;1HZq']) {
    await feed(term, [p]);
    out.push([term.buffer.active.cursorX, term.buffer.active.cursorY]);
  }
  out.push(screen(term).attrs[term.buffer.active.cursorY]?.split('|')[0]);
  return out;
}

test('at every byte boundary where the scan is in ground state, prefix() reproduces what xterm.js did', async () => {
  let checked = 0;
  for (let k = 0; k <= STREAM.length; k++) {
    const m = new TerminalModes();
    m.scan(STREAM, 0, k);
    if (!m.ground) continue;
    const ref = newTerminal(80, 24);
    const fresh = newTerminal(80, 24);
    try {
      await feed(ref, [STREAM.subarray(0, k)]);
      await feed(fresh, [m.prefix()]);
      assert.deepEqual(await probe(fresh), await probe(ref), `after ${JSON.stringify(STREAM.subarray(0, k).toString())}`);
      checked++;
    } finally {
      ref.dispose();
      fresh.dispose();
    }
  }
  assert.ok(checked > 80, `checked ${checked} points`);
});

test('a sequence split across chunks at any byte reads as one', () => {
  const one = new TerminalModes();
  one.scan(STREAM);
  const mid = new TerminalModes();
  mid.scan(STREAM, 0, ON.join('').length);
  assert.notEqual(mid.prefix(), one.prefix(), 'the stream changes state');
  for (let k = 0; k <= STREAM.length; k++) {
    const split = new TerminalModes();
    split.scan(STREAM, 0, k);
    split.scan(STREAM, k, STREAM.length);
    assert.equal(split.prefix(), one.prefix(), `split at ${k}`);
    assert.equal(split.ground, one.ground, `split at ${k}`);
  }
  // One byte at a time, and at every stage equal to the scan of that whole prefix.
  const bytewise = new TerminalModes();
  for (let k = 0; k < STREAM.length; k++) {
    bytewise.scan(STREAM.subarray(k, k + 1));
    const ref = new TerminalModes();
    ref.scan(STREAM, 0, k + 1);
    assert.equal(bytewise.prefix(), ref.prefix(), `byte ${k}`);
    assert.equal(bytewise.ground, ref.ground, `byte ${k}`);
  }
});

test('each mode on and off, alone', async () => {
  const cases: [string, string][] = [
    ['\x1b[?1h', '\x1b[?1l'], ['\x1b[?6h', '\x1b[?6l'], ['\x1b[?7l', '\x1b[?7h'], ['\x1b[?25l', '\x1b[?25h'], ['\x1b[?66h', '\x1b[?66l'],
    ['\x1b[4h', '\x1b[4l'], ['\x1b=', '\x1b>'], ['\x1b[?1004h', '\x1b[?1004l'], ['\x1b[?2004h', '\x1b[?2004l'],
    ['\x1b[?9h', '\x1b[?9l'], ['\x1b[?1000h', '\x1b[?1000l'], ['\x1b[?1002h', '\x1b[?1002l'], ['\x1b[?1003h', '\x1b[?1003l'],
    ['\x1b[?1000h\x1b[?1006h', '\x1b[?1006l\x1b[?1000l'], ['\x1b[?1000h\x1b[?1016h', '\x1b[?1016l\x1b[?1000l'], ['\x1b[?47h', '\x1b[?47l'],
    ['\x1b[?1047h', '\x1b[?1047l'], ['\x1b[?1049h', '\x1b[?1049l'], ['\x1b[2;10r', '\x1b[r'], ['\x1b(0', '\x1b(B'],
    ['\x1b[1;31m', '\x1b[m'], ['\x1b[2 q', '\x1b[ q'],
  ];
  for (const [on, off] of cases) {
    for (const seq of [on, on + off]) {
      const m = new TerminalModes();
      m.scan(Buffer.from(seq));
      assert.equal(m.prefix() === '', seq !== on, `${JSON.stringify(seq)} -> ${JSON.stringify(m.prefix())}`);
      const ref = newTerminal(80, 24), fresh = newTerminal(80, 24);
      try {
        await feed(ref, [seq]);
        await feed(fresh, [m.prefix()]);
        assert.deepEqual(await probe(fresh), await probe(ref), JSON.stringify(seq));
      } finally {
        ref.dispose();
        fresh.dispose();
      }
    }
  }
});

test('the query sink reports exactly the queries, and a clone does not share state', () => {
  const s = Buffer.from('a\x1b[6nb\x1b[>c\x1b[c\x1b[?12$pc\x1b]11;?\x07d\x1b]4;1;?\x1b\\e\x1bP+q6b75\x1b\\f\x1bP$qm\x1b\\' +
    '\x1b[14t\x1b[>q\x1b[?u\x1b[1;2H\x1b]0;t?\x07\x1b[?25l\x1bPzz\x1b\\g');
  const m = new TerminalModes();
  const cuts: string[] = [];
  m.scan(s, 0, s.length, (a, b) => cuts.push(s.subarray(a, b).toString()));
  assert.deepEqual(cuts, ['\x1b[6n', '\x1b[>c', '\x1b[c', '\x1b[?12$p', '\x1b]11;?\x07', '\x1b]4;1;?\x1b\\', '\x1bP+q6b75\x1b\\',
    '\x1bP$qm\x1b\\', '\x1b[14t', '\x1b[>q', '\x1b[?u']);
  const c = m.clone();
  c.scan(Buffer.from('\x1b[?25h\x1b[?1049h'));
  assert.equal(m.prefix(), '\x1b[?25l');
  assert.equal(c.prefix(), '\x1b[?1049h');
});

test('SGR: colour arguments are not resets, and a reset in the middle keeps only what follows', () => {
  const cases: [string, string][] = [
    ['\x1b[38;5;0m', '\x1b[0;38;5;0m'], ['\x1b[1m\x1b[38;2;0;0;0m', '\x1b[0;1;38;2;0;0;0m'], ['\x1b[1;0;4m', '\x1b[0;4m'],
    ['\x1b[1;m', ''], ['\x1b[1m\x1b[0m', ''], ['\x1b[1m\x1b[m', ''], ['\x1b[1mab\x1b[>4;1m', '\x1b[0;1m'], ['\x1b[4:3m', '\x1b[0;4:3m'], ['\x1b[>4;1m', ''],
  ];
  for (const [seq, prefix] of cases) {
    const m = new TerminalModes();
    m.scan(Buffer.from(seq));
    assert.equal(m.prefix(), prefix, JSON.stringify(seq));
  }
});
