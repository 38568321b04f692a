/**
 * Issue 8 item 12: underscores are drawn at the default 14 px, whatever renders the terminal.
 * A pixel check: `a_b__c` and `a b  c` are printed on two rows; the cells that hold `_` in the first
 * row must have ink and the same cells in the second row (spaces) none. Run with WebGL (headless
 * Chromium has it in software, SwiftShader), after the WebGL context is lost (the DOM renderer
 * takes over), and in a Chromium without WebGL. The text stays in xterm's accessibility tree.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { assertNoResidue, cellOf, hook, launchBrowser, openPage, startE2e, typeLine, waitFor, waitForState, waitForText } from './fixture.js';
import type { E2e } from './fixture.js';
import { decodePng, inkPixels } from './png.js';

const WITH = 'a_b__c';
const WITHOUT = 'a b  c';
const UNDERSCORE_CELLS = [1, 3, 4];

/** Ink in one cell, inset by a pixel at the sides so a neighbour's antialiasing does not count. */
async function inkInCell(page: Page, needle: string, offset: number, background: string): Promise<number> {
  const c = await cellOf(page, needle, offset);
  const x = Math.ceil(c.x) + 1;
  const clip = { x, y: Math.round(c.y), width: Math.max(1, Math.floor(c.x + c.width) - 1 - x), height: Math.round(c.height) };
  return inkPixels(decodePng(await page.screenshot({ clip, type: 'png', scale: 'css' })), background);
}

async function checkUnderscores(t: { diagnostic(s: string): void }, page: Page, renderer: string): Promise<void> {
  await typeLine(page, `clear; printf '%s\\n%s\\n' '${WITH}' '${WITHOUT}'`);
  await waitFor('both rows on screen', async () => ({ a: await hook.cellOf(page, WITH), b: await hook.cellOf(page, WITHOUT) }),
    ({ a, b }) => a !== null && b !== null && b.row === a.row + 1);
  await new Promise((r) => setTimeout(r, 200)); // the renderer paints on the next animation frame
  const background = await hook.background(page);
  assert.ok(background);
  const drawn = [];
  const blank = [];
  for (const i of UNDERSCORE_CELLS) {
    drawn.push(await inkInCell(page, WITH, i, background));
    blank.push(await inkInCell(page, WITHOUT, i, background));
  }
  const letters = await inkInCell(page, WITH, 0, background);
  t.diagnostic(`${renderer}: ink in the _ cells ${JSON.stringify(drawn)}, in the same cells of "${WITHOUT}" ${JSON.stringify(blank)}, in "a" ${letters}`);
  assert.ok(letters > 0, 'the letter cell has ink (the measurement finds the row)');
  assert.deepEqual(blank, [0, 0, 0], 'spaces have no ink');
  assert.ok(drawn.every((n) => n > 0), `every underscore is drawn (${renderer}): ${JSON.stringify(drawn)}`);
  // Screen readers (and tests) read the screen from xterm's accessibility tree, not from pixels.
  // xterm refreshes that tree after a render, not with it: wait for it rather than read it once.
  await waitFor(
    'the text in the accessibility tree',
    () => page.locator('.terminal-panel:not([hidden]) .xterm-accessibility-tree').innerText(),
    (tree) => tree.includes(WITH) && tree.includes(WITHOUT),
  );
}

async function openShell(t: Parameters<typeof openPage>[0], e: E2e): Promise<Awaited<ReturnType<typeof openPage>>> {
  const opened = await openPage(t, e);
  await opened.page.goto(`${e.gateway.url}/#/default/shell/main`);
  await waitForState(opened.page, 'connected');
  return opened;
}

test('underscores are drawn at 14 px with every renderer', async (t) => {
  const e = await startE2e(t);

  await t.test('WebGL, then the DOM renderer after the WebGL context is lost', async (t) => {
    const { page, context, errors } = await openShell(t, e);
    assert.equal(await page.locator('#font-size').innerText(), '14px');
    await waitFor('the WebGL renderer', () => hook.renderer(page), (r) => r === 'webgl');
    await checkUnderscores(t, page, 'webgl');

    // WEBGL_lose_context is how a test loses a context on purpose (WebGL spec, section 5.15.2).
    // The add-on waits 3 s for a restore before it gives up; then the DOM renderer draws.
    const lost = await page.locator('.terminal-panel:not([hidden]) .xterm-screen canvas').evaluateAll((canvases) => {
      // getContext returns the canvas's existing context, and null on a canvas that has a 2d one.
      type Gl = { getExtension(n: string): { loseContext(): void } | null };
      const gl = canvases.map((c) => (c as unknown as { getContext(k: string): Gl | null }).getContext('webgl2')).find((g) => g);
      const ext = gl?.getExtension('WEBGL_lose_context');
      ext?.loseContext();
      return Boolean(ext);
    });
    assert.ok(lost, 'the WebGL context was found and lost');
    await waitFor('the DOM renderer', () => hook.renderer(page), (r) => r === 'dom', 10_000);
    await checkUnderscores(t, page, 'dom after context loss');
    await typeLine(page, 'echo STILL-$((6*7))');
    await waitForText(page, 'STILL-42');
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoResidue(e);
  });

  await t.test('a browser without WebGL uses the DOM renderer', async (t) => {
    const browser = await launchBrowser(t, ['--disable-3d-apis']);
    const { page, context, errors } = await openShell(t, { ...e, browser });
    await checkUnderscores(t, page, 'dom without WebGL');
    assert.equal(await hook.renderer(page), 'dom');
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoResidue(e);
  });
});
