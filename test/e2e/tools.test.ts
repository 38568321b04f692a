/**
 * The container tools in a real Chromium (issue 12): a file dropped onto the terminal lands in the
 * pod (seen with ls, same SHA-256), the Logs panel follows new lines and filters them, and a
 * container without a shell becomes a working shell through "Start a debug container".
 * Each ends with every count (sessions, execs, processes, log streams, transfers) back to zero.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { SCREENSHOT_DIR, assertNoResidue, hook, openPage, startE2e, typeLine, waitFor, waitForState, waitForText, type E2e } from './fixture.js';

const SHOT = { type: 'png' as const, scale: 'css' as const };
const FILE_BYTES = 3 * 1024 * 1024 + 11;
const FILE_NAME = 'dropped-file.bin';
/** A first session may start the gateway's worker: generous on a loaded machine. */
const CONNECT_MS = 30_000;
const TOOLS = '.terminal-panel:not([hidden]) .terminal-tools';

/** Byte i of the dropped file; the page builds the same bytes (page functions cannot share code). */
function fileBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 10)) % 251;
  return b;
}

/** assertNoResidue plus the tool counts: log streams, file transfers and their execs, attach, survivors. */
async function assertNoToolResidue(e: E2e): Promise<void> {
  await assertNoResidue(e);
  await waitFor('tool counts back to zero', async () => {
    const g = await e.gateway.stats();
    const s = e.sandbox.toolStats();
    return { logStreams: g.logStreamsOpen, transfers: g.fileTransfersOpen, fileExecs: g.fileExecsOpen, debugStarts: g.debugStartsOpen, attach: s.attachActive, sandboxLogs: s.logStreamsActive, survivors: s.survivorsActive };
  }, (c) => Object.values(c).every((n) => n === 0), 8000);
}

/** Drops a generated file on the active terminal as a real DragEvent with a DataTransfer holding a File. */
async function dropFile(page: Page, name: string, size: number): Promise<void> {
  const dataTransfer = await page.evaluateHandle(({ name, size }) => {
    // This tsconfig has no DOM types: the page's constructors, typed as much as used here.
    const w = globalThis as unknown as {
      DataTransfer: new () => { items: { add(f: unknown): void } };
      File: new (parts: unknown[], name: string, o: { type: string }) => unknown;
    };
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 10)) % 251;
    const dt = new w.DataTransfer();
    dt.items.add(new w.File([bytes], name, { type: 'application/octet-stream' }));
    return dt;
  }, { name, size });
  const host = '.terminal-panel:not([hidden]) .terminal-host';
  await page.dispatchEvent(host, 'dragenter', { dataTransfer });
  await page.dispatchEvent(host, 'dragover', { dataTransfer });
  assert.ok(await page.locator(host).evaluate((el) => el.classList.contains('drop-target')), 'the terminal shows it takes the drop');
  await page.dispatchEvent(host, 'drop', { dataTransfer });
  await dataTransfer.dispose();
}

