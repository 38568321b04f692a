/**
 * Chromium signs in through the provider's own login and consent pages to a tiny gateway that
 * uses the auth modules (mini-gateway.ts), then signs out through the provider's end_session.
 * The gateway is `podterm.test` (mapped to 127.0.0.1 by Chromium's resolver rules) and the
 * provider `127.0.0.1`, so the callback is a real cross-site navigation, as in production, and
 * the SameSite attributes of the state and session cookies are tested for real.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { OidcClient } from '../../src/auth/oidc-client.js';
import { SessionCookie } from '../../src/auth/session-cookie.js';
import { startTestIdp, USERS } from '../helpers/oidc-provider.js';
import { assertHandlesBack, handleCounts } from '../helpers/handles.js';
import { startMiniGateway } from './mini-gateway.js';
import { SECRET } from './oidc-fixture.js';

const GATEWAY_HOST = 'podterm.test';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', `--host-resolver-rules=MAP ${GATEWAY_HOST} 127.0.0.1`];

const baseline = handleCounts();

test('Chromium: sign in as alice at the provider, whoami, sign out at the provider', async (t) => {
  const gw = await startMiniGateway(t, GATEWAY_HOST);
  const idp = await startTestIdp({ redirectUris: [`${gw.url}/auth/callback`], postLogoutRedirectUris: [`${gw.url}/signed-out`] });
  t.after(() => idp.close());
  const client = await OidcClient.discover({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret,
    redirectUrl: `${gw.url}/auth/callback`, secret: SECRET });
  gw.attach(client, new SessionCookie({ secret: SECRET }));

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));

  await page.goto(`${gw.url}/auth/login?return=/`);
  assert.equal(new URL(page.url()).origin, idp.issuer, 'at the provider');
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(USERS.alice!.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${gw.url}/`);

  // The state cookie (SameSite=Lax) came back on the cross-site callback: the login finished.
  const callback = gw.log.find((l) => l.path === '/auth/callback');
  assert.equal(callback?.status, 303);
  // Finding: the Strict session cookie, set by the callback's response, is not sent on the
  // redirect that follows it (the navigation started at the provider, another site); it is sent on
  // everything the page does afterwards. The real page must not need the cookie for its HTML.
  const landing = gw.log.filter((l) => l.path === '/').at(-1);
  assert.equal(landing?.sessionCookie, false, 'the Strict cookie on the redirect after a cross-site callback');

  const whoami = await page.evaluate(async () => {
    const r = await fetch('/api/v1/whoami');
    return { status: r.status, body: await r.json() as Record<string, unknown> };
  });
  assert.equal(whoami.status, 200);
  assert.equal(whoami.body.username, 'alice@example.com');
  assert.deepEqual(whoami.body.groups, ['dev']);
  assert.equal(whoami.body.via, 'oidc');
  const cookies = await context.cookies(gw.url);
  assert.deepEqual(cookies.map((c) => [c.name, c.sameSite, c.httpOnly]), [['podterm_session', 'Strict', true]]);

  // Sign out: our cookie is cleared and the provider's session ends (after its confirmation page).
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.waitForURL(`${gw.url}/signed-out`);
  const after = await page.evaluate(async () => (await fetch('/api/v1/whoami')).status);
  assert.equal(after, 401);
  assert.deepEqual(await context.cookies(gw.url), []);

  // Signing in again asks for the password: the provider session is gone too.
  await page.goto(`${gw.url}/auth/login`);
  await page.getByLabel('Password').waitFor();
  assert.deepEqual(errors, []);
  assert.deepEqual(idp.serverErrors, []);
});

test('no servers, sockets, child processes or timers left open', async () => {
  await assertHandlesBack(baseline, 10_000);
});
