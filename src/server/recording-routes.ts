/**
 * `GET /api/v1/recordings[?namespace=&pod=&user=]` and `GET /api/v1/recordings/{id}`
 * (docs/protocol.md, HTTP additions): the owner sees their own recordings, members of
 * `--recordings-group` see all, anyone else gets 403 for someone else's (and the audit log says
 * who tried).
 */
import type { HttpRequest, TemplatedApp } from 'uWebSockets.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Person } from '../auth/person.js';
import { PodtermError, toPodtermError } from '../protocol/errors.js';
import type { RecordingCatalog } from '../recording/catalog.js';
import { guardRoute, type Reply, type RouteEnv } from './route-guard.js';

/**
 * A recording is sent from memory, so one download holds at most this much. Larger ones are
 * refused with a clear error (they stay on the volume); streaming them is the next step.
 */
export const MAX_RECORDING_DOWNLOAD = 64 * 1024 * 1024;

export interface RecordingRoutesOptions extends RouteEnv {
  catalog: RecordingCatalog;
  /** The person behind the request, or undefined (401). Reads the headers before it awaits. */
  person(req: HttpRequest): Promise<Person | undefined>;
  audit: AuditLog | undefined;
}

export function mountRecordingRoutes(app: TemplatedApp, o: RecordingRoutesOptions): void {
  const route = (pattern: string, handler: (req: HttpRequest, reply: Reply) => void | Promise<void>): void => {
    app.get(pattern, guardRoute(o, `GET ${pattern}`, handler));
  };

  route('/api/v1/recordings', async (req, reply) => {
    const filter = {
      ...(req.getQuery('namespace') ? { namespace: req.getQuery('namespace') as string } : {}),
      ...(req.getQuery('pod') ? { pod: req.getQuery('pod') as string } : {}),
      ...(req.getQuery('user') ? { user: req.getQuery('user') as string } : {}),
    };
    const person = await o.person(req);
    if (!person) return reply.error(new PodtermError('Unauthorized'));
    const items = await o.catalog.list({ username: person.username, groups: person.groups }, filter);
    reply.json(200, { items });
  });

  route('/api/v1/recordings/:id', async (req, reply) => {
    const id = req.getParameter(0) ?? '';
    const client = { remoteAddress: reply.remoteAddress(), userAgent: req.getHeader('user-agent') };
    const person = await o.person(req);
    if (!person) return reply.error(new PodtermError('Unauthorized'));
    const who = { user: person.username, groups: person.groups, via: person.via, ...client };
    let opened;
    try {
      opened = await o.catalog.openCast({ username: person.username, groups: person.groups }, id);
    } catch (err) {
      const e = toPodtermError(err);
      if (e.code === 'Forbidden') o.audit?.write('recording.forbidden', { ...who, recording: id, reason: e.code });
      throw e;
    }
    try {
      if (opened.size > MAX_RECORDING_DOWNLOAD) {
        throw new PodtermError('BadRequest', `This recording is ${opened.size} bytes; downloads here stop at ${MAX_RECORDING_DOWNLOAD}. It is on the recordings volume.`);
      }
      const body = await opened.fh.readFile();
      o.audit?.write('recording.view', { ...who, recording: id, session: opened.meta.session });
      reply.send(200, 'application/x-asciicast', body, [['Cache-Control', 'no-store']]);
    } finally {
      await opened.fh.close();
    }
  });
}
