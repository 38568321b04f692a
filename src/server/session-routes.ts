/**
 * The caller's sessions on this replica (docs/protocol.md, HTTP additions):
 *   GET    /api/v1/sessions       -> [{id, namespace, pod, container, command, state, createdAt,
 *                                     detachedAt, viewers, resumeToken}]
 *   DELETE /api/v1/sessions/{id}  -> 204; the owner ends it (attached sockets get SessionGone)
 * Another person's session is answered as if it did not exist (404), so nobody learns what runs.
 */
import type { HttpRequest, TemplatedApp } from 'uWebSockets.js';
import { PodtermError } from '../protocol/errors.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { originAllowed } from '../auth/token-auth.js';
import type { Person } from '../auth/person.js';
import { sessionOwner } from '../auth/session-owner.js';
import { guardRoute, type RouteEnv } from './route-guard.js';

export interface SessionRoutesOptions extends RouteEnv {
  supervisor: Supervisor;
  /** The person behind the request, or undefined (401). */
  person: (req: HttpRequest) => Promise<Person | undefined>;
  allowedOrigins: string[] | undefined;
}

/** Session ids are UUIDs (supervisor.ts); anything else cannot name one. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function mountSessionRoutes(app: TemplatedApp, o: SessionRoutesOptions): void {
  app.get(
    '/api/v1/sessions',
    guardRoute(o, 'GET /api/v1/sessions', async (req, reply) => {
      const person = await o.person(req);
      if (!person) return reply.error(new PodtermError('Unauthorized'));
      reply.json(200, o.supervisor.sessionsOf(sessionOwner(person)));
    }),
  );
  app.del(
    '/api/v1/sessions/:id',
    guardRoute(o, 'DELETE /api/v1/sessions/:id', async (req, reply) => {
      // Read everything from req before the await: it is valid only during this callback.
      const origin = req.getHeader('origin');
      const host = req.getHeader('host');
      const id = req.getParameter(0) ?? '';
      const person = await o.person(req);
      if (!person) return reply.error(new PodtermError('Unauthorized'));
      // A state-changing request: a page of another origin may not make it (as for /ws/exec).
      if (!originAllowed(origin, host, o.allowedOrigins)) {
        return reply.error(new PodtermError('Forbidden', 'This page origin may not end sessions here.'));
      }
      if (!SESSION_ID.test(id) || !o.supervisor.endSession(sessionOwner(person), id)) {
        return reply.error(new PodtermError('NotFound', 'No such session.'));
      }
      reply.send(204, 'text/plain; charset=utf-8', '', [['Cache-Control', 'no-store']]);
    }),
  );
}
