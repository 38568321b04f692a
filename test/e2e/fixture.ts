/**
 * End-to-end fixture: the real sandbox cluster, the real gateway serving the built page, and one
 * headless Chromium (the system's /usr/bin/chromium; never downloaded). Each is closed by a
 * teardown registered on the line that starts it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startGateway } from '../../src/server/gateway.js';
import type { Gateway, GatewayOptions } from '../../src/server/gateway.js';
import { startSandbox } from '../../src/sandbox/index.js';
import type { Inventory, Sandbox } from '../../src/sandbox/index.js';
import type { HookWindow, ScreenSnapshot, SessionCounters } from '../../src/web/test-hook-api.js';

export const TOKEN = 'e2e-token-0123456789abcdef';

/** The built page: the outDir mirrors the source tree, and build-web.js writes <outDir>/web. */
const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));
/** The repository root is the nearest folder above the outDir with a package.json. */
function repoRoot(): string {
  for (let dir = new URL('../../../', import.meta.url); ; dir = new URL('../', dir)) {
    if (existsSync(new URL('package.json', dir))) return fileURLToPath(dir);
    assert.notEqual(dir.pathname, '/', 'no package.json above the test output folder');
  }
}
export const SCREENSHOT_DIR = join(repoRoot(), 'docs', 'screenshots') + sep;

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

export interface E2e {
  sandbox: Sandbox;
  gateway: Gateway;
  browser: Browser;
}

/** `inventory`: the sandbox's pods, when a test needs others than the default ones. */
export async function startE2e(t: TestContext, inventory?: Inventory): Promise<E2e> {
  assert.ok(existsSync(WEB_ROOT + 'app.js'),
    `the page is not built in ${WEB_ROOT}: run node scripts/build-web.js --outdir <the tsc outDir>`);
  const sandbox = await startSandbox({ host: '127.0.0.1', port: 0, ...(inventory ? { inventory } : {}) });
  t.after(() => sandbox.close());
  const gateway = await startPageGateway(t, sandbox);
  const browser = await launchBrowser(t);
  return { sandbox, gateway, browser };
}

/**
 * The system Chromium, headless. With the default flags WebGL2 still works (SwiftShader, in
 * software); `extraArgs` such as `--disable-3d-apis` take it away, to test the page without it.
 */
export async function launchBrowser(t: TestContext, extraArgs: string[] = []): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
  t.after(() => browser.close());
  return browser;
}

/** A gateway serving the built page over the sandbox; `limits` for tests of timeouts and limits. */
export async function startPageGateway(t: TestContext, sandbox: Sandbox, limits: Partial<GatewayOptions> = {}): Promise<Gateway> {
  const gateway = await startGateway({
    host: '127.0.0.1', port: 0, workers: 1, webRoot: WEB_ROOT,
    kube: { kind: 'kubeconfig', yaml: sandbox.kubeconfigYaml() },
    tokens: [{ token: TOKEN }],
    log: () => {},
    // Sessions end with their socket unless a test asks for a detach grace (resume tests do).
    detachGraceMs: 0,
    ...limits,
  });
  t.after(() => gateway.close());
  return gateway;
}

export interface OpenPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen so far; tests assert it stays empty. */
  errors: string[];
}

/** A fresh browser context (own cookie jar), signed in with the token; closed by t.after. */
export async function openPage(t: TestContext, e: E2e, size = { width: 960, height: 600 }, permissions: string[] = []): Promise<OpenPage> {
  const context = await e.browser.newContext({ viewport: size, colorScheme: 'light' });
  t.after(() => context.close());
  if (permissions.length) await context.grantPermissions(permissions, { origin: e.gateway.url });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (err) => errors.push(String(err)));
  await page.goto(`${e.gateway.url}/?token=${TOKEN}`);
  await page.waitForURL(`${e.gateway.url}/`);
  return { context, page, errors };
}

