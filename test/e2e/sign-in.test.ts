/**
 * Issue 9 in Chromium: sign in as alice through the provider's own login page, see her in the
 * header, open default/shell, and find in the sandbox's audit log that the cluster ran the exec for
 * alice impersonated by the gateway; bob sees the pods marked and a deep link gets Forbidden with no
 * exec request at the API server; Sign out, then the API answers 401. The gateway is `podterm.test`
 * (Chromium maps it to 127.0.0.1) and the provider 127.0.0.1, so the callback is a real cross-site
 * navigation and the Strict session cookie behaves as in production.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { assertNoResidue } from '../helpers/gateway-stack.js';
import { execEvents, startIdentityStack, type IdentityStack } from '../helpers/identity-stack.js';
import { USERS } from '../helpers/oidc-provider.js';
import { hook, launchBrowser, typeLine, waitFor, waitForState, waitForText } from './fixture.js';

const HOST = 'podterm.test';
const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

async function signedInPage(t: TestContext, browser: Browser, stack: IdentityStack, user: 'alice' | 'bob', hash = ''): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 650 } });
  t.after(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  // Without a session the page sends the browser to the provider.
  await page.goto(`${stack.url}/${hash}`);
  assert.equal(new URL(page.url()).origin, stack.idp.issuer, 'at the provider');
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(USERS[user]!.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${stack.url}/`);
  await page.locator('#whoami').waitFor();
  return { page, errors };
}

test('Chromium: alice signs in, opens default/shell, and the cluster ran it as alice impersonated by the gateway; bob may not; sign out', async (t) => {
  const stack = await startIdentityStack(t, { host: HOST, gateway: { webRoot: WEB_ROOT } });
  const browser = await launchBrowser(t, [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]);

  const alice = await signedInPage(t, browser, stack, 'alice');
  assert.equal(await alice.page.locator('#whoami').textContent(), 'alice@example.com');
  assert.ok(await alice.page.getByRole('button', { name: 'Sign out' }).isVisible());
  await alice.page.locator('button.pick-item[data-pod="shell"]').click();
  await alice.page.locator('button.pick-item[data-container="main"]').click();
  await waitForState(alice.page, 'connected');
  await typeLine(alice.page, 'echo signed-in-$((6*7))');
  await waitForText(alice.page, 'signed-in-42');
  const [exec] = await waitFor('the exec in the audit log', async () => execEvents(await stack.audit(), 'shell'), (e) => e.length > 0);
  assert.equal(exec?.user.username, 'podterm-gateway');
  assert.equal(exec?.impersonatedUser?.username, 'alice@example.com');
  assert.deepEqual(exec?.impersonatedUser?.groups, ['dev', 'system:authenticated']);

  // Sign out: the provider's end-session page, then back to podterm, which asks to sign in again.
  await alice.page.getByRole('button', { name: 'Sign out' }).click();
  await alice.page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await alice.page.getByLabel('Password').waitFor();
  // The browser itself asks (its resolver knows podterm.test, Node's does not).
  assert.equal((await alice.page.goto(`${stack.url}/api/v1/namespaces`))?.status(), 401);
  assert.equal((await alice.page.goto(`${stack.url}/api/v1/whoami`))?.status(), 401);
  assert.deepEqual(alice.errors, []);
  await assertNoResidue(stack);

  const before = execEvents(await stack.audit(), 'shell').length;
  const bob = await signedInPage(t, browser, stack, 'bob');
  assert.equal(await bob.page.locator('#whoami').textContent(), 'bob@example.com');
  const shell = bob.page.locator('button.pick-item[data-pod="shell"]');
  await shell.waitFor();
  assert.match(await shell.textContent() ?? '', /you may not open a terminal in namespace default/);
  assert.match(await bob.page.locator('#picker-message').textContent() ?? '', /You may not open a terminal in namespace default/);
  // A deep link straight to the terminal: refused by the review, before any exec request.
  await bob.page.evaluate(() => { (globalThis as unknown as { location: { hash: string } }).location.hash = '#/default/shell/main'; });
  await waitForState(bob.page, 'failed');
  assert.match(String(await hook.status(bob.page)), /may not open a terminal in namespace default/);
  assert.equal(execEvents(await stack.audit(), 'shell').length, before, 'no exec request for bob reached the API server');
  assert.deepEqual(bob.errors, []);
  await assertNoResidue(stack);
});
