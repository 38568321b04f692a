/**
 * Attaches an audit record to a request without the routes knowing: the response's status line
 * (and the Status body of a failure) is observed where it is written, and the record completes when
 * the connection is done with the request. For an upgrade that is the raw socket: the 101 written
 * by `ws` (ResponseStarted) or a refusal written by ExecHandler.reject, then the socket's close
 * (ResponseComplete), which for an exec is the end of the stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Principal } from './auth.js';
import type { AuditLog, ResponseFacts } from './audit-log.js';
import { requestInfo } from './request-info.js';

function failureOf(body: string): ResponseFacts['status'] {
  const start = body.indexOf('{');
  if (start === -1) return undefined;
  try {
    const s = JSON.parse(body.slice(start)) as { status?: unknown; message?: unknown; reason?: unknown };
    const out: { status?: string; message?: string; reason?: string } = {};
    if (typeof s.status === 'string') out.status = s.status;
    if (typeof s.message === 'string') out.message = s.message;
    if (typeof s.reason === 'string') out.reason = s.reason;
    return out;
  } catch {
    return undefined;
  }
}

function chunkText(chunk: unknown): string | undefined {
  if (typeof chunk === 'string') return chunk;
  if (Buffer.isBuffer(chunk)) return chunk.toString('utf8');
  return undefined;
}

export function auditRequest(log: AuditLog, req: IncomingMessage, res: ServerResponse, url: URL, principal: () => Principal | null): void {
  const record = log.begin(req, requestInfo(req.method ?? 'GET', url), principal);
  let body = '';
  // Every route answers with one res.end(body); keep a copy of a failure's body for the event.
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    if (res.statusCode >= 400) body = chunkText(args[0]) ?? '';
    return end(...args);
  }) as ServerResponse['end'];
  res.once('close', () => {
    const status = res.statusCode >= 400 ? failureOf(body) : undefined;
    record.complete(status ? { code: res.statusCode, status } : { code: res.statusCode });
  });
}

export function auditUpgrade(log: AuditLog, req: IncomingMessage, socket: Duplex, url: URL, principal: () => Principal | null): void {
  const record = log.begin(req, requestInfo(req.method ?? 'GET', url), principal);
  let facts: ResponseFacts | undefined;
  const observe = (chunk: unknown): void => {
    if (facts) return;
    const text = chunkText(chunk);
    const m = text === undefined ? null : /^HTTP\/1\.1 (\d{3})/.exec(text);
    if (!m) return;
    const code = Number(m[1]);
    const status = code >= 400 ? failureOf((text as string).slice((text as string).indexOf('\r\n\r\n') + 4)) : undefined;
    facts = status ? { code, status } : { code };
    if (code === 101) record.started(code);
  };
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  const end = socket.end.bind(socket) as (...args: unknown[]) => Duplex;
  socket.write = ((...args: unknown[]) => {
    observe(args[0]);
    return write(...args);
  }) as Duplex['write'];
  socket.end = ((...args: unknown[]) => {
    observe(args[0]);
    return end(...args);
  }) as Duplex['end'];
  // A socket that closed before any answer was written (the client went away) has no status: code 0.
  socket.once('close', () => record.complete(facts ?? { code: 0 }));
}
