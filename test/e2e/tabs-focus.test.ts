/**
 * Issue 8 item 13 in a real Chromium: the font buttons give the keyboard back to the terminal; the
 * tab strip keeps the active tab in view; tabs that would look alike across namespaces say which
 * namespace; `#/ns/pod` opens the pod's default container.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { DEFAULT_INVENTORY } from '../../src/sandbox/index.js';
import type { Inventory } from '../../src/sandbox/index.js';
import { assertNoResidue, hook, openPage, startE2e, typeLine, waitFor, waitForState, waitForText } from './fixture.js';

const main = { name: 'main', image: 'sandbox/host-shell', state: 'running', target: 'process' } as const;
/** The default pods plus a second `shell` in another namespace, and a pod whose default container is not its first. */
const INVENTORY: Inventory = {
  ...DEFAULT_INVENTORY,
  namespaces: [...DEFAULT_INVENTORY.namespaces, {
    name: 'team-b',
    pods: [
      { name: 'shell', phase: 'Running', annotations: {}, labels: {}, containers: [main] },
      {
        name: 'duo', phase: 'Running', annotations: { 'kubectl.kubernetes.io/default-container': 'second' }, labels: {},
        containers: [{ ...main, name: 'first' }, { ...main, name: 'second' }],
      },
    ],
  }],
};

/** The active tab lies inside the visible part of the strip (1 px of rounding allowed). */
async function activeTabInView(page: Page): Promise<{ inView: boolean; overflows: boolean; scrollLeft: number }> {
  return page.evaluate(() => {
    interface El { scrollWidth: number; clientWidth: number; scrollLeft: number; getBoundingClientRect(): { left: number; right: number } }
    const doc = (globalThis as unknown as { document: { querySelector(s: string): El } }).document;
    const strip = doc.querySelector('nav.tabs');
    const s = strip.getBoundingClientRect();
    const r = doc.querySelector('.tab-item:has(.tab[aria-selected="true"])').getBoundingClientRect();
    return { inView: r.left >= s.left - 1 && r.right <= s.right + 1, overflows: strip.scrollWidth > strip.clientWidth, scrollLeft: strip.scrollLeft };
  });
}

async function openFromPicker(page: Page, pod: string, container: string): Promise<void> {
  await page.click('#new-terminal');
  await page.click(`[data-pod="${pod}"]`);
  await page.click(`[data-container="${container}"]`);
}

test('tabs, focus and deep links', async (t) => {
  const e = await startE2e(t, INVENTORY);

  await t.test('after clicking A+, typed text reaches the terminal, not the button', async (t) => {
    const { page, context, errors } = await openPage(t, e);
    await page.goto(`${e.gateway.url}/#/default/shell/main`);
    await waitForState(page, 'connected');
    const size0 = Number.parseInt(await page.locator('#font-size').innerText(), 10);
    await page.click('#font-bigger');
    assert.equal(await page.locator('#font-size').innerText(), `${size0 + 1}px`);
    // No click into the terminal first: the keys go wherever the focus was left.
    await page.keyboard.type('echo hi-$((2+3))');
    await page.keyboard.press('Enter');
    await waitForText(page, 'hi-5');
    assert.equal(await page.locator('#font-size').innerText(), `${size0 + 1}px`, 'Space and Enter did not press A+ again');
    await page.click('#font-smaller');
    await page.keyboard.type('echo lo-$((3+4))');
    await page.keyboard.press('Enter');
    await waitForText(page, 'lo-7');
    assert.equal(await page.locator('#font-size').innerText(), `${size0}px`);
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoResidue(e);
  });

  await t.test('with 12 tabs the strip scrolls and the active tab stays in view', async (t) => {
    const { page, context, errors } = await openPage(t, e);
    await page.locator('[data-pod="shell"]').waitFor();
    await page.click('[data-pod="multi"]');
    await page.click('[data-container="sidecar"]');
    for (let i = 2; i <= 12; i++) {
      await openFromPicker(page, 'shell', 'main');
      const v = await activeTabInView(page);
      assert.ok(v.inView, `tab ${i}, just opened, is in view: ${JSON.stringify(v)}`);
    }
    assert.equal(await hook.tabs(page), 12);
    const last = await activeTabInView(page);
    assert.ok(last.overflows && last.scrollLeft > 0, `12 tabs overflow the strip, which scrolled: ${JSON.stringify(last)}`);
    // A deep link to the first tab's target switches to it: the strip scrolls back to show it.
    await page.goto(`${e.gateway.url}/#/default/multi/sidecar`);
    await waitFor('the first tab to be active', () => hook.title(page), (title) => title.startsWith('multi/sidecar'));
    const first = await activeTabInView(page);
    assert.ok(first.inView && first.scrollLeft < last.scrollLeft, `the first tab is back in view: ${JSON.stringify(first)}`);
    await waitFor('12 live sessions', () => e.gateway.stats(), (s) => s.sessionsActive === 12, 20_000);
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoResidue(e);
  });

  await t.test('two shell/main tabs in two namespaces have distinct labels', async (t) => {
    const { page, context, errors } = await openPage(t, e);
    await page.goto(`${e.gateway.url}/#/default/shell/main`);
    await waitForState(page, 'connected');
    assert.deepEqual(await page.locator('.tab-label').allInnerTexts(), ['shell/main'], 'one tab: the short label');
    await page.goto(`${e.gateway.url}/#/team-b/shell/main`);
    await waitForState(page, 'connected');
    assert.deepEqual(await page.locator('.tab-label').allInnerTexts(), ['default/shell/main', 'team-b/shell/main']);
    assert.deepEqual(await page.locator('.tab-close').evaluateAll((els) => els.map((b) => b.getAttribute('aria-label'))),
      ['Close default/shell/main', 'Close team-b/shell/main']);
    assert.equal(await hook.title(page), 'team-b/shell/main (connected) · podterm');
    await typeLine(page, 'echo B-$((1+1))');
    await waitForText(page, 'B-2');
    await page.click('.tab-close[aria-label="Close default/shell/main"]');
    assert.deepEqual(await page.locator('.tab-label').allInnerTexts(), ['shell/main'], 'alone again: the short label');
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoResidue(e);
  });

  await t.test('#/ns/pod opens the default container; a missing pod opens the picker saying so', async (t) => {
    const { page, context, errors } = await openPage(t, e);
    await page.goto(`${e.gateway.url}/#/default/shell`);
    await waitForState(page, 'connected');
    assert.equal(await hook.status(page), 'Connected to default/shell/main · shell');
    assert.equal(new URL(page.url()).hash, '#/default/shell/main');
    await typeLine(page, 'echo DEFAULT-$((6*7))');
    await waitForText(page, 'DEFAULT-42');
    // The annotation wins over the first container.
    await page.goto(`${e.gateway.url}/#/team-b/duo`);
    await waitFor('the duo tab', () => hook.title(page), (title) => title.startsWith('duo/second'));
    await waitForState(page, 'connected');
    assert.equal(new URL(page.url()).hash, '#/team-b/duo/second');
    await page.goto(`${e.gateway.url}/#/default/no-such-pod`);
    await waitFor('the picker to explain', () => page.locator('#picker-message').innerText(), (m) => /no-such-pod does not exist/.test(m));
    assert.ok(await page.locator('#picker').isVisible());
    assert.equal(await hook.tabs(page), 2);
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoResidue(e);
  });
});
