/**
 * The smallest gateway that signs people in with the auth modules, on node:http: the routes the
 * real gateway will have (`/auth/login`, `/auth/callback`, `POST /auth/logout`, `/api/v1/whoami`
 * with cookie or bearer), so the browser test proves the modules work in a real browser before
 * they are wired into uWS. It logs what each request carried, for the SameSite findings.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { BearerVerifier, bearerToken } from '../../src/auth/bearer-verifier.js';
import { AuthError } from '../../src/auth/errors.js';
import { OidcClient, STATE_COOKIE_NAME } from '../../src/auth/oidc-client.js';
import { SessionCookie } from '../../src/auth/session-cookie.js';

export interface MiniGateway {
  /** `http://HOST:PORT` with the host name given (the browser maps it to 127.0.0.1). */
  url: string;
  port: number;
  /** Per request: path and whether the session cookie came with it. */
  log: Array<{ path: string; sessionCookie: boolean; status: number }>;
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Listens first (the redirect URL contains the port), then `attach` gives it the auth objects. */
export async function startMiniGateway(t: TestContext, host: string): Promise<MiniGateway & {
  attach(client: OidcClient, cookies: SessionCookie): void;
}> {
  let client: OidcClient | undefined;
  let cookies: SessionCookie | undefined;
  let verifier: BearerVerifier | undefined;
  const log: MiniGateway['log'] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (!client || !cookies || !verifier) throw new Error('not attached');
    const json = (status: number, body: unknown, headers: Record<string, string | string[]> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
      res.end(JSON.stringify(body));
    };
    const redirect = (location: string, setCookie: string[] = []): void => {
      res.writeHead(303, { location, 'set-cookie': setCookie, 'cache-control': 'no-store' });
      res.end();
    };
    if (req.method === 'GET' && url.pathname === '/auth/login') {
      const start = await client.startLogin({ returnTo: url.searchParams.get('return') ?? '/' });
      return redirect(start.url, [client.stateCookieHeader(start.stateCookie, false)]);
    }
    if (req.method === 'GET' && url.pathname === '/auth/callback') {
      const r = await client.finishLogin(req.url ?? '', cookie(req, STATE_COOKIE_NAME));
      const sealed = await cookies.seal({ username: r.username, groups: r.groups, via: 'oidc', expiresAt: r.expiresAt });
      return redirect(r.returnTo, [cookies.setCookieHeader(sealed, false), client.clearStateCookieHeader(false)]);
    }
    if (req.method === 'POST' && url.pathname === '/auth/logout') {
      const back = client.logoutUrl({ postLogoutRedirect: `${gatewayUrl}/signed-out` }) ?? '/signed-out';
      return redirect(back, [cookies.clearCookieHeader(false)]);
    }
    if (req.method === 'GET' && url.pathname === '/signed-out') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>Signed out</title><h1>Signed out</h1>');
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/whoami') {
      const token = bearerToken(req.headers.authorization ?? '');
      if (token) {
        const p = await verifier.verify(token);
        return json(200, { ...p, via: 'oidc' });
      }
      const s = await cookies.fromCookieHeader(req.headers.cookie ?? '');
      return s ? json(200, s) : json(401, { code: 'Unauthorized' });
    }
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>podterm</title><form method="post" action="/auth/logout"><button>Sign out</button></form>');
      return;
    }
    json(404, { code: 'NotFound' });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', gatewayUrl);
    res.on('finish', () => log.push({ path: url.pathname, sessionCookie: cookie(req, 'podterm_session') !== undefined, status: res.statusCode }));
    handle(req, res, url).catch((err: unknown) => {
      const status = err instanceof AuthError ? err.httpStatus : 500;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: err instanceof AuthError ? err.reason : 'Internal', message: err instanceof AuthError ? err.message : '' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }));
  const port = (server.address() as AddressInfo).port;
  const gatewayUrl = `http://${host}:${port}`;
  return {
    url: gatewayUrl, port, log,
    attach(c, k) {
      client = c;
      cookies = k;
      verifier = BearerVerifier.forClient(c);
    },
  };
}