export async function waitFor<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sessions, actors, exec sockets, replay buffers and sandbox processes all back to zero. */
export async function assertNoResidue(e: E2e): Promise<void> {
  await waitFor('gateway and sandbox counts back to zero', async () => {
    const g = await e.gateway.stats();
    const s = e.sandbox.stats();
    return { sessions: g.sessionsActive, actors: g.actorsActive, execSockets: g.execSocketsOpen, replayBuffers: g.replayBuffers, execActive: s.execActive, processes: s.processesActive };
  }, (c) => Object.values(c).every((n) => n === 0), 8000);
}

/**
 * The page's read-only test hook (src/web/test-hook.ts). The page functions below are serialised
 * by Playwright and run in the page (they cannot use anything from this module's scope); this
 * tsconfig has no DOM types, hence globalThis as HookWindow. Strings would need 'unsafe-eval'.
 */
export const hook = {
  state: (p: Page) => p.evaluate(() => (globalThis as unknown as HookWindow).__podterm.activeState()),
  status: (p: Page) => p.evaluate(() => (globalThis as unknown as HookWindow).__podterm.activeStatus()),
  text: (p: Page) => p.evaluate(() => (globalThis as unknown as HookWindow).__podterm.activeText()),
  screen: async (p: Page): Promise<ScreenSnapshot> => {
    const s = await p.evaluate(() => (globalThis as unknown as HookWindow).__podterm.activeScreen());
    assert.ok(s, 'no active terminal');
    return s;
  },
  counters: async (p: Page): Promise<SessionCounters> => {
    const c = await p.evaluate(() => (globalThis as unknown as HookWindow).__podterm.activeCounters());
    assert.ok(c, 'no active terminal');
    return c;
  },
  size: async (p: Page): Promise<{ cols: number; rows: number }> => {
    const s = await p.evaluate(() => (globalThis as unknown as HookWindow).__podterm.activeSize());
    assert.ok(s, 'no active terminal');
    return s;
  },
  background: (p: Page) => p.evaluate(() => (globalThis as unknown as HookWindow).__podterm.activeBackground()),
  tabs: (p: Page) => p.evaluate(() => (globalThis as unknown as HookWindow).__podterm.tabCount()),
  renderer: (p: Page) => p.evaluate(() => (globalThis as unknown as HookWindow).__podterm.activeRenderer()),
  cellOf: (p: Page, needle: string) => p.evaluate((n) => (globalThis as unknown as HookWindow).__podterm.activeCellOf(n), needle),
  title: (p: Page) => p.title(),
};

export async function waitForState(p: Page, state: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(`state ${state}`, async () => ({ state: await hook.state(p), status: await hook.status(p) }), (v) => v.state === state, timeoutMs);
}

/** Polls every 100 ms, not every frame: reading the whole buffer is not free while output streams. */
export async function waitForText(p: Page, needle: string, timeoutMs = 10_000): Promise<void> {
  await p.waitForFunction((n) => (globalThis as unknown as HookWindow).__podterm.activeText().includes(n), needle,
    { timeout: timeoutMs, polling: 100 });
}

/** Where a cell of the active terminal is on the page, in CSS pixels (whatever draws the cells). */
export async function cellBox(p: Page, row: number, col: number): Promise<{ x: number; y: number; width: number; height: number }> {
  const screen = await p.locator('.terminal-panel:not([hidden]) .xterm-screen').boundingBox();
  assert.ok(screen, 'no terminal screen');
  const { cols, rows } = await hook.size(p);
  const width = screen.width / cols;
  const height = screen.height / rows;
  return { x: screen.x + col * width, y: screen.y + row * height, width, height };
}

/** The on-screen cell where the last visible `needle` starts (plus `offset` columns), found through the buffer. */
export async function cellOf(p: Page, needle: string, offset = 0): Promise<{ x: number; y: number; width: number; height: number }> {
  const at = await hook.cellOf(p, needle);
  assert.ok(at, `${needle} is not on screen`);
  return cellBox(p, at.row, at.col + offset);
}

/** Types a line into the active terminal (which has the keyboard focus after connecting). */
export async function typeLine(p: Page, line: string): Promise<void> {
  await p.click('.terminal-panel:not([hidden]) .terminal-host');
  await p.keyboard.type(line);
  await p.keyboard.press('Enter');
}
