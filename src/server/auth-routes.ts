/**
 * Sign-in routes (issue 9, PROTOCOL.md "HTTP additions"): `GET /auth/login`, `GET /auth/callback`,
 * `POST /auth/logout` and `GET /api/v1/whoami`. The OpenID Connect work is oidc-client.ts's; this
 * file only moves cookies and redirects.
 *
 * The callback answers 200 with a page that navigates on, not a 303: the session cookie is
 * `SameSite=Strict`, and a redirect that continues the provider's cross-site navigation does not
 * carry it (Chromium, test/auth/oidc-browser.test.ts), so `/` would send the browser back to the
 * provider. A navigation that our own page starts is same-site and carries it.
 */
import type { HttpRequest, TemplatedApp } from 'uWebSockets.js';
import { PodtermError } from '../protocol/errors.js';
import type { Authenticator } from '../auth/authenticator.js';
import { AuthError } from '../auth/errors.js';
import { STATE_COOKIE_NAME, safeReturnTo, type OidcClient } from '../auth/oidc-client.js';
import { whoamiBody, type Caller } from '../auth/person.js';
import type { SessionCookie } from '../auth/session-cookie.js';
import { COOKIE_NAME } from '../auth/token-auth.js';
import { originAllowed } from '../auth/token-auth.js';
import { whoFields, type AuditSink, type RequestClient } from '../audit/request-audit.js';
import { cookiesSecure, guardRoute, type Reply, type RouteEnv } from './route-guard.js';

export interface SignIn {
  client: OidcClient;
  cookies: SessionCookie;
  /** Where the provider sends the browser after its own sign-out (`/` of this gateway). */
  afterLogout: string;
}

export interface AuthRoutesOptions extends RouteEnv {
  auth: Authenticator;
  /** undefined until discovery finished (or when OIDC is off): the sign-in routes answer 404/503. */
  signIn: () => SignIn | undefined;
  oidcConfigured: boolean;
  allowedOrigins: string[] | undefined;
  /** auth.login, auth.logout, auth.failed (a refused callback). */
  audit: AuditSink | undefined;
}

const HTML = 'text/html; charset=utf-8';
const NO_STORE: Array<[string, string]> = [['Cache-Control', 'no-store'], ['Referrer-Policy', 'no-referrer']];

/** The cookie of that name in a `Cookie` header. */
function cookieValue(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A page that moves on to `path` by itself (meta refresh: the page's CSP allows no script). */
function continuePage(path: string): string {
  const p = escapeHtml(path);
  return `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${p}"><title>podterm</title><p>Signed in. <a href="${p}">Continue</a>.</p>\n`;
}

/**
 * The caller of a request, or throws Unauthorized. Copies the headers out of `req` first (uWS
 * reuses it after the first await).
 */
export function callerOf(auth: Authenticator, req: HttpRequest, client?: RequestClient): Promise<Caller> {
  const cookie = req.getHeader('cookie');
  const authorization = req.getHeader('authorization');
  return auth.resolve(cookie, authorization, client).then((c) => {
    if (!c) throw new PodtermError('Unauthorized');
    return c;
  });
}

export function mountAuthRoutes(app: TemplatedApp, o: AuthRoutesOptions): void {
  const ready = (): SignIn => {
    const s = o.signIn();
    if (!s) throw o.oidcConfigured ? new PodtermError('ServerShuttingDown', 'Sign-in is starting; try again in a moment.') : new PodtermError('NotFound', 'Sign-in is not configured.');
    return s;
  };

  app.get('/auth/login', guardRoute(o, 'GET /auth/login', async (req, reply) => {
    const tls = cookiesSecure(req, o);
    const returnTo = safeReturnTo(req.getQuery('return') ?? undefined);
    const s = ready();
    const start = await s.client.startLogin({ returnTo });
    reply.send(302, HTML, '', [['Location', start.url], ['Set-Cookie', s.client.stateCookieHeader(start.stateCookie, tls)], ...NO_STORE]);
  }));

  app.get('/auth/callback', guardRoute(o, 'GET /auth/callback', async (req, reply) => {
    const tls = cookiesSecure(req, o);
    const query = req.getQuery() ?? '';
    const state = cookieValue(req.getHeader('cookie'), STATE_COOKIE_NAME);
    const s = ready();
    try {
      const r = await s.client.finishLogin(`?${query}`, state);
      const passthrough = o.auth.identityMode === 'passthrough';
      const sealed = await s.cookies.seal({ username: r.username, groups: r.groups, via: 'oidc', expiresAt: r.expiresAt, ...(passthrough ? { idToken: r.idToken } : {}) });
      o.log('info', 'signed in', { user: r.username, groups: r.groups });
      o.audit?.write('auth.login', whoFields({ username: r.username, groups: r.groups, via: 'oidc' }, reply.client));
      reply.send(200, HTML, continuePage(r.returnTo), [
        ['Set-Cookie', s.cookies.setCookieHeader(sealed, tls)],
        ['Set-Cookie', s.client.clearStateCookieHeader(tls)],
        ['Content-Security-Policy', "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"],
        ...NO_STORE,
      ]);
    } catch (err) {
      if (err instanceof AuthError) o.log('info', 'sign-in refused', { reason: err.reason, err: err.cause });
      o.auth.failed(err instanceof AuthError ? err.reason : 'Internal', 'oidc', reply.client);
      // The state cookie is single-use either way.
      const e = err instanceof PodtermError ? err : new PodtermError('Internal', undefined, { cause: err });
      if (e.code === 'Internal') throw err;
      reply.error(e, { headers: [['Set-Cookie', s.client.clearStateCookieHeader(tls)]] });
    }
  }));

  // Sign-out clears the cookie for any kind of session; with a provider that offers
  // end_session_endpoint the browser goes there next (RP-Initiated Logout 1.0).
  app.post('/auth/logout', guardRoute(o, 'POST /auth/logout', async (req, reply) => {
    const tls = cookiesSecure(req, o);
    const wantsJson = req.getHeader('accept').includes('application/json');
    if (!originAllowed(req.getHeader('origin'), req.getHeader('host'), o.allowedOrigins)) {
      return reply.error(new PodtermError('Forbidden', 'This page origin may not sign you out here.'));
    }
    const cookie = req.getHeader('cookie');
    // Who signs out (when the cookie still names someone), for the audit line.
    const who = o.audit ? await o.auth.resolve(cookie, '').catch(() => undefined) : undefined;
    const s = o.signIn();
    let location = '/';
    if (s) {
      const session = await s.cookies.fromCookieHeader(cookie);
      location = s.client.logoutUrl({ postLogoutRedirect: s.afterLogout, ...(session?.idToken ? { idTokenHint: session.idToken } : {}) }) ?? '/';
    }
    // One Set-Cookie clears both kinds: the static-token cookie and the signed-in one share the name.
    const clear = `${COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${tls ? '; Secure' : ''}`;
    o.audit?.write('auth.logout', whoFields(who?.person, reply.client));
    if (wantsJson) reply.json(200, { location }, [['Set-Cookie', clear]]);
    else reply.send(303, HTML, '', [['Location', location], ['Set-Cookie', clear], ...NO_STORE]);
  }));

  app.get('/api/v1/whoami', guardRoute(o, 'GET /api/v1/whoami', async (req, reply: Reply) => {
    const caller = await callerOf(o.auth, req, reply.client);
    reply.json(200, whoamiBody(caller.person));
  }));
}
