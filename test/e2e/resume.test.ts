/**
 * Sessions survive a page reload (docs/protocol.md, Additions), in Chromium against the real
 * gateway and sandbox: every open tab comes back, resumed (the same shell), with its screen text;
 * the × on a tab still ends its session at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { startSandbox } from '../../src/sandbox/index.js';
import { assertNoResidue, hook, launchBrowser, openPage, startPageGateway, typeLine, waitFor, waitForState, waitForText, type E2e } from './fixture.js';

/** The active terminal's lines that carry text (the screen and scrollback, trailing blanks trimmed). */
async function screenLines(p: Page): Promise<string[]> {
  return (await hook.text(p)).split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
}

async function selectTab(p: Page, n: number): Promise<void> {
  await p.click(`#tab-list li:nth-child(${n}) .tab`);
}

test('a reload brings both tabs back, each resuming its own shell with its screen', async (t) => {
  const sandbox = await startSandbox({ host: '127.0.0.1', port: 0 });
  t.after(() => sandbox.close());
  const gateway = await startPageGateway(t, sandbox, { detachGraceMs: 30_000 });
  const browser = await launchBrowser(t);
  const e: E2e = { sandbox, gateway, browser };
  const { page, context, errors } = await openPage(t, e);

  await page.goto(`${gateway.url}/#/default/shell/main`);
  await waitForState(page, 'connected');
  await typeLine(page, 'echo ONE-PID=$$');
  await waitForText(page, 'ONE-PID=');
  await page.click('#new-terminal');
  await page.click('[data-pod="shell"]');
  await page.click('[data-container="main"]');
  await waitForState(page, 'connected');
  await typeLine(page, 'echo TWO-PID=$$; printf "%s\\n" alpha beta gamma');
  await waitForText(page, 'gamma');
  assert.equal(await hook.tabs(page), 2);

  const before: string[][] = [];
  for (const n of [1, 2]) {
    await selectTab(page, n);
    before.push(await screenLines(page));
  }
  const pid = (lines: string[], tag: string): string | undefined => lines.map((l) => new RegExp(`^${tag}-PID=(\\d+)`).exec(l)?.[1]).find((x) => x);
  const pids = [pid(before[0]!, 'ONE'), pid(before[1]!, 'TWO')];
  assert.ok(pids[0] && pids[1] && pids[0] !== pids[1], `two shells: ${pids.join(', ')}`);

  await page.reload();
  await waitFor('both tabs back', () => hook.tabs(page), (n) => n === 2);
  for (const n of [1, 2]) {
    await selectTab(page, n);
    await waitForState(page, 'connected');
    const tag = n === 1 ? 'ONE' : 'TWO';
    await waitForText(page, `${tag}-PID=`);
    // The screen as it was: every line shown before the reload is back, in order.
    const after = await screenLines(page);
    const expected = before[n - 1]!;
    assert.deepEqual(after.slice(0, expected.length), expected, `tab ${n} screen after the reload`);
    await typeLine(page, `echo ${tag}-AGAIN=$$`);
    await waitForText(page, `${tag}-AGAIN=${pids[n - 1]}`);
  }
  const s = await gateway.stats();
  assert.equal(s.sessionsActive, 2, 'the same two sessions, none new');

  // The × ends its session at once (close code 1000), grace or not.
  await page.click('.tab-close >> nth=0');
  await waitFor('one session left', () => gateway.stats(), (x) => x.sessionsActive === 1);
  await page.click('.tab-close >> nth=0');
  await waitFor('no session left', () => gateway.stats(), (x) => x.sessionsActive === 0);
  assert.deepEqual(errors, []);
  await context.close();
  await assertNoResidue(e);
});
