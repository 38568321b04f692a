/**
 * Watching a shared terminal (docs/protocol.md, Additions), in Chromium against the real gateway and
 * sandbox: the owner's Share button makes a link; another person opens it in a second browser
 * context and sees the owner's screen and live output at the owner's size, behind a read-only
 * badge; what the watcher types reaches nothing; the owner sees "1 watching" with the name; Revoke
 * tells the watch page the session is gone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSandbox } from '../../src/sandbox/index.js';
import { assertNoResidue, hook, launchBrowser, openPage, startPageGateway, TOKEN, typeLine, waitFor, waitForState, waitForText, type E2e } from './fixture.js';

const WATCHER_TOKEN = 'e2e-watcher-token-0123456789';
const PANEL = '.terminal-panel:not([hidden])';

test('a watcher in another browser sees the owner\'s terminal read-only; its keys reach nothing; the owner sees "1 watching"; revoke ends the watch', async (t) => {
  const sandbox = await startSandbox({ host: '127.0.0.1', port: 0 });
  t.after(() => sandbox.close());
  const gateway = await startPageGateway(t, sandbox, {
    detachGraceMs: 30_000,
    tokens: [{ token: TOKEN }, { token: WATCHER_TOKEN, username: 'wendy', groups: [] }],
  });
  const browser = await launchBrowser(t);
  const e: E2e = { sandbox, gateway, browser };

  const owner = await openPage(t, e);
  await owner.page.goto(`${gateway.url}/#/default/shell/main`);
  await waitForState(owner.page, 'connected');
  await typeLine(owner.page, 'echo OWNER-$((40+2))');
  await waitForText(owner.page, 'OWNER-42');

  await owner.page.click(`${PANEL} .share-button`);
  const link = owner.page.locator('.share-dialog[open] .share-link');
  await link.waitFor();
  const url = await link.inputValue();
  assert.match(url, new RegExp(`^${gateway.url}/#watch=v1\\.`));
  assert.match(await owner.page.locator('.share-dialog[open] p').first().innerText(), /read-only, until/);

  // Another person, another browser context (own cookie jar), a smaller window.
  const context = await browser.newContext({ viewport: { width: 700, height: 420 }, colorScheme: 'light' });
  t.after(() => context.close());
  const watch = await context.newPage();
  const watchErrors: string[] = [];
  watch.on('pageerror', (err) => watchErrors.push(String(err)));
  await watch.goto(`${gateway.url}/?token=${WATCHER_TOKEN}`);
  await watch.waitForURL(`${gateway.url}/`);
  await watch.goto('about:blank');
  await watch.goto(url);
  await waitForState(watch, 'connected');
  await waitForText(watch, 'OWNER-42'); // the replay
  assert.equal(await watch.locator(`${PANEL} .read-only-badge`).textContent(), 'read-only');
  assert.ok(await watch.locator(`${PANEL} .read-only-badge`).isVisible(), 'the read-only badge');
  assert.match((await hook.status(watch)) ?? '', /read-only/);
  assert.equal(await watch.locator(`${PANEL} .share-button`).count(), 0, 'a watcher cannot share');

  // The owner sees who watches.
  const watching = owner.page.locator(`${PANEL} .watching`);
  await waitFor('"1 watching" on the owner\'s tab', () => watching.innerText().catch(() => ''), (s) => /^1 watching: wendy$/.test(s), 10_000);

  // Live output, at the owner's size (not the watcher's smaller window).
  await typeLine(owner.page, 'echo LIVE-$((6*7))');
  await waitForText(watch, 'LIVE-42');
  assert.deepEqual(await hook.size(watch), await hook.size(owner.page), 'the watcher shows the session at its size');

  // The watcher types: nothing reaches the shell.
  await typeLine(watch, 'echo WATCHER-MARKER-$((3*3))');
  await new Promise((r) => setTimeout(r, 500));
  await typeLine(owner.page, 'echo AFTER-$((5*5))');
  await waitForText(owner.page, 'AFTER-25');
  await waitForText(watch, 'AFTER-25');
  for (const p of [owner.page, watch]) assert.doesNotMatch(await hook.text(p), /WATCHER-MARKER/, 'the watcher\'s keys reached nothing');

  // Revoke: the watch page says the session is gone; the owner goes on, alone.
  await owner.page.click('.share-dialog[open] .share-revoke');
  await waitForState(watch, 'failed');
  assert.match((await hook.status(watch)) ?? '', /gone/);
  await waitFor('the owner alone again', () => watching.isVisible(), (v) => v === false, 10_000);
  assert.equal(await hook.state(owner.page), 'connected');
  await typeLine(owner.page, 'echo STILL-$((1+1))');
  await waitForText(owner.page, 'STILL-2');

  await owner.page.click('.tab-close >> nth=0');
  await waitFor('no session left', () => gateway.stats(), (x) => x.sessionsActive === 0);
  assert.deepEqual(owner.errors, []);
  assert.deepEqual(watchErrors, []);
  await assertNoResidue(e);
});
