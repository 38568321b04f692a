/**
 * The caller's sessions on every replica (docs/protocol.md, HTTP additions):
 *   GET    /api/v1/sessions       -> [{id, namespace, pod, container, command, state, createdAt,
 *                                     detachedAt, graceEndsAt, viewers, resumeToken}]
 *                                    (SessionListItem in src/protocol/http.ts)
 *   DELETE /api/v1/sessions/{id}  -> 204; the owner ends it (attached sockets get SessionGone)
 * Another person's session is answered as if it did not exist (404), so nobody learns what runs.
 * With peers (src/cluster), the list gathers every replica's sessions in parallel, each item with
 * the `replica` that holds it; a peer that does not answer in time is named in the
 * `Podterm-Unreachable` header (comma-separated base URLs) instead of failing the request. DELETE
 * of a session held elsewhere is passed to the peers.
 */
import type { HttpRequest, TemplatedApp } from 'uWebSockets.js';
import { PodtermError } from '../protocol/errors.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { originAllowed } from '../auth/token-auth.js';
import type { Person } from '../auth/person.js';
import type { RequestClient } from '../audit/request-audit.js';
import { sessionOwner } from '../auth/session-owner.js';
import { guardRoute, type RouteEnv } from './route-guard.js';
import type { Cluster } from '../cluster/cluster.js';

export interface SessionRoutesOptions extends RouteEnv {
  supervisor: Supervisor;
  /** The person behind the request, or undefined (401). */
  person: (req: HttpRequest, client?: RequestClient) => Promise<Person | undefined>;
  allowedOrigins: string[] | undefined;
  /** Additive: the other replicas (absent: this replica's sessions only). */
  cluster?: Cluster | undefined;
}

/** Session ids are UUIDs (supervisor.ts); anything else cannot name one. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function mountSessionRoutes(app: TemplatedApp, o: SessionRoutesOptions): void {
  app.get(
    '/api/v1/sessions',
    guardRoute(o, 'GET /api/v1/sessions', async (req, reply) => {
      const person = await o.person(req, reply.client);
      if (!person) return reply.error(new PodtermError('Unauthorized'));
      const here = o.supervisor.sessionsOf(sessionOwner(person));
      if (!o.cluster) return reply.json(200, here);
      const self = o.cluster.self.id;
      const there = await o.cluster.gatherSessions(person);
      const headers: Array<[string, string]> = there.unreachable.length > 0 ? [['Podterm-Unreachable', there.unreachable.join(', ')]] : [];
      reply.json(200, [...here.map((s) => ({ ...s, replica: self })), ...there.sessions], headers);
    }),
  );
  app.del(
    '/api/v1/sessions/:id',
    guardRoute(o, 'DELETE /api/v1/sessions/:id', async (req, reply) => {
      // Read everything from req before the await: it is valid only during this callback.
      const origin = req.getHeader('origin');
      const host = req.getHeader('host');
      const id = req.getParameter(0) ?? '';
      const person = await o.person(req, reply.client);
      if (!person) return reply.error(new PodtermError('Unauthorized'));
      // A state-changing request: a page of another origin may not make it (as for /ws/exec).
      if (!originAllowed(origin, host, o.allowedOrigins)) {
        return reply.error(new PodtermError('Forbidden', 'This page origin may not end sessions here.'));
      }
      const ended = SESSION_ID.test(id) && (o.supervisor.endSession(sessionOwner(person), id) || (o.cluster !== undefined && (await o.cluster.endSession(person, id))));
      if (!ended) return reply.error(new PodtermError('NotFound', 'No such session.'));
      reply.send(204, 'text/plain; charset=utf-8', '', [['Cache-Control', 'no-store']]);
    }),
  );
}
