/**
 * Issue 11, playback: a session recorded by the gateway appears in the page's Recordings panel and
 * plays in the page (asciinema-player, self-hosted, loaded on demand), showing what the terminal
 * showed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startSandbox } from '../../src/sandbox/index.js';
import { assertNoResidue, launchBrowser, openPage, startPageGateway, typeLine, waitForState, waitForText, type E2e } from './fixture.js';

test('a recorded session is listed in Recordings and plays back in the page', async (t) => {
  const recordDir = await mkdtemp(join(tmpdir(), 'podterm-e2e-rec-'));
  t.after(() => rm(recordDir, { recursive: true, force: true }));
  const sandbox = await startSandbox({ host: '127.0.0.1', port: 0 });
  t.after(() => sandbox.close());
  const gateway = await startPageGateway(t, sandbox, { recordDir });
  const e: E2e = { sandbox, gateway, browser: await launchBrowser(t) };
  const { page, errors } = await openPage(t, e);

  await page.goto(`${gateway.url}/#/default/shell/main`);
  await waitForState(page, 'connected');
  await typeLine(page, 'echo played-$((6*7))');
  await waitForText(page, 'played-42');
  await typeLine(page, 'exit');
  await waitForState(page, 'exited');
  await assertNoResidue(e);

  await page.click('#recordings-button');
  const row = page.locator('.recording-row').first();
  await row.waitFor({ timeout: 10_000 });
  assert.match((await row.textContent()) ?? '', /default\/shell\/main .*exit 0/);
  await row.click();
  // The player draws the recording's screen; the marker the shell printed must appear in it.
  await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector('#recording-player')?.textContent?.includes('played-42') ?? false, undefined, { timeout: 15_000, polling: 200 });
  assert.deepEqual(errors, []);
  await page.click('#recordings-close');
});
