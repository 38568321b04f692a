/**
 * Flow control in a real browser: `yes` through the real gateway and sandbox must not freeze the
 * tab. While 20 MB stream, a click on the page is handled within a second; every line arrives
 * (counted on the page), the terminal asked the server to pause at least once and to resume.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertNoResidue, hook, openPage, startE2e, typeLine, waitFor, waitForState, waitForText } from './fixture.js';

const BYTES = 20_000_000;
/** `yes` prints "y\n"; the TTY's onlcr turns each "\n" into "\r\n". */
const LINES = BYTES / 2;
const TTY_BYTES = LINES * 3;

test('yes | head -c 20000000 keeps the page responsive and loses nothing', async (t) => {
  const e = await startE2e(t);
  const { page, context, errors } = await openPage(t, e);
  await page.goto(`${e.gateway.url}/#/default/shell/main`);
  await waitForState(page, 'connected');
  await typeLine(page, 'echo READY-$((1+1))');
  await waitForText(page, 'READY-2');
  const before = await hook.counters(page);
  const button = await page.locator('#font-bigger').boundingBox();
  assert.ok(button);

  const started = Date.now();
  await typeLine(page, `yes | head -c ${BYTES}; echo DONE-$((6*7))`);
  await waitFor('output to stream', () => hook.counters(page), (c) => c.bytes - before.bytes > 2_000_000, 20_000);
  // A real mouse click at the button's place, timed from the test: input -> handler -> DOM updated.
  // (page.click would add its own waits for stable frames, which measure the renderer, not us.)
  const fontBefore = await page.locator('#font-size').innerText();
  const clickAt = Date.now();
  await page.mouse.click(button.x + button.width / 2, button.y + button.height / 2);
  await page.waitForFunction((old) => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } })
    .document.getElementById('font-size').textContent !== old, fontBefore, { timeout: 5000, polling: 10 });
  const clickMs = Date.now() - clickAt;
  const mid = await hook.counters(page);
  assert.ok(mid.bytes - before.bytes < TTY_BYTES, 'the click was measured while output was still streaming');
  assert.ok(clickMs < 1000, `a click took ${clickMs} ms to be handled while streaming`);

  await waitForText(page, 'DONE-42', 120_000);
  const seconds = (Date.now() - started) / 1000;
  // The prompt after DONE-42 may still be on its way; it adds no newline.
  const after = await waitFor('the counters to settle', () => hook.counters(page), (c) => c.backlog === 0);
  const lines = after.newlines - before.newlines;
  // The command's own echo ends with one newline, `yes` gives LINES, "DONE-42" one more.
  assert.equal(lines, LINES + 2, `newlines received: ${lines}`);
  assert.ok(after.bytes - before.bytes >= TTY_BYTES + 'DONE-42\r\n'.length);
  assert.ok(after.pauses > 0, 'the page sent pause frames above its high watermark');
  const text = await hook.text(page);
  assert.match(text, /y\ny\nDONE-42\n/, 'the last lines of yes arrive before DONE-42, intact');
  t.diagnostic(`yes: ${(TTY_BYTES / 1e6 / seconds).toFixed(1)} MB/s into xterm (${seconds.toFixed(1)} s), ` +
    `click handled in ${clickMs} ms while streaming, ${after.pauses} pause frames`);
  assert.deepEqual(errors, []);
  await context.close();
  await assertNoResidue(e);
});