test('container tools in the page', async (t) => {
  const e = await startE2e(t);

  await t.test('a file dropped on the terminal is uploaded with progress and is there for ls', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'podterm-e2e-drop-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const { page, context, errors } = await openPage(t, e);
    await page.goto(`${e.gateway.url}/#/default/shell/main`);
    await waitForState(page, 'connected', CONNECT_MS);
    // The sandbox's containers are host shells: this folder is in the pod. The shell reports where
    // it is with OSC 7, as fish, zsh and bash with vte.sh do at each prompt.
    await typeLine(page, `cd ${dir} && printf '\\033]7;file://%s%s\\033\\\\' "$HOSTNAME" "$PWD" && echo IN-$((2*21))`);
    await waitForText(page, 'IN-42', CONNECT_MS);

    // The dialog asks for the target directory, offering the shell's; the test takes it.
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message(), d.defaultValue());
      void d.accept(d.defaultValue());
    });
    const progress: string[] = [];
    await page.exposeFunction('__progressSeen', (text: string) => progress.push(text));
    await page.locator(`${TOOLS} .transfer-progress`).evaluate((el) => {
      const w = globalThis as unknown as {
        __progressSeen(t: string): void;
        MutationObserver: new (f: () => void) => { observe(el: unknown, o: Record<string, boolean>): void };
      };
      new w.MutationObserver(() => w.__progressSeen(el.textContent ?? '')).observe(el, { subtree: true, characterData: true, childList: true });
    });
    await dropFile(page, FILE_NAME, FILE_BYTES);
    await page.locator(`${TOOLS} .transfer-progress`).getByText(`Uploaded ${dir}/${FILE_NAME}`).waitFor({ timeout: 30_000 });
    assert.match(asked[0] ?? '', new RegExp(`Upload ${FILE_NAME} to which directory in main\\?`));
    assert.equal(asked[1], dir, 'the dialog offers the shell\'s working directory');
    assert.ok(progress.some((p) => /^Uploading dropped-file\.bin: \d+ %/.test(p)), `progress shown: ${JSON.stringify(progress.slice(0, 5))}`);
    assert.ok(await page.locator(`${TOOLS} .transfer-progress button`).isHidden(), 'Cancel is gone when the upload is done');

    const sha = createHash('sha256').update(fileBytes(FILE_BYTES)).digest('hex');
    assert.equal(createHash('sha256').update(await readFile(join(dir, FILE_NAME))).digest('hex'), sha);
    await typeLine(page, `clear; ls -l; sha256sum ${FILE_NAME}`);
    await waitForText(page, `${sha}  ${FILE_NAME}`, CONNECT_MS);
    assert.match(await hook.text(page), new RegExp(`${FILE_BYTES} .*${FILE_NAME}`));
    await page.screenshot({ ...SHOT, path: SCREENSHOT_DIR + 'upload.png' });
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoToolResidue(e);
  });

  await t.test('the Logs panel shows the log, follows new lines, and filters with highlights', async (t) => {
    const { page, context, errors } = await openPage(t, e, { width: 1200, height: 640 });
    await page.goto(`${e.gateway.url}/#/default/logs/main`);
    await waitForState(page, 'connected', CONNECT_MS);
    await page.locator(TOOLS).getByRole('button', { name: 'Logs' }).click();
    const panel = page.locator('.terminal-panel:not([hidden]) .logs-panel');
    const out = panel.locator('.logs-out');
    // default/logs logs `line N` every second from its start.
    const lineNumbers = async (): Promise<number[]> => [...(await out.innerText()).matchAll(/^line (\d+)$/gm)].map((m) => Number(m[1]));
    const first = await waitFor('log lines', lineNumbers, (n) => n.length >= 1, 10_000);
    const last = first[first.length - 1]!;
    await waitFor('a new line while following', lineNumbers, (n) => n.includes(last + 1) && n.includes(last + 2), 10_000);
    assert.equal(await panel.locator('.logs-note').innerText(), 'Following…');

    // The filter keeps matching lines and marks the match; new matching lines still arrive.
    const now = await lineNumbers();
    const wanted = `line ${now[now.length - 1]! + 2}`;
    await panel.locator('.logs-filter').fill(wanted);
    await waitFor(`${wanted} in the filtered view`, () => out.innerText(), (text) => text.trim() === wanted, 10_000);
    assert.deepEqual(await out.locator('mark').allInnerTexts(), [wanted]);
    await page.screenshot({ ...SHOT, path: SCREENSHOT_DIR + 'logs-panel.png' });
    await panel.locator('.logs-filter').fill('');
    await waitFor('all lines again', lineNumbers, (n) => n.length >= 3);
    assert.equal(await out.locator('mark').count(), 0);

    // Closing the panel ends the follow (the sandbox's log stream closes with it).
    await waitFor('one log stream', () => e.gateway.stats(), (s) => s.logStreamsOpen === 1);
    await page.locator(TOOLS).getByRole('button', { name: 'Logs' }).click();
    assert.equal(await panel.count(), 0);
    await waitFor('the log stream ends with the panel', () => e.gateway.stats(), (s) => s.logStreamsOpen === 0);
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoToolResidue(e);
  });

  await t.test('a container without a shell offers a debug container that ends in a working shell', async (t) => {
    const { page, context, errors } = await openPage(t, e);
    await page.goto(`${e.gateway.url}/#/default/distroless/app`);
    await waitForState(page, 'failed', CONNECT_MS);
    const offer = page.locator(TOOLS).getByRole('button', { name: 'Start a debug container' });
    await offer.waitFor();
    assert.match(String(await hook.status(page)), /shell/i);
    await page.screenshot({ ...SHOT, path: SCREENSHOT_DIR + 'no-shell.png' });
    await offer.click();
    await waitFor('a second tab', () => hook.tabs(page), (n) => n === 2, 30_000);
    await waitForState(page, 'connected', 30_000);
    assert.match(await page.locator('.tab[aria-selected="true"] .tab-label').innerText(), /^distroless\/debugger-[a-z0-9]{5}$/);
    // Attached to the debug container's shell: it may not print a prompt until it gets a line.
    await typeLine(page, 'echo hi-$((6*7))');
    await waitForText(page, 'hi-42', 15_000);
    await page.screenshot({ ...SHOT, path: SCREENSHOT_DIR + 'debug-container.png' });
    assert.match(String(await hook.status(page)), /^Connected to default\/distroless\/debugger-[a-z0-9]{5} · attached$/);
    // A reload reopens both tabs; the debug tab attaches again (it is no exec target: no shell of ours runs there).
    await page.reload();
    await waitFor('two tabs after the reload', () => hook.tabs(page), (n) => n === 2, 10_000);
    await waitForState(page, 'connected', 30_000);
    assert.match(String(await hook.status(page)), /· attached$/);
    await typeLine(page, 'echo again-$((6*7))');
    await waitForText(page, 'again-42', 15_000);
    assert.deepEqual(errors, []);
    await context.close();
    await assertNoToolResidue(e);
  });
});
