/**
 * The terminal page in a real Chromium against the real gateway and sandbox: picker, typing,
 * resize, exit, deep links, tabs. Screenshots of the picker, a running terminal and an error state
 * go to docs/screenshots/ so readers see the product.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { test } from 'node:test';
import { SCREENSHOT_DIR, assertNoResidue, cellOf, hook, openPage, startE2e, startPageGateway, typeLine, waitFor, waitForState, waitForText } from './fixture.js';

const SHOT = { type: 'png' as const, scale: 'css' as const };

test('terminal page end to end', async (t) => {
  const e = await startE2e(t);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });

  await t.test('picker explains unusable pods, opens a shell that runs a command, and a reload reconnects', async (t) => {
    const { page, context, errors } = await openPage(t, e);
    await page.locator('[data-pod="shell"]').waitFor();
    // A pod that is done and a container in CrashLoopBackOff say why instead of failing silently.
    assert.match(await page.locator('[data-pod="done"]').innerText(), /pod done has phase Succeeded/);
    await page.click('[data-pod="stopped"]');
    assert.match(await page.locator('[data-container="main"]').innerText(), /main is waiting: CrashLoopBackOff/);
    // It stays focusable (aria-disabled, not disabled) so keyboard users reach the reason.
    await page.focus('[data-container="main"]');
    await page.keyboard.press('Enter');
    assert.match(await page.locator('#picker-message').innerText(), /Cannot open a terminal: main is waiting: CrashLoopBackOff/);
    assert.equal(await hook.tabs(page), 0, 'no terminal is opened for a container that is not running');
    await page.screenshot({ ...SHOT, path: SCREENSHOT_DIR + 'picker.png' });
    // The filter box narrows the pod list.
    await page.fill('#pod-filter', 'sh');
    assert.deepEqual(await page.locator('#pod-list [data-pod]').evaluateAll((els) => els.map((b) => b.getAttribute('data-pod'))), ['shell']);

    await page.click('[data-pod="shell"]');
    await page.click('[data-container="main"]');
    await waitForState(page, 'connected');
    assert.match(String(await hook.status(page)), /^Connected to default\/shell\/main · shell$/);
    assert.equal(await hook.title(page), 'shell/main (connected) · podterm');
    assert.equal(new URL(page.url()).hash, '#/default/shell/main');
    await typeLine(page, 'echo "hello from $(hostname)"; ls --color=always /usr; echo ANSWER-$((6*7))');
    await waitForText(page, 'ANSWER-42');
    await page.screenshot({ ...SHOT, path: SCREENSHOT_DIR + 'terminal.png' });

    // The deep link in the address bar survives a reload: a new session in the same place.
    await page.reload();
    await waitForState(page, 'connected');
    assert.equal(await hook.title(page), 'shell/main (connected) · podterm');
    await typeLine(page, 'echo AGAIN-$((7*6))');
    await waitForText(page, 'AGAIN-42');
    await waitFor('one session after the reload', () => e.gateway.stats(), (s) => s.sessionsActive === 1);
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoResidue(e);
  });

  await t.test('resizing the window changes stty size in the pod', async (t) => {
    const { page, context, errors } = await openPage(t, e, { width: 900, height: 560 });
    await page.goto(`${e.gateway.url}/#/default/shell/main`);
    await waitForState(page, 'connected');
    const before = await hook.size(page);
    await typeLine(page, 'echo SIZE-$(stty size)-END');
    await waitForText(page, `SIZE-${before.rows} ${before.cols}-END`);

    // A drag through several sizes sends one resize frame per pause in the drag, not one per size.
    // The debounce is 75 ms: a gap between two sizes longer than that may legitimately send one more.
    const resizes0 = (await hook.counters(page)).resizes;
    const stamps: number[] = [];
    for (const [width, height] of [[860, 540], [800, 500], [740, 460], [680, 420], [620, 380]] as const) {
      stamps.push(Date.now());
      await page.setViewportSize({ width, height });
    }
    const dragMs = Date.now() - stamps[0]!;
    const longGaps = stamps.slice(1).filter((at, i) => at - stamps[i]! >= 60).length;
    // Let the last fit and the debounced frame happen, then read the settled size.
    await new Promise((r) => setTimeout(r, 400));
    const after = await hook.size(page);
    assert.ok(after.cols < before.cols && after.rows < before.rows, `refit from ${JSON.stringify(before)} to ${JSON.stringify(after)}`);
    const sent = (await hook.counters(page)).resizes - resizes0;
    t.diagnostic(`5 viewport sizes in ${dragMs} ms (${longGaps} gaps >= 60 ms) -> ${sent} resize frame(s)`);
    assert.ok(sent >= 1 && sent <= 2 + longGaps, `resize frames sent for one drag: ${sent}`);
    // The resize frame is debounced; ask again until the pod reports the new size.
    await waitFor('stty size to follow', async () => {
      await typeLine(page, 'clear; echo SIZE-$(stty size)-END');
      await new Promise((r) => setTimeout(r, 150));
      return hook.text(page);
    }, (text) => text.includes(`SIZE-${after.rows} ${after.cols}-END`));
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoResidue(e);
  });

  await t.test('exit 5 says "exited with code 5" and Reconnect starts a new session', async (t) => {
    const { page, context, errors } = await openPage(t, e);
    await page.goto(`${e.gateway.url}/#/default/shell/main`);
    await waitForState(page, 'connected');
    await typeLine(page, 'exit 5');
    await waitForState(page, 'exited');
    assert.equal(await hook.status(page), 'exited with code 5');
    await waitForText(page, '[podterm: exited with code 5]');
    assert.equal(await hook.title(page), 'shell/main (exited) · podterm');
    assert.equal(await page.locator('.tab[aria-selected="true"] .tab-state').innerText(), 'exited', 'the tab says the state in words');
    await waitFor('the exited session to be gone', () => e.gateway.stats(), (s) => s.sessionsActive === 0);
    await page.click('.terminal-panel:not([hidden]) button.reconnect');
    await waitForState(page, 'connected');
    await typeLine(page, 'echo BACK-$((40+2))');
    await waitForText(page, 'BACK-42');
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoResidue(e);
  });

  await t.test('a deep link to a stopped container shows why it is not running', async (t) => {
    const { page, context, errors } = await openPage(t, e);
    await page.goto(`${e.gateway.url}/#/default/stopped/main`);
    await waitForState(page, 'failed');
    assert.equal(await hook.status(page), 'main is waiting: CrashLoopBackOff');
    await waitForText(page, '[podterm: main is waiting: CrashLoopBackOff]');
    assert.equal(await hook.title(page), 'stopped/main (failed) · podterm');
    assert.ok(await page.locator('.terminal-panel:not([hidden]) button.reconnect').isVisible());
    await page.screenshot({ ...SHOT, path: SCREENSHOT_DIR + 'error.png' });
    await page.goto(`${e.gateway.url}/#/default/no-such-pod/main`);
    await waitForState(page, 'failed');
    assert.equal(await hook.status(page), 'pod no-such-pod does not exist in namespace default');
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoResidue(e);
  });

  await t.test('two terminals in two tabs at once', async (t) => {
    const { page, context, errors } = await openPage(t, e);
    await page.click('[data-pod="shell"]');
    await page.click('[data-container="main"]');
    await waitForState(page, 'connected');
    await typeLine(page, 'echo ONE-$((1+1))');
    await waitForText(page, 'ONE-2');
    await page.click('#new-terminal');
    await page.click('[data-pod="multi"]');
    await page.click('[data-container="sidecar"]');
    await waitForState(page, 'connected');
    assert.equal(await hook.title(page), 'multi/sidecar (connected) · podterm');
    await typeLine(page, 'echo TWO-$((2+2))');
    await waitForText(page, 'TWO-4');
    assert.equal(await hook.tabs(page), 2);
    await waitFor('two live sessions', () => e.gateway.stats(), (s) => s.sessionsActive === 2);
    assert.deepEqual(await page.locator('.tab-label').allInnerTexts(), ['shell/main', 'multi/sidecar']);
    assert.deepEqual(await page.locator('.tab').evaluateAll((els) => els.map((b) => b.getAttribute('data-state'))), ['connected', 'connected']);

    await page.click('.tab >> text=shell/main');
    assert.equal(new URL(page.url()).hash, '#/default/shell/main');
    assert.ok((await hook.text(page)).includes('ONE-2'));
    assert.ok(!(await hook.text(page)).includes('TWO-4'), 'each tab has its own terminal');
    // The terminal theme follows prefers-color-scheme, live.
    assert.equal(await hook.background(page), '#fbfbfa');
    await page.emulateMedia({ colorScheme: 'dark' });
    await waitFor('the dark theme', () => hook.background(page), (bg) => bg === '#1b1d23');
    await page.screenshot({ ...SHOT, path: SCREENSHOT_DIR + 'tabs-dark.png' });
    await page.click('.tab-close[aria-label="Close shell/main"]');
    assert.equal(await hook.tabs(page), 1);
    await waitFor('one session after closing a tab', () => e.gateway.stats(), (s) => s.sessionsActive === 1);
    // A tab closed at once, while its socket may still be connecting, leaves nothing behind.
    await page.click('#new-terminal');
    await page.click('[data-pod="shell"]');
    await page.click('[data-container="main"]');
    await page.click('.tab-close[aria-label="Close shell/main"]');
    assert.equal(await hook.tabs(page), 1);
    await waitFor('still one session', () => e.gateway.stats(), (s) => s.sessionsActive === 1);
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoResidue(e);
  });

  await t.test('keyboard only; find, font keys, clipboard, confirmed links and a swallowed OSC 52', async (t) => {
    const { page, context, errors } = await openPage(t, e, undefined, ['clipboard-read', 'clipboard-write']);
    await page.locator('[data-pod="shell"]').waitFor();
    const tabTo = async (selector: string): Promise<void> => {
      for (let i = 0; i < 25; i++) {
        await page.keyboard.press('Tab');
        if (await page.locator(selector).evaluate((el) => el === el.ownerDocument.activeElement)) return;
      }
      assert.fail(`Tab never reached ${selector}`);
    };
    await tabTo('[data-pod="shell"]');
    await page.keyboard.press('Enter');
    await tabTo('[data-container="main"]');
    await page.keyboard.press('Enter');
    await waitForState(page, 'connected');
    const focusedInTerminal = (): Promise<boolean> => page.locator('.terminal-panel:not([hidden]) .xterm-helper-textarea')
      .evaluate((el) => el === el.ownerDocument.activeElement);
    assert.ok(await focusedInTerminal(), 'the new terminal has the keyboard');

    // An OSC 52 clipboard read is never answered: nothing comes back on stdin.
    await page.keyboard.type(`printf '\\033]52;c;?\\007'; read -t 1 -r R; echo "OSC-[$R]"`);
    await page.keyboard.press('Enter');
    await waitForText(page, 'OSC-[]');

    // Copy on selection, Ctrl+Shift+C, and Ctrl+Shift+V (the browser's own paste into xterm).
    const clipboard = {
      read: () => page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText()),
      write: (text: string) => page.evaluate((v) => (globalThis as unknown as { navigator: { clipboard: { writeText(v: string): Promise<void> } } }).navigator.clipboard.writeText(v), text),
    };
    // Cells are found through the buffer: the WebGL renderer draws on a canvas, with no rows in the DOM.
    const word = await cellOf(page, 'OSC-[]', 1);
    await page.mouse.dblclick(word.x + word.width / 2, word.y + word.height / 2);
    await waitFor('copy on selection', clipboard.read, (text) => text === 'OSC-');
    await clipboard.write('');
    await page.keyboard.press('Control+Shift+C');
    await waitFor('Ctrl+Shift+C to copy', clipboard.read, (text) => text === 'OSC-');
    await clipboard.write('echo PASTED-$((3*3))');
    await page.keyboard.press('Control+Shift+V');
    await page.keyboard.press('Enter');
    await waitForText(page, 'PASTED-9');

    await page.keyboard.press('Control+Shift+F');
    const search = page.locator('.terminal-panel:not([hidden]) .search-box');
    assert.ok(await search.isVisible());
    await page.keyboard.type('OSC-');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Escape');
    assert.ok(await search.isHidden());
    assert.ok(await focusedInTerminal(), 'Escape gives the keyboard back to the terminal');

    const font = page.locator('#font-size');
    const size0 = Number.parseInt(await font.innerText(), 10);
    await page.keyboard.press('Control+Equal');
    assert.equal(await font.innerText(), `${size0 + 1}px`);
    await page.keyboard.press('Control+Minus');
    assert.equal(await font.innerText(), `${size0}px`);

    // A link the pod prints opens only after confirm(), in a new page without an opener.
    const url = `${e.gateway.url}/healthz`;
    await page.keyboard.type(`echo LINK; echo ${url}`);
    await page.keyboard.press('Enter');
    await waitForText(page, `LINK\n${url}`);
    const cell = await cellOf(page, url, 5);
    const at = { x: cell.x + cell.width / 2, y: cell.y + cell.height / 2 };
    const dialogs: string[] = [];
    page.once('dialog', (d) => void (dialogs.push(d.message()), d.dismiss()));
    await page.mouse.move(at.x, at.y - cell.height);
    await page.mouse.move(at.x, at.y);
    await page.mouse.click(at.x, at.y);
    await waitFor('the confirm dialog', () => dialogs.length, (n) => n === 1);
    assert.match(dialogs[0]!, new RegExp(url.replace(/[.]/g, '\\.')));
    assert.equal(context.pages().length, 1, 'dismissing the confirm opens nothing');
    page.once('dialog', (d) => void d.accept());
    const [popup] = await Promise.all([context.waitForEvent('page'), page.mouse.click(at.x, at.y)]);
    await popup.waitForLoadState();
    assert.equal(popup.url(), url);
    assert.equal(await popup.evaluate(() => (globalThis as unknown as { opener: unknown }).opener), null);
    await popup.close();
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoResidue(e);
  });

  await t.test('readable at 200 % zoom: the layout reflows instead of overflowing', async (t) => {
    const { page, context, errors } = await openPage(t, e, { width: 480, height: 300 });
    await page.locator('[data-pod="shell"]').waitFor();
    const overflow = (): Promise<number> => page.evaluate(() => {
      const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    assert.equal(await overflow(), 0, 'no horizontal scrolling on the picker');
    for (const box of await page.locator('#picker button').evaluateAll((els) => els.map((b) => b.getBoundingClientRect().right))) {
      assert.ok(box <= 480, `a picker button ends at x=${box}`);
    }
    await page.click('[data-pod="shell"]');
    await page.locator('[data-container="main"]').scrollIntoViewIfNeeded();
    await page.click('[data-container="main"]');
    await waitForState(page, 'connected');
    assert.equal(await overflow(), 0, 'no horizontal scrolling with a terminal');
    assert.ok((await hook.size(page)).cols >= 40, 'the terminal keeps a usable width');
    assert.ok(await page.locator('.terminal-panel:not([hidden]) .status-line').isVisible());
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoResidue(e);
  });

  await t.test('an error frame is shown in plain words, and Reconnect recovers', async (t) => {
    // A second gateway over the same sandbox, with a short idle limit, so the server ends the session.
    const gateway = await startPageGateway(t, e.sandbox, { idleTimeoutMs: 1500 });
    const idle = { ...e, gateway };
    const { page, context, errors } = await openPage(t, idle);
    await page.goto(`${gateway.url}/#/default/shell/main`);
    await waitForState(page, 'connected');
    await waitForState(page, 'failed', 8000);
    assert.equal(await hook.status(page), 'The session was closed after a period without input.');
    await waitForText(page, '[podterm: The session was closed after a period without input.]');
    await page.click('.terminal-panel:not([hidden]) button.reconnect');
    await waitForState(page, 'connected');
    await typeLine(page, 'echo ALIVE-$((5*5))');
    await waitForText(page, 'ALIVE-25');
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoResidue(idle);
  });
});
