/**
 * Files in and out of a container (docs/protocol.md, HTTP additions):
 *
 * | method, path | |
 * |---|---|
 * | `GET /api/v1/namespaces/{ns}/pods/{pod}/files?container=C&path=P` | a regular file as itself (Content-Length), a directory as `NAME.tar` (chunked) |
 * | `PUT ...files?container=C&path=P` | the body becomes the file P (Content-Length required); with `Content-Type: application/x-tar`, the archive is extracted into the directory P |
 *
 * Both stream with backpressure both ways (request-body.ts, response-stream.ts, exec-process.ts).
 * Failures found before the first byte answer `{code, message}`; after it, the connection is cut.
 *
 * Each is reviewed as `create pods/exec` before the exec (issue 12) and audited once as
 * `file.download` / `file.upload` with the path, the bytes that went through and the outcome.
 */
import { posix } from 'node:path';
import type { TemplatedApp } from 'uWebSockets.js';
import { PodtermError } from '../protocol/errors.js';
import { startDownload } from '../files/download.js';
import { kubeExecOpener } from '../files/kube-exec.js';
import { upload, type UploadBody } from '../files/upload.js';
import { guardRoute, toClientError, type Reply } from './route-guard.js';
import { outcomeOf } from '../audit/request-audit.js';
import { FILES } from './exec-permission.js';
import { abortWith, auditTool, containerParam, podRequest, reviewAccess, type PodRequest, type PodToolDeps } from './pod-tools.js';

const MAX_PATH = 4096;

/** An absolute, normalised path below `/` (the copy needs a parent directory and a name). */
export function pathParam(q: URLSearchParams): string {
  const raw = q.get('path') ?? '';
  if (raw === '' || raw.length > MAX_PATH || raw.includes('\0')) throw new PodtermError('BadRequest', 'path must be an absolute path in the container.');
  if (!raw.startsWith('/')) throw new PodtermError('BadRequest', 'path must be absolute (start with /).');
  const p = posix.normalize(raw).replace(/\/+$/, '');
  if (p === '') throw new PodtermError('BadRequest', 'path must name a file or directory below /.');
  return p;
}

/** RFC 6266 with an ASCII fallback for old clients. */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function mountFileRoutes(app: TemplatedApp, deps: PodToolDeps): void {
  const pattern = '/api/v1/namespaces/:ns/pods/:pod/files';
  const c = deps.counters;
  const opener = (r: PodRequest, container: string, signal: AbortSignal) =>
    kubeExecOpener(r.kc, r.headers, { namespace: r.namespace, pod: r.pod, container }, signal, deps.agents, c.fileExecs, deps.kubeTimeoutMs);

  app.get(
    pattern,
    guardRoute(deps, `GET ${pattern}`, async (req, reply) => {
      const r = await podRequest(deps, req, reply.client);
      const container = containerParam(r.query, true) as string;
      const path = pathParam(r.query);
      const ctl = abortWith((f) => reply.onAbort(f));
      const what = { container, path };
      await reviewAccess(deps, r, FILES, 'file.download', what, ctl.signal);
      c.fileTransfers++;
      let sent = 0;
      let failure: unknown;
      /** The client left, or the stream was cut, before the whole body went out. */
      let aborted = false;
      try {
        const skipped = (problem: string): void => deps.log('warn', 'download: tar entry left out', { namespace: r.namespace, pod: r.pod, problem });
        const dl = await startDownload(opener(r, container, ctl.signal), path, skipped);
        const stream = reply.stream(200, [
          ['Content-Type', dl.kind === 'file' ? 'application/octet-stream' : 'application/x-tar'],
          ['Content-Disposition', attachment(dl.fileName)],
          ['Cache-Control', 'no-store'],
          ['X-Content-Type-Options', 'nosniff'],
          ['X-Podterm-Kind', dl.kind],
        ], dl.size);
        if (!stream) {
          dl.abort();
          aborted = true;
          return;
        }
        const outcome = await stream.pipeFrom(dl.body);
        sent = stream.bytesSent;
        if (outcome === 'aborted') {
          dl.abort();
          aborted = true;
        }
        await dl.done.catch((err: unknown) => {
          failure ??= err;
          deps.log('info', 'download ended early', { namespace: r.namespace, pod: r.pod, err: toClientError(err)?.message ?? err });
        });
      } catch (err) {
        failure = err;
        throw err;
      } finally {
        ctl.abort();
        c.fileTransfers--;
        auditTool(deps, r, 'file.download', { ...what, size: sent, outcome: failure === undefined && aborted ? 'aborted' : outcomeOf(failure) });
      }
    }),
  );

  app.put(
    pattern,
    guardRoute(deps, `PUT ${pattern}`, async (req, reply) => {
      // Taken before anything else: uWS delivers the body only to a handler set up now.
      const body = reply.body(req, deps.maxUploadBytes);
      const type = req.getHeader('content-type').split(';')[0]?.trim().toLowerCase() ?? '';
      const length = req.getHeader('content-length');
      try {
        const r = await podRequest(deps, req, reply.client);
        const container = containerParam(r.query, true) as string;
        const path = pathParam(r.query);
        const what = { container, path };
        let input: UploadBody;
        if (type === 'application/x-tar') input = /^\d{1,15}$/.test(length) ? { kind: 'tar', size: Number(length), body } : { kind: 'tar', body };
        else {
          if (!/^\d{1,15}$/.test(length)) throw new PodtermError('BadRequest', 'A file upload needs a Content-Length (or send a tar with Content-Type: application/x-tar).');
          input = { kind: 'file', size: Number(length), body };
        }
        if (/^\d{1,15}$/.test(length) && Number(length) > deps.maxUploadBytes) {
          throw new PodtermError('MessageTooBig', `The upload is larger than this server accepts (${deps.maxUploadBytes} bytes).`);
        }
        const ctl = abortWith((f) => reply.onAbort(f));
        await reviewAccess(deps, r, FILES, 'file.upload', what, ctl.signal);
        c.fileTransfers++;
        let failure: unknown;
        try {
          const result = await upload(opener(r, container, ctl.signal), path, input);
          reply.json(200, { path: result.path, bytes: body.bytes, via: result.via });
        } catch (err) {
          failure = err;
          throw err;
        } finally {
          ctl.abort();
          c.fileTransfers--;
          auditTool(deps, r, 'file.upload', { ...what, size: body.bytes, outcome: outcomeOf(failure) });
        }
      } catch (err) {
        refuseUpload(reply, err, deps);
      } finally {
        body.destroy();
      }
    }),
  );
}

/** An upload refused before its body was read: the connection closes, so unread bytes go with it. */
function refuseUpload(reply: Reply, err: unknown, deps: PodToolDeps): void {
  const known = toClientError(err);
  if (!known || known.code === 'Internal') deps.log('error', 'upload failed', { err });
  reply.error(known ?? new PodtermError('Internal'), { close: true });
}
