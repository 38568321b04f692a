/**
 * Resume into full-screen programs (issue 10, "Tests": "Resume into vim and top (in Chromium): the
 * screen text after resume equals the text before the drop (compare xterm's buffer lines, not
 * pixels)"). Real vim and top run in the sandbox's shell; the drop is a page reload (its socket
 * closes with 1001, which detaches); the reloaded page resumes into a fresh xterm, which gets a
 * reset, the replay (src/actor/replay-buffer.ts: the modes at the cut, then the ring) and the
 * size nudge after which the program redraws.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { startSandbox } from '../../src/sandbox/index.js';
import type { ScreenSnapshot } from '../../src/web/test-hook-api.js';
import { assertNoResidue, hook, launchBrowser, openPage, startPageGateway, typeLine, waitFor, waitForState, type E2e } from './fixture.js';

/** The screen once it stopped changing for `quietMs` (polled every 100 ms). */
async function settled(p: Page, what: string, ok: (s: ScreenSnapshot) => boolean, quietMs = 800, timeoutMs = 15_000): Promise<ScreenSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let since = Date.now();
  for (;;) {
    const s = await hook.screen(p);
    const key = JSON.stringify(s);
    if (key !== last) {
      last = key;
      since = Date.now();
    } else if (ok(s) && Date.now() - since >= quietMs) {
      return s;
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what} to settle; last screen:\n${s.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function start(t: TestContext, replayBytes?: number): Promise<{ e: E2e; page: Page }> {
  const sandbox = await startSandbox({ host: '127.0.0.1', port: 0 });
  t.after(() => sandbox.close());
  const gateway = await startPageGateway(t, sandbox, { detachGraceMs: 30_000, ...(replayBytes ? { replayBytes } : {}) });
  const browser = await launchBrowser(t);
  const e: E2e = { sandbox, gateway, browser };
  const { page } = await openPage(t, e);
  await page.goto(`${gateway.url}/#/default/shell/main`);
  await waitForState(page, 'connected');
  return { e, page };
}

/** Reload the page (the socket closes with 1001: a drop, not an end) and wait for the resumed tab. */
async function dropAndResume(e: E2e, page: Page): Promise<void> {
  await page.reload();
  await waitFor('the tab back', () => hook.tabs(page), (n) => n === 1);
  await waitForState(page, 'connected');
  assert.equal((await e.gateway.stats()).sessionsActive, 1, 'resumed, not a new session');
}

/** Leave the program, check the shell is there, close the tab (×: ends the session), no residue. */
async function finish(e: E2e, page: Page, quit: string): Promise<void> {
  await page.keyboard.type(quit);
  await settled(page, 'the shell prompt', (s) => s.buffer === 'normal');
  await typeLine(page, 'echo BACK-IN-SHELL');
  await waitFor('the shell to answer', async () => (await hook.screen(page)).lines, (l) => l.some((x) => x === 'BACK-IN-SHELL'));
  await page.click('.tab-close');
  await assertNoResidue(e);
}

/**
 * vim on a file with known lines, moved off the origin and edited. `replayBytes`: with a ring
 * smaller than what vim drew, the bytes that entered the alternate screen and set its modes are
 * cut, so the replay must re-create them (terminal-modes.ts) before vim's redraw.
 */
async function vimCase(t: TestContext, replayBytes?: number): Promise<void> {
  const { e, page } = await start(t, replayBytes);
  // A file with known lines; --clean: no vimrc or plugins (the same vim everywhere); -n: no swap file.
  await typeLine(page, "f=$(mktemp /tmp/podterm-vim.XXXXXX); for i in $(seq 1 40); do echo \"line $i of the known file, long enough to fill a good part of the row\"; done > $f; vim --clean -n $f; rm -f $f");
  await settled(page, 'vim', (s) => s.buffer === 'alternate' && s.lines[4] === 'line 5 of the known file, long enough to fill a good part of the row');
  // Move off the origin and leave a mark in the text, so the cursor and an edit must come back too.
  await page.keyboard.type('jjwwcwEDITED');
  await page.keyboard.press('Escape');
  // Full redraws, so that a small ring has dropped vim's start (the ?1049h and the modes) by now.
  for (let i = 0; i < 6; i++) await page.keyboard.type(':redraw!\r');
  const before = await settled(page, 'vim after the edit', (s) => s.lines[2] === 'line 3 EDITED the known file, long enough to fill a good part of the row');

  await dropAndResume(e, page);
  const after = await settled(page, 'vim after the resume', (s) => s.buffer === 'alternate' && s.lines.some((l) => l.includes('EDITED')));
  assert.deepEqual(after.lines, before.lines, 'the screen text');
  assert.equal(after.buffer, 'alternate');
  assert.deepEqual(after.cursor, before.cursor, 'the cursor');
  assert.deepEqual(after.modes, before.modes, 'the terminal modes (cursor keys, keypad, paste, mouse)');

  // Still the same vim: it takes keys after the resume.
  await page.keyboard.type('ggdd');
  await settled(page, 'vim after dd', (s) => s.lines[0] === 'line 2 of the known file, long enough to fill a good part of the row');
  await finish(e, page, ':q!\r');
}

test('resume into vim: the same screen lines, cursor, buffer and modes as before the drop', (t) => vimCase(t));

test('resume into vim with a 4 KiB ring (vim\'s start cut): the same screen, buffer, cursor and modes', (t) => vimCase(t, 4096));

/** top's header lines with every number blanked: what stays put while the values change. */
function skeleton(line: string): string {
  return line.replace(/\d+([.:,]\d+)*/g, '#').replace(/\s+/g, ' ').trim();
}

/**
 * What of top's screen does not change between frames: the buffer, the screen size, the row of the
 * column headers and their text, and the header lines' labels (numbers blanked). null: not a whole
 * frame of top (a read between its writes).
 */
function staticParts(s: ScreenSnapshot): { buffer: string; rows: number; headerRow: number; columns: string; labels: string[] } | null {
  const headerRow = s.lines.findIndex((l) => /^\s*PID\s+USER\b/.test(l));
  if (headerRow < 5 || !/^top - .*load average:/.test(s.lines[0]!) || !s.lines.some((l) => l.startsWith('MiB Swap:'))) return null;
  return { buffer: s.buffer, rows: s.lines.length, headerRow, columns: s.lines[headerRow]!.trimEnd(), labels: s.lines.slice(1, headerRow).map(skeleton) };
}

/**
 * procps-ng top does not switch to the alternate screen (it clears the normal one and homes the
 * cursor each frame): the test checks the buffer is the same one before and after, whichever.
 */
test('resume into top: the same buffer and layout, header labels and column headers', async (t) => {
  const { e, page } = await start(t);
  await typeLine(page, 'top -d 1');
  const before = await waitFor('a whole frame of top', () => hook.screen(page), (s) => staticParts(s) !== null, 15_000);
  await new Promise((r) => setTimeout(r, 1500)); // a refresh or two
  const expected = staticParts(await waitFor('a whole frame of top', () => hook.screen(page), (s) => staticParts(s) !== null))!;
  assert.equal(expected.buffer, before.buffer);

  await dropAndResume(e, page);
  // top redraws every second and on the size nudge; a read may land in the middle of a frame, so
  // wait (bounded) for a frame whose static parts match, and show the difference if none does.
  const key = (s: ScreenSnapshot): string => JSON.stringify(staticParts(s));
  const after = await waitFor('top after the resume', () => hook.screen(page), (s) => key(s) === JSON.stringify(expected), 15_000).catch(async () => hook.screen(page));
  assert.deepEqual(staticParts(after), expected, 'the static parts of top\'s screen');
  // Every row below the column headers is a process row or blank (nothing left over from the replay).
  const rows = after.lines.slice(expected.headerRow + 1).filter((l) => l.trim() !== '');
  assert.ok(rows.length > 0, 'process rows');
  for (const r of rows) assert.match(r, /^\s*\d+\s+\S+\s+/, `a process row: ${r}`);
  await finish(e, page, 'q');
});
