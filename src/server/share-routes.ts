/**
 * Read-only links to a session (docs/protocol.md, HTTP additions), for its owner only:
 *   POST   /api/v1/sessions/{id}/shares  body {ttlSeconds}  -> 201 {token, url, expiresAt}
 *   DELETE /api/v1/sessions/{id}/shares                    -> 204; every share revoked, watchers get SessionGone
 * `url` opens the page in watch mode: the token rides in the fragment (`/#watch=TOKEN`), which the
 * browser never sends to a server, so it stays out of access logs and Referer headers.
 * Another person's session is answered as if it did not exist (404), as in session-routes.ts.
 * With peers (src/cluster), a session held by another replica is shared or revoked there.
 */
import type { HttpRequest, TemplatedApp } from 'uWebSockets.js';
import { PodtermError } from '../protocol/errors.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { originAllowed } from '../auth/token-auth.js';
import type { Person } from '../auth/person.js';
import { sessionOwner } from '../auth/session-owner.js';
import { SHARE_TTL_DEFAULT_S, SHARE_TTL_MAX_S } from '../auth/share-token.js';
import { cookiesSecure, guardRoute, type RouteEnv } from './route-guard.js';
import type { RequestClient } from '../audit/request-audit.js';
import type { RequestBody } from './request-body.js';
import type { Cluster } from '../cluster/cluster.js';

export interface ShareRoutesOptions extends RouteEnv {
  supervisor: Supervisor;
  /** The person behind the request, or undefined (401). */
  person: (req: HttpRequest, client?: RequestClient) => Promise<Person | undefined>;
  allowedOrigins: string[] | undefined;
  /** Additive: the other replicas (absent: this replica's sessions only). */
  cluster?: Cluster | undefined;
}

/** Session ids are UUIDs (supervisor.ts); anything else cannot name one. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** `{"ttlSeconds": 86400}` and then some. */
const MAX_BODY = 1024;

/** What a POST or DELETE copies out of `req` before its first await. */
function requestOf(req: HttpRequest, env: RouteEnv): { origin: string; host: string; id: string; tls: boolean } {
  return { origin: req.getHeader('origin'), host: req.getHeader('host'), id: req.getParameter(0) ?? '', tls: cookiesSecure(req, env) };
}

export function mountShareRoutes(app: TemplatedApp, o: ShareRoutesOptions): void {
  /** The owner's key, or the error to answer: 401, 403 for another origin (a state-changing request, as for /ws/exec), 404 for a bad id. */
  const ownerOf = async (req: HttpRequest, r: { origin: string; host: string; id: string }, client: RequestClient): Promise<{ owner: string; person: Person } | PodtermError> => {
    const person = await o.person(req, client);
    if (!person) return new PodtermError('Unauthorized');
    if (!originAllowed(r.origin, r.host, o.allowedOrigins)) return new PodtermError('Forbidden', 'This page origin may not share sessions here.');
    if (!SESSION_ID.test(r.id)) return new PodtermError('NotFound', 'No such session.');
    return { owner: sessionOwner(person), person };
  };

  app.post(
    '/api/v1/sessions/:id/shares',
    guardRoute(o, 'POST /api/v1/sessions/:id/shares', async (req, reply) => {
      const r = requestOf(req, o);
      // The body is delivered only to a handler registered during this callback.
      const body = reply.body(req, MAX_BODY);
      const owner = await ownerOf(req, r, reply.client);
      if (owner instanceof PodtermError) {
        body.destroy();
        return reply.error(owner);
      }
      const ttl = parseTtl(await readText(body));
      const issued = o.supervisor.share(owner.owner, r.id, ttl) ?? (await o.cluster?.share(owner.person, r.id, ttl));
      if (!issued) return reply.error(new PodtermError('NotFound', 'No such session.'));
      const url = `${r.tls ? 'https' : 'http'}://${r.host}/#watch=${issued.token}`;
      reply.json(201, { token: issued.token, url, expiresAt: issued.expiresAt });
    }),
  );

  app.del(
    '/api/v1/sessions/:id/shares',
    guardRoute(o, 'DELETE /api/v1/sessions/:id/shares', async (req, reply) => {
      const r = requestOf(req, o);
      const owner = await ownerOf(req, r, reply.client);
      if (owner instanceof PodtermError) return reply.error(owner);
      if (!o.supervisor.revokeShares(owner.owner, r.id) && !(await o.cluster?.revokeShares(owner.person, r.id))) return reply.error(new PodtermError('NotFound', 'No such session.'));
      reply.send(204, 'text/plain; charset=utf-8', '', [['Cache-Control', 'no-store']]);
    }),
  );
}

async function readText(body: RequestBody): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `{ttlSeconds}`: an integer 1..SHARE_TTL_MAX_S; an empty body or no field is the default (1 h). */
export function parseTtl(text: string): number {
  if (text.trim() === '') return SHARE_TTL_DEFAULT_S;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new PodtermError('BadRequest', 'The body must be JSON: {"ttlSeconds": N}.');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PodtermError('BadRequest', 'The body must be a JSON object: {"ttlSeconds": N}.');
  const ttl = (v as { ttlSeconds?: unknown }).ttlSeconds;
  if (ttl === undefined) return SHARE_TTL_DEFAULT_S;
  if (!Number.isSafeInteger(ttl) || (ttl as number) < 1 || (ttl as number) > SHARE_TTL_MAX_S) {
    throw new PodtermError('BadRequest', `ttlSeconds must be an integer 1..${SHARE_TTL_MAX_S}.`);
  }
  return ttl as number;
}
