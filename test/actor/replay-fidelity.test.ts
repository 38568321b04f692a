/**
 * Fidelity of the replay against real programs (vim, top, less, an `ls -lR` flood in bash),
 * recorded in a node-pty at test time. The reference is a headless xterm fed the whole stream;
 * the replay is a fresh headless xterm fed only ReplayBuffer.restore() of the same stream, with the
 * ring's cut at many points, including inside escape sequences, DCS/OSC strings and UTF-8
 * characters.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayBuffer, DEFAULT_REPLAY_BYTES } from '../../src/actor/replay-buffer.js';
import { MAX_OUTPUT_CHUNK } from '../../src/protocol/limits.js';
import { captureAll, type Captures } from './replay-scenarios.js';
import type { Capture } from './pty-capture.js';
import { feed, newTerminal, screen, type Screen } from './replay-screen.js';

let caps: Captures;
const reference = new Map<string, { screen: Screen; answers: number; stream: Buffer }>();
const live0 = ReplayBuffer.live;

before(async () => {
  caps = await captureAll();
  for (const c of caps.all) {
    const term = newTerminal(c.cols, c.rows);
    let answers = 0;
    term.onData(() => answers++);
    await feed(term, c.chunks);
    reference.set(c.name, { screen: screen(term), answers, stream: Buffer.concat(c.chunks) });
    term.dispose();
  }
});
after(() => {
  caps?.dispose();
  assert.equal(ReplayBuffer.live, live0, 'every replay buffer closed');
});

/** Appends the capture's chunks as the actor would and returns the replay. */
function replay(c: Capture, capBytes: number): Uint8Array[] {
  const rb = new ReplayBuffer(capBytes);
  try {
    for (const chunk of c.chunks) rb.append(chunk);
    return rb.restore();
  } finally {
    rb.close();
  }
}

async function restoredScreen(c: Capture, capBytes: number): Promise<{ screen: Screen; answers: string[]; frames: Uint8Array[] }> {
  const frames = replay(c, capBytes);
  const term = newTerminal(c.cols, c.rows);
  const answers: string[] = [];
  term.onData((d) => answers.push(d));
  await feed(term, frames);
  const s = screen(term);
  term.dispose();
  return { screen: s, answers, frames };
}

/** Bytes needed at the end of the stream to hold the size nudge's redraw and the last rows+2 lines. */
function minCap(c: Capture, stream: Buffer): number {
  let at = stream.length;
  for (let n = 0; n < c.rows + 2 && at > 0; n++) at = stream.lastIndexOf(0x0a, at - 1);
  return Math.max(c.bytes - c.nudgeAt, stream.length - Math.max(at, 0));
}

/** Cut offsets in [0, maxCut]: spread evenly, plus cuts inside CSI, DCS/OSC strings and UTF-8 characters. */
function cutPoints(stream: Buffer, maxCut: number, even: number): { cut: number; kind: string }[] {
  const cuts: { cut: number; kind: string }[] = [];
  for (let k = 0; k <= even; k++) cuts.push({ cut: Math.floor((maxCut * k) / even), kind: 'even' });
  const pick = (kind: string, offsets: number[]): void => {
    const inRange = offsets.filter((o) => o > 0 && o <= maxCut);
    for (const o of [inRange[0], inRange[inRange.length >> 1], inRange[inRange.length - 1]]) if (o !== undefined) cuts.push({ cut: o, kind });
  };
  const esc: number[] = [], csi: number[] = [], str: number[] = [], utf8: number[] = [];
  for (let i = 0; i < stream.length - 3; i++) {
    const b = stream[i] as number;
    if (b === 0x1b) {
      esc.push(i + 1);
      const n = stream[i + 1];
      if (n === 0x5b) csi.push(i + 3);
      if (n === 0x5d || n === 0x50) str.push(i + 3);
    } else if (b >= 0xc2 && b <= 0xf4) utf8.push(i + 1 + (b >= 0xe0 ? 1 : 0));
  }
  pick('after ESC', esc); pick('inside CSI', csi); pick('inside DCS/OSC', str); pick('inside UTF-8', utf8);
  return cuts;
}

for (const name of ['vim', 'top', 'less', 'ls']) {
  test(`${name}: after the size nudge, the replay shows the reference screen, whatever the cut`, async () => {
    const c = caps.all.find((x) => x.name === name) as Capture;
    const ref = reference.get(name)!;
    const need = minCap(c, ref.stream);
    const cuts = cutPoints(ref.stream, c.bytes - need, 16);
    if (c.bytes > DEFAULT_REPLAY_BYTES) cuts.push({ cut: c.bytes - DEFAULT_REPLAY_BYTES, kind: 'default cap' });
    for (const { cut, kind } of cuts) {
      const r = await restoredScreen(c, c.bytes - cut);
      const where = `${name}, cut at ${cut} of ${c.bytes} (${kind})`;
      assert.deepEqual(r.screen, ref.screen, where);
      assert.deepEqual(r.answers, [], `${where}: the replay made the terminal answer a query`);
      for (const f of r.frames) assert.ok(f.length > 0 && f.length <= MAX_OUTPUT_CHUNK, `${where}: frame of ${f.length} bytes`);
    }
  });

  test(`${name}: the replay leaves the terminal in the reference's modes at any cut`, async () => {
    const c = caps.all.find((x) => x.name === name) as Capture;
    const ref = reference.get(name)!;
    for (const { cut, kind } of cutPoints(ref.stream, c.bytes - 1, 48)) {
      const r = await restoredScreen(c, c.bytes - cut);
      const where = `${name}, cut at ${cut} of ${c.bytes} (${kind})`;
      assert.equal(r.screen.buffer, ref.screen.buffer, `${where}: buffer`);
      assert.deepEqual(r.screen.modes, ref.screen.modes, `${where}: modes`);
      assert.equal(r.screen.cursorHidden, ref.screen.cursorHidden, `${where}: cursor visibility`);
      assert.deepEqual(r.answers, [], `${where}: the replay made the terminal answer a query`);
    }
  });
}

test('the captures exercise what the replay must handle', () => {
  const vim = reference.get('vim')!;
  assert.ok(vim.answers > 0, 'vim sent queries that a replay must not repeat');
  assert.equal(vim.screen.buffer, 'alternate');
  assert.notEqual(vim.screen.modes.mouseTrackingMode, 'none');
  assert.ok(reference.get('less')!.screen.buffer === 'alternate');
  const ls = caps.all.find((x) => x.name === 'ls')!;
  assert.ok(ls.bytes > DEFAULT_REPLAY_BYTES, `the ls flood (${ls.bytes} bytes) overflows the default ring`);
  for (const c of caps.all) assert.ok(c.bytes - c.nudgeAt > 0 || c.name === 'ls', `${c.name} redrew on the size nudge`);
});
