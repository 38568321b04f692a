/**
 * An in-process OpenID provider for tests: the OpenID-certified `oidc-provider` 9 on a node:http
 * server at 127.0.0.1, port 0, issuer `http://127.0.0.1:PORT`. Two people, one confidential client
 * `podterm` (authorization code + PKCE), claims `email` and `groups` in the ID token, and its own
 * minimal login and consent pages (plain HTML forms, no scripts, no external fonts) that Chromium
 * and a plain HTTP client can both drive. RP-initiated logout (`end_session_endpoint`) is on.
 *
 * oidc-provider 9 prints "Unsupported runtime" on Node 20 (it asks for Node 22 LTS); the tests in
 * test/auth/ run the whole flow on Node 20 regardless: discovery, authorize, login, consent, token,
 * jwks, userinfo and end_session.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';

export interface TestUser {
  password: string;
  email: string;
  groups: string[];
}

/** The people the IdP knows; the login name is the account id (and the `sub`). */
export const USERS: Readonly<Record<string, TestUser>> = {
  alice: { password: 'alice-password', email: 'alice@example.com', groups: ['dev'] },
  bob: { password: 'bob-password', email: 'bob@example.com', groups: ['ops'] },
};

export const CLIENT_ID = 'podterm';
export const CLIENT_SECRET = 'podterm-test-client-secret-0123456789';
const KID = 'test-idp-key-1';

export interface TestIdpOptions {
  /** The client's registered redirect URIs (exact match, as OAuth 2.0 Security BCP asks). */
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /** Lifetime of ID tokens in seconds (default 3600). */
  idTokenTtl?: number;
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Failures the provider reported through its `server_error` event; tests expect none. */
  serverErrors: Error[];
  /** Signs a token with the IdP's own key (kid and alg as the JWKS says), for expiry/claim tests. */
  sign(payload: JWTPayload, header?: { alg?: string }): Promise<string>;
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024;

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
    `<body><h1>${title}</h1>${body}</body></html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

export async function startTestIdp(options: TestIdpOptions): Promise<TestIdp> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: KID, alg: 'RS256', use: 'sig' };

  // The issuer contains the port, so listen first and hand requests to the provider once it exists.
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handler) handler(req, res);
    else send(res, 503, page('Starting', ''));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const serverErrors: Error[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };

  try {
    const ttl = options.idTokenTtl ?? 3600;
    const provider = new Provider(issuer, {
      clients: [{
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: options.redirectUris,
        post_logout_redirect_uris: options.postLogoutRedirectUris ?? [],
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'client_secret_basic',
      }],
      jwks: { keys: [jwk] },
      cookies: { keys: [randomBytes(16).toString('hex')] },
      // PKCE for every client, also confidential ones (OAuth 2.0 Security BCP, RFC 9700 2.1.1).
      pkce: { required: () => true },
      // Scope-requested claims go into the ID token too, not only to userinfo (Core 5.4 allows
      // either); podterm reads email and groups from the ID token.
      conformIdTokenClaims: false,
      // Keycloak-style: groups come with `openid`, so the default scopes carry them.
      claims: { openid: ['sub', 'groups'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
      findAccount: (_ctx: unknown, id: string) => {
        const user = USERS[id];
        if (!user) return undefined;
        return {
          accountId: id,
          claims: () => ({ sub: id, email: user.email, email_verified: true, groups: user.groups, name: id, preferred_username: id }),
        };
      },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      features: {
        devInteractions: { enabled: false },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx: { body: string }, form: string) => {
            ctx.body = page('Sign out', `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`);
          },
          postLogoutSuccessSource: (ctx: { body: string }) => { ctx.body = page('Signed out', ''); },
        },
      },
      renderError: (ctx: { type: string; body: string }, out: Record<string, string>) => {
        ctx.type = 'html';
        ctx.body = page('Error', `<pre>${escapeHtml(JSON.stringify(out))}</pre>`);
      },
      ttl: {
        AccessToken: 3600, AuthorizationCode: 60, IdToken: ttl, RefreshToken: 86400,
        Interaction: 600, Session: 86400, Grant: 86400,
      },
    });
    provider.on('server_error', (_ctx: unknown, err: Error) => serverErrors.push(err));
    const providerCallback = provider.callback();

    const interaction = async (req: IncomingMessage, res: ServerResponse, uid: string, action: string): Promise<void> => {
      const details = await provider.interactionDetails(req, res);
      if (details.uid !== uid) throw new Error('interaction mismatch');
      const base = `/interaction/${encodeURIComponent(uid)}`;
      if (req.method === 'GET' && action === '') {
        if (details.prompt.name === 'login') {
          send(res, 200, page('Sign in', `<form method="post" action="${base}/login">` +
            '<label>Username <input name="login" autocomplete="username" required autofocus></label>' +
            '<label>Password <input name="password" type="password" autocomplete="current-password" required></label>' +
            '<button type="submit">Sign in</button></form>'));
        } else {
          send(res, 200, page('Authorize podterm', `<form method="post" action="${base}/confirm">` +
            `<p>Scopes: ${escapeHtml((details.prompt.details.missingOIDCScope ?? []).join(' '))}</p>` +
            '<button type="submit">Allow</button></form>'));
        }
        return;
      }
      if (req.method === 'POST' && action === 'login' && details.prompt.name === 'login') {
        const form = await readForm(req);
        const login = form.get('login') ?? '';
        const user = Object.hasOwn(USERS, login) ? USERS[login] : undefined;
        if (!user || user.password !== form.get('password')) {
          send(res, 401, page('Sign in', '<p>Wrong username or password.</p>'));
          return;
        }
        await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
        return;
      }
      if (req.method === 'POST' && action === 'confirm' && details.prompt.name === 'consent') {
        const { session, params, grantId, prompt: { details: missing } } = details;
        const grant = grantId
          ? await provider.Grant.find(grantId)
          : new provider.Grant({ accountId: session?.accountId ?? '', clientId: params.client_id });
        if (!grant) throw new Error('grant not found');
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
        return;
      }
      send(res, 400, page('Error', '<p>Unexpected interaction step.</p>'));
    };

    handler = (req, res) => {
      const m = /^\/interaction\/([\w-]+)(?:\/(login|confirm))?$/.exec(new URL(req.url ?? '/', issuer).pathname);
      if (!m) {
        providerCallback(req, res);
        return;
      }
      interaction(req, res, m[1] as string, m[2] ?? '').catch((err: unknown) => {
        serverErrors.push(err instanceof Error ? err : new Error(String(err)));
        if (!res.headersSent) send(res, 400, page('Error', '<p>The sign-in step failed.</p>'));
        else res.destroy();
      });
    };

    return {
      issuer,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      serverErrors,
      sign: (payload, header = {}) =>
        new SignJWT(payload).setProtectedHeader({ alg: header.alg ?? 'RS256', kid: KID, typ: 'JWT' }).sign(privateKey),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
