/**
 * The routes only peers call (src/cluster), each behind the signed hop (hop-auth.ts): anything
 * without a valid `Podterm-Hop` header is 401 and says nothing about this replica.
 *   GET    /internal/v1/replica         -> {id, url}: who answers at this address (the directory)
 *   GET    /internal/v1/sessions        -> {replica: {id, url}, sessions}: the asserted person's sessions here
 *   DELETE /internal/v1/sessions/{id}   -> 204, or 404 when that person has no such session here
 *   POST   /internal/v1/sessions/{id}/shares?ttl=N -> 201 {token, expiresAt}, or 404
 *   DELETE /internal/v1/sessions/{id}/shares       -> 204, or 404
 */
import type { HttpRequest, TemplatedApp } from 'uWebSockets.js';
import { PodtermError } from '../protocol/errors.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { sessionOwner } from '../auth/session-owner.js';
import type { Person } from '../auth/person.js';
import { INTERNAL_PREFIX, type Cluster } from '../cluster/cluster.js';
import { CALLER_HEADER, HOP_HEADER, personOf } from '../cluster/hop-auth.js';
import { guardRoute, type RouteEnv } from './route-guard.js';
import { SHARE_TTL_MAX_S } from '../auth/share-token.js';

export interface InternalRoutesOptions extends RouteEnv {
  cluster: Cluster;
  supervisor: Supervisor;
}

export function mountInternalRoutes(app: TemplatedApp, o: InternalRoutesOptions): void {
  /** The person a peer vouches for, or a thrown 401 (read before any await). */
  const hopPerson = (req: HttpRequest, method: string, path: string): Person => {
    const verdict = o.cluster.hop.verify({ method, path, query: req.getQuery() ?? '' }, req.getHeader(HOP_HEADER), req.getHeader(CALLER_HEADER));
    if (typeof verdict === 'string') {
      o.log('warn', 'internal hop refused', { reason: verdict, path });
      throw new PodtermError('Unauthorized', 'The internal hop is not signed with this cluster\'s secret.');
    }
    return personOf(verdict);
  };
  app.get(
    `${INTERNAL_PREFIX}/replica`,
    guardRoute(o, 'GET /internal/v1/replica', (req, reply) => {
      hopPerson(req, 'GET', `${INTERNAL_PREFIX}/replica`);
      reply.json(200, o.cluster.self);
    }),
  );
  app.get(
    `${INTERNAL_PREFIX}/sessions`,
    guardRoute(o, 'GET /internal/v1/sessions', (req, reply) => {
      const person = hopPerson(req, 'GET', `${INTERNAL_PREFIX}/sessions`);
      reply.json(200, { replica: o.cluster.self, sessions: o.supervisor.sessionsOf(sessionOwner(person)) });
    }),
  );
  app.post(
    `${INTERNAL_PREFIX}/sessions/:id/shares`,
    guardRoute(o, 'POST /internal/v1/sessions/:id/shares', (req, reply) => {
      const id = req.getParameter(0) ?? '';
      const person = hopPerson(req, 'POST', `${INTERNAL_PREFIX}/sessions/${id}/shares`);
      // The asking replica checked the body; the MAC covers the query it sent.
      const ttl = Number(new URLSearchParams(req.getQuery() ?? '').get('ttl'));
      if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > SHARE_TTL_MAX_S) return reply.error(new PodtermError('BadRequest', 'ttl must be a positive integer.'));
      const issued = o.supervisor.share(sessionOwner(person), id, ttl);
      if (!issued) return reply.error(new PodtermError('NotFound', 'No such session.'));
      reply.json(201, { token: issued.token, expiresAt: issued.expiresAt });
    }),
  );
  app.del(
    `${INTERNAL_PREFIX}/sessions/:id/shares`,
    guardRoute(o, 'DELETE /internal/v1/sessions/:id/shares', (req, reply) => {
      const id = req.getParameter(0) ?? '';
      const person = hopPerson(req, 'DELETE', `${INTERNAL_PREFIX}/sessions/${id}/shares`);
      if (!o.supervisor.revokeShares(sessionOwner(person), id)) return reply.error(new PodtermError('NotFound', 'No such session.'));
      reply.send(204, 'text/plain; charset=utf-8', '', [['Cache-Control', 'no-store']]);
    }),
  );
  app.del(
    `${INTERNAL_PREFIX}/sessions/:id`,
    guardRoute(o, 'DELETE /internal/v1/sessions/:id', (req, reply) => {
      const id = req.getParameter(0) ?? '';
      const person = hopPerson(req, 'DELETE', `${INTERNAL_PREFIX}/sessions/${id}`);
      if (!o.supervisor.endSession(sessionOwner(person), id)) return reply.error(new PodtermError('NotFound', 'No such session.'));
      reply.send(204, 'text/plain; charset=utf-8', '', [['Cache-Control', 'no-store']]);
    }),
  );
}
