/**
 * The caller's sessions on this replica (docs/protocol.md, HTTP additions):
 *   GET    /api/v1/sessions       -> [{id, namespace, pod, container, command, state, createdAt,
 *                                     detachedAt, viewers, resumeToken}]
 *   DELETE /api/v1/sessions/{id}  -> 204; the owner ends it (attached sockets get SessionGone)
 * Another person's session is answered as if it did not exist (404), so nobody learns what runs.
 */
import type { HttpRequest, TemplatedApp } from 'uWebSockets.js';
import { PodtermError } from '../protocol/errors.js';
import type { LogFn } from '../log/logger.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { originAllowed, type Identity } from '../auth/token-auth.js';
import { sessionOwner } from '../auth/session-owner.js';
import { guardRoute } from './route-guard.js';

export interface SessionRoutesOptions {
  supervisor: Supervisor;
  identify: (req: HttpRequest) => Identity | undefined;
  allowedOrigins: string[] | undefined;
  log: LogFn;
}

/** Session ids are UUIDs (supervisor.ts); anything else cannot name one. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function mountSessionRoutes(app: TemplatedApp, o: SessionRoutesOptions): void {
  app.get(
    '/api/v1/sessions',
    guardRoute(o.log, 'GET /api/v1/sessions', (req, reply) => {
      const identity = o.identify(req);
      if (!identity) return reply.error(new PodtermError('Unauthorized'));
      reply.json(200, o.supervisor.sessionsOf(sessionOwner(identity)));
    }),
  );
  app.del(
    '/api/v1/sessions/:id',
    guardRoute(o.log, 'DELETE /api/v1/sessions/:id', (req, reply) => {
      const identity = o.identify(req);
      if (!identity) return reply.error(new PodtermError('Unauthorized'));
      // A state-changing request: a page of another origin may not make it (as for /ws/exec).
      if (!originAllowed(req.getHeader('origin'), req.getHeader('host'), o.allowedOrigins)) {
        return reply.error(new PodtermError('Forbidden', 'This page origin may not end sessions here.'));
      }
      const id = req.getParameter(0) ?? '';
      if (!SESSION_ID.test(id) || !o.supervisor.endSession(sessionOwner(identity), id)) {
        return reply.error(new PodtermError('NotFound', 'No such session.'));
      }
      reply.send(204, 'text/plain; charset=utf-8', '', [['Cache-Control', 'no-store']]);
    }),
  );
}
