/**
 * Issue 8 item 11: the exit status is shown when the Exited frame arrives, not when the server's
 * close follows it (which took ~2 s). Timed inside the page, from the frame to the status line,
 * so a loaded machine does not make the test flaky: both stamps are performance.now() in the page.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertNoResidue, hook, openPage, startE2e, typeLine, waitFor, waitForState, waitForText } from './fixture.js';

/** Generous next to the ~2 s the page used to wait, tight next to acting on the frame at once. */
const MAX_FRAME_TO_STATUS_MS = 500;

/**
 * Runs in the page before its own script: stamps the arrival of the Exited frame (msgpack
 * `[3, {...}]` starts 0x92 0x03) before the page's onmessage sees it (listeners added in the
 * constructor run first), and the moment the status line says "exited with code 3". A string,
 * injected by the DevTools protocol, so no DOM types are needed here and the page's CSP is untouched.
 */
const STAMPS = `(() => {
  const stamps = { frameAt: null, statusAt: null, closeAt: null };
  Object.defineProperty(window, '__exitStamps', { value: stamps });
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (ev) => {
        if (!(ev.data instanceof ArrayBuffer)) return;
        const b = new Uint8Array(ev.data);
        if (b[0] === 0x92 && b[1] === 0x03 && stamps.frameAt === null) stamps.frameAt = performance.now();
      });
      this.addEventListener('close', () => { if (stamps.closeAt === null) stamps.closeAt = performance.now(); });
    }
  };
  new MutationObserver(() => {
    const el = document.querySelector('.terminal-panel:not([hidden]) .status-line[data-state="exited"]');
    if (el && /exited with code 3/.test(el.textContent) && stamps.statusAt === null) stamps.statusAt = performance.now();
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
})();`;

interface Stamps {
  frameAt: number | null;
  statusAt: number | null;
  closeAt: number | null;
}

test('exit 3: the status and the tab say so as soon as the Exited frame arrives', async (t) => {
  const e = await startE2e(t);
  const { page, context, errors } = await openPage(t, e);
  await page.addInitScript({ content: STAMPS });
  await page.goto(`${e.gateway.url}/#/default/shell/main`);
  await page.reload(); // the init script applies from the next document on
  await waitForState(page, 'connected');
  await typeLine(page, 'exit 3');
  await waitForState(page, 'exited');
  assert.equal(await hook.status(page), 'exited with code 3');
  assert.equal(await page.locator('.tab[aria-selected="true"]').getAttribute('data-state'), 'exited', 'the tab is marked ended');
  const read = (): Promise<Stamps> => page.evaluate(() => (globalThis as unknown as { __exitStamps: Stamps }).__exitStamps);
  const s = await waitFor('the server close after the frame', read, (v) => v.closeAt !== null);
  assert.ok(s.frameAt !== null && s.statusAt !== null, `stamps: ${JSON.stringify(s)}`);
  const shownMs = s.statusAt - s.frameAt;
  t.diagnostic(`Exited frame -> status ${shownMs.toFixed(1)} ms; frame -> server close ${(s.closeAt! - s.frameAt).toFixed(0)} ms`);
  assert.ok(shownMs >= 0 && shownMs < MAX_FRAME_TO_STATUS_MS, `the status came ${shownMs.toFixed(0)} ms after the Exited frame`);

  // The close that follows adds nothing: one notice in the terminal, the state stays 'exited'.
  await waitForText(page, '[podterm: exited with code 3]');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await hook.text(page)).split('[podterm: ').length - 1, 1, 'one notice, not a second one for the close');
  assert.equal(await hook.state(page), 'exited');
  assert.equal(await hook.status(page), 'exited with code 3');

  // Reconnect right away still works (the old socket, if still ending, is closed quietly).
  await page.click('.terminal-panel:not([hidden]) button.reconnect');
  await waitForState(page, 'connected');
  await typeLine(page, 'echo AGAIN-$((40+2))');
  await waitForText(page, 'AGAIN-42');
  assert.deepEqual(errors, []);
  await context.close();
  await assertNoResidue(e);
});
