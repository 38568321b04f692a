/**
 * `GET /api/v1/recordings[?namespace=&pod=&user=]` and `GET /api/v1/recordings/{id}`
 * (docs/protocol.md, HTTP additions): the owner sees their own recordings, members of
 * `--recordings-group` see all, anyone else gets 403 for someone else's (and the audit log says
 * who tried).
 */
import { Readable } from 'node:stream';
import type { HttpRequest, TemplatedApp } from 'uWebSockets.js';
import { whoFields, type AuditSink, type RequestClient } from '../audit/request-audit.js';
import type { Person } from '../auth/person.js';
import { PodtermError, toPodtermError } from '../protocol/errors.js';
import type { RecordingCatalog } from '../recording/catalog.js';
import { guardRoute, type Reply, type RouteEnv } from './route-guard.js';

/**
 * A recording is streamed from its file with backpressure (response-stream.ts): the gateway holds
 * one read chunk per download whatever the size. Each chunk, hence each uWS write, stays below
 * 16 KiB: the uWS build we run can corrupt a write of 16 KiB or more that it has to buffer
 * (src/protocol/limits.ts).
 */
export const RECORDING_READ_CHUNK = 16_000;

export interface RecordingRoutesOptions extends RouteEnv {
  catalog: RecordingCatalog;
  /** The person behind the request, or undefined (401). Reads the headers before it awaits. */
  person(req: HttpRequest, client?: RequestClient): Promise<Person | undefined>;
  audit: AuditSink | undefined;
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
    const person = await o.person(req, reply.client);
    if (!person) return reply.error(new PodtermError('Unauthorized'));
    const items = await o.catalog.list({ username: person.username, groups: person.groups }, filter);
    reply.json(200, { items });
  });

  route('/api/v1/recordings/:id', async (req, reply) => {
    const id = req.getParameter(0) ?? '';
    const person = await o.person(req, reply.client);
    if (!person) return reply.error(new PodtermError('Unauthorized'));
    const who = whoFields(person, reply.client);
    let opened;
    try {
      opened = await o.catalog.openCast({ username: person.username, groups: person.groups }, id);
    } catch (err) {
      const e = toPodtermError(err);
      if (e.code === 'Forbidden') o.audit?.write('recording.forbidden', { ...who, recording: id, reason: e.code });
      throw e;
    }
    const { fh, size, meta } = opened;
    // The size when opened: a recording still being written is sent as far as it was then.
    const stream = reply.stream(200, [['Content-Type', 'application/x-asciicast'], ['Cache-Control', 'no-store']], size);
    if (!stream) return void (await fh.close());
    // An empty file has nothing to read (createReadStream wants end >= start): it ends at once.
    const source = size === 0 ? Readable.from([]) : fh.createReadStream({ start: 0, end: size - 1, highWaterMark: RECORDING_READ_CHUNK, autoClose: false });
    let outcome: 'ended' | 'aborted' = 'aborted';
    try {
      outcome = await stream.pipeFrom(source);
    } finally {
      source.destroy();
      await fh.close().catch(() => undefined);
      // `aborted`: the client left, or the file could not be read (the connection was then cut).
      o.audit?.write('recording.view', { ...who, recording: id, session: meta.session, size: stream.bytesSent, outcome: outcome === 'ended' ? 'ok' : 'aborted' });
    }
  });
}
