/**
 * The Sessions panel (issue 10, "The page"), in Chromium against the real gateway and sandbox: a
 * person's session opened in one browser shows there as attached elsewhere, as detached with the
 * time left once that page closes (1001, not the × that ends it), resumes in another browser with
 * a click (the same shell), and ends with End: gone from the list, its process gone from the pod.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { startSandbox } from '../../src/sandbox/index.js';
import { SCREENSHOT_DIR, assertNoResidue, hook, launchBrowser, openPage, startPageGateway, typeLine, waitFor, waitForState, waitForText, type E2e } from './fixture.js';

const GRACE_MS = 60_000;

/** The panel's rows as the person reads them. */
async function rows(p: Page): Promise<string[]> {
  return p.locator('#session-list .session-row').allTextContents();
}

/** "detached, 0:59 left" → 59 (seconds). */
function secondsLeft(row: string): number {
  const m = /detached, (?:(\d+):)?(\d+):(\d\d) left/.exec(row);
  assert.ok(m, `no time left in ${row}`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

test('Sessions panel: attached elsewhere, detached with time left, click resumes the same shell, End ends it', async (t) => {
  const sandbox = await startSandbox({ host: '127.0.0.1', port: 0 });
  t.after(() => sandbox.close());
  const gateway = await startPageGateway(t, sandbox, { detachGraceMs: GRACE_MS });
  const browser = await launchBrowser(t);
  const e: E2e = { sandbox, gateway, browser };

  // Waits are long: this machine is shared and often loaded; none of them is a timing assertion.
  // Browser A: a shell that says who it is.
  const a = await openPage(t, e);
  await a.page.goto(`${gateway.url}/#/default/shell/main`);
  await waitForState(a.page, 'connected');
  await typeLine(a.page, 'echo PANEL-PID=$$');
  await waitForText(a.page, 'PANEL-PID=');
  const pid = /PANEL-PID=(\d+)/.exec(await hook.text(a.page))?.[1];
  assert.ok(pid, 'the shell printed its pid');

  // Browser B, the same person (the same token, its own cookie jar): the panel lists A's session.
  const b = await openPage(t, e);
  await b.page.click('#sessions-button');
  const [attached] = await waitFor('the session, attached elsewhere', () => rows(b.page), (r) => r.length === 1 && r[0]!.includes('attached elsewhere'), 15_000);
  assert.match(attached!, /^default\/shell\/main · shell · attached elsewhere · 1 viewer$/);

  // A's page closes without the × (Chromium closes its socket with 1001): detached, not ended.
  await a.page.close();
  const [detached] = await waitFor('the panel to show it detached (it refreshes while open)', () => rows(b.page), (r) => r.length === 1 && r[0]!.includes('detached'), 15_000);
  assert.match(detached!, / · 0 viewers$/);
  await b.page.screenshot({ path: SCREENSHOT_DIR + 'sessions.png' });
  const left = secondsLeft(detached!);
  assert.ok(left > GRACE_MS / 1000 - 25 && left <= GRACE_MS / 1000, `time left ${left} s of a ${GRACE_MS / 1000} s grace`);
  // The countdown moves between fetches.
  await waitFor('the time left to count down', async () => secondsLeft((await rows(b.page))[0] ?? ''), (s) => s < left, 15_000);
  assert.equal((await gateway.stats()).sessionsActive, 1);

  // Click: a tab in B resumes it — the same process, its screen replayed.
  await b.page.click('#session-list .session-row');
  assert.equal(await b.page.locator('#sessions').isHidden(), true, 'the panel makes way for the terminal');
  await waitForState(b.page, 'connected');
  await waitForText(b.page, `PANEL-PID=${pid}`);
  await typeLine(b.page, 'echo PANEL-AGAIN=$$');
  await waitForText(b.page, `PANEL-AGAIN=${pid}`);
  assert.equal(await hook.tabs(b.page), 1);
  assert.equal((await gateway.stats()).sessionsActive, 1, 'resumed, not a new session');

  // Opened here now: the panel says so, and a click shows that tab instead of opening another.
  await b.page.click('#sessions-button');
  await waitFor('the session, attached here', () => rows(b.page), (r) => r.length === 1 && r[0]!.includes('attached here · 1 viewer'), 15_000);
  await b.page.click('#session-list .session-row');
  await waitForState(b.page, 'connected');
  assert.equal(await hook.tabs(b.page), 1, 'the open tab is shown, no second one');

  // End: gone from the list, the tab says it ended, and the shell is gone from the pod.
  await b.page.click('#sessions-button');
  await waitFor('the row back', () => rows(b.page), (r) => r.length === 1, 15_000);
  await b.page.click('#session-list .session-end');
  await waitFor('the list to be empty', () => rows(b.page), (r) => r.length === 0, 15_000);
  assert.equal(await b.page.locator('#sessions-message').textContent(), 'No sessions.');
  await waitFor('the session to end', () => gateway.stats(), (s) => s.sessionsActive === 0, 15_000);
  await b.page.click('#sessions-close');
  await waitForState(b.page, 'failed');
  await assertNoResidue(e);
  assert.equal(sandbox.stats().processesActive, 0, `the shell ${pid} is gone`);
  assert.deepEqual(b.errors, []);
});
