/**
 * The one wrapper every uWS handler goes through. uWebSockets.js calls handlers from C++: an
 * exception escaping one of them is an uncaught exception, and a request left unanswered aborts the
 * process ("Returning from a request handler without responding…"). So no handler may throw past
 * here: a synchronous throw or a rejected promise becomes a JSON `{code, message}` answer
 * (docs/protocol.md), answered at most once and never after uWS reported an abort.
 */
import type { HttpRequest, HttpResponse, us_socket_context_t, WebSocket } from 'uWebSockets.js';
import { ERRORS, PodtermError } from '../protocol/errors.js';
import type { LogFn } from '../log/logger.js';
import { statusLine } from './http-util.js';
import { RequestBody } from './request-body.js';
import { ResponseStream } from './response-stream.js';
import type { RequestClient } from '../audit/request-audit.js';

type ReplyState = 'open' | 'answered' | 'aborted';
type Headers = ReadonlyArray<readonly [string, string]>;

/**
 * What the routes of one mount share: their log, and whether the gateway serves TLS itself
 * (`--tls-cert`). Every options object of a `mount…` function is one, so no route can be mounted
 * without saying how it is served.
 */
export interface RouteEnv {
  readonly log: LogFn;
  readonly tls: boolean;
}

/**
 * RFC 6797: under TLS of its own every answer tells the browser to use https only, for a year.
 * Without it podterm serves plain HTTP or sits behind a proxy that owns that policy.
 */
export const HSTS: readonly [string, string] = ['Strict-Transport-Security', 'max-age=31536000'];

/** The headers every answer of a gateway served this way carries. */
export function transportHeaders(tls: boolean): Headers {
  return tls ? [HSTS] : [];
}

/**
 * Whether cookies get `Secure`: when the gateway serves TLS itself, or a TLS-terminating proxy in
 * front says the browser used https (`X-Forwarded-Proto`).
 */
export function cookiesSecure(req: HttpRequest, env: RouteEnv): boolean {
  return env.tls || req.getHeader('x-forwarded-proto').toLowerCase() === 'https';
}

/** One HTTP response: corked writes, one answer, nothing after an abort. */
export class Reply {
  #state: ReplyState = 'open';
  readonly #res: HttpResponse;
  readonly #head: boolean;
  /** Headers every answer carries (transportHeaders). */
  readonly #always: Headers;
  /** Who else must hear of an abort: a streamed request body or response. */
  readonly #onAbort: Array<() => void> = [];

  /** Where the request came from (audit lines), copied while the request is valid. */
  readonly client: RequestClient;

  constructor(res: HttpResponse, method: string, userAgent = '', always: Headers = []) {
    this.#res = res;
    this.#always = always;
    this.client = { remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(), ...(userAgent ? { userAgent } : {}) };
    // uWS writes a body even for HEAD (RFC 9110 §9.3.2 forbids it), which desynchronises a
    // keep-alive connection. A HEAD answer gets an empty body and closes the connection (uWS
    // 20.30's endWithoutBody leaves the connection unable to take the next request).
    this.#head = method === 'head';
    // Registered before anything can await: uWS requires it for any response answered later.
    res.onAborted(() => {
      if (this.#state === 'open') this.#state = 'aborted';
      for (const f of this.#onAbort.splice(0)) f();
    });
  }

  /** The peer's address (for the audit log), as copied when the request came in. */
  remoteAddress(): string {
    return this.client.remoteAddress ?? '';
  }

  /** Answered or aborted: nothing more may be written. */
  get done(): boolean {
    return this.#state !== 'open';
  }

  /** Writes a full response; a no-op when already answered or aborted. `close` ends the connection. */
  send(status: number, type: string, body: string | Buffer, headers: ReadonlyArray<readonly [string, string]> = [], close = false): void {
    if (this.#state !== 'open') return;
    this.#state = 'answered';
    const res = this.#res;
    res.cork(() => {
      res.writeStatus(statusLine(status));
      res.writeHeader('Content-Type', type);
      for (const [k, v] of this.#always) res.writeHeader(k, v);
      for (const [k, v] of headers) res.writeHeader(k, v);
      if (this.#head) res.end('', true);
      else res.end(body, close);
    });
  }

  json(status: number, value: unknown, headers: ReadonlyArray<readonly [string, string]> = [], close = false): void {
    this.send(status, 'application/json; charset=utf-8', JSON.stringify(value), [['Cache-Control', 'no-store'], ...headers], close);
  }

  /** The error body every failure before an upgrade uses: HTTP status + `{code, message}`. */
  error(err: PodtermError, o: { status?: number; headers?: ReadonlyArray<readonly [string, string]>; close?: boolean } = {}): void {
    this.json(o.status ?? ERRORS[err.code].http, { code: err.code, message: err.message }, o.headers, o.close);
  }

  /** Runs `f` when uWS reports the client gone (at once if it already did). */
  onAbort(f: () => void): void {
    if (this.#state === 'aborted') f();
    else this.#onAbort.push(f);
  }

  /**
   * The request body as a stream (request-body.ts). Call it before the handler's first await: uWS
   * delivers the body only to a handler registered during the request callback.
   */
  body(req: HttpRequest, maxBytes: number): RequestBody {
    const length = req.getHeader('content-length');
    const empty = req.getHeader('transfer-encoding') === '' && (length === '' || /^0+$/.test(length));
    const body = new RequestBody(this.#res, maxBytes, empty);
    this.#onAbort.push(() => body.aborted());
    return body;
  }

  /**
   * Answers with a streamed body (response-stream.ts): the reply counts as answered from here on;
   * the stream owns the response. undefined when already answered or aborted.
   */
  stream(status: number, headers: ReadonlyArray<readonly [string, string]>, size: number | null): ResponseStream | undefined {
    if (this.#state !== 'open') return undefined;
    this.#state = 'answered';
    const stream = new ResponseStream(this.#res, status, [...this.#always, ...headers], size);
    this.#onAbort.push(() => stream.aborted());
    return stream;
  }

  /** Completes a WebSocket upgrade (inside cork, as uWS requires for upgrades answered later). */
  upgrade<T>(data: T, key: string, protocol: string, extensions: string, context: us_socket_context_t): void {
    if (this.#state !== 'open') return;
    this.#state = 'answered';
    this.#res.cork(() => this.#res.upgrade(data, key, protocol, extensions, context));
  }
}

/** Malformed percent-encoding (decodeURIComponent's URIError) is the client's fault, not ours. */
export function toClientError(err: unknown): PodtermError | undefined {
  if (err instanceof PodtermError) return err;
  if (err instanceof URIError) return new PodtermError('BadRequest', 'The URL has malformed percent-encoding.');
  return undefined;
}

/**
 * RFC 9112 §6.3: several Content-Length values that differ (or one that is not a number) make the
 * message length unknowable; a server must answer 400 and close the connection. uWS reads only the
 * first value (getHeader), which lets a proxy and podterm disagree on where a request ends.
 */
export function framingProblem(req: HttpRequest): PodtermError | undefined {
  let length: string | undefined;
  let bad = false;
  req.forEach((key, value) => {
    if (key !== 'content-length') return;
    for (const v of value.split(',')) {
      const n = v.trim();
      if (!/^\d{1,15}$/.test(n) || (length !== undefined && length !== n)) bad = true;
      length ??= n;
    }
  });
  return bad ? new PodtermError('BadRequest', 'The request has conflicting or invalid Content-Length headers.') : undefined;
}

export type RouteHandler = (req: HttpRequest, reply: Reply) => void | Promise<void>;
export type UpgradeHandler = (req: HttpRequest, reply: Reply, context: us_socket_context_t) => void | Promise<void>;

/**
 * Wraps an HTTP route (or, with `context`, a WebSocket upgrade). The handler must copy what it needs
 * out of `req` before its first await (uWS reuses it); every answer goes through `reply`.
 */
export function guardRoute(env: RouteEnv, route: string, handler: RouteHandler): (res: HttpResponse, req: HttpRequest) => void {
  const always = transportHeaders(env.tls);
  return (res, req) => run(env.log, always, route, res, req, (reply) => handler(req, reply));
}

export function guardUpgrade(env: RouteEnv, route: string, handler: UpgradeHandler): (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => void {
  const always = transportHeaders(env.tls);
  return (res, req, context) => run(env.log, always, route, res, req, (reply) => handler(req, reply, context));
}

function run(log: LogFn, always: Headers, route: string, res: HttpResponse, req: HttpRequest, body: (reply: Reply) => void | Promise<void>): void {
  let reply: Reply | undefined;
  const fail = (err: unknown): void => {
    const known = toClientError(err);
    if (!known || known.code === 'Internal') log('error', 'route handler failed', { route, err: known?.cause ?? err });
    if (!reply || reply.done) return;
    reply.error(known ?? new PodtermError('Internal'));
  };
  try {
    reply = new Reply(res, req.getMethod(), req.getHeader('user-agent'), always);
    const framing = framingProblem(req);
    if (framing) return reply.error(framing, { close: true });
    const pending = body(reply);
    if (pending instanceof Promise) {
      pending.then(
        () => {
          if (!reply?.done) fail(new Error(`route ${route} resolved without answering`));
        },
        fail,
      );
    } else if (!reply.done) {
      fail(new Error(`route ${route} returned without answering`));
    }
  } catch (err) {
    fail(err);
    // Not even a Reply could be made: the request must still be answered or uWS aborts the process.
    if (!reply) {
      res.cork(() => {
        res.writeStatus(statusLine(500));
        for (const [k, v] of always) res.writeHeader(k, v);
        res.end('', true);
      });
    }
  }
}

/** Wraps a WebSocket event handler: a throw is logged and the socket closed with Internal (1011). */
export function guardWs<T, A extends unknown[]>(
  log: LogFn,
  event: string,
  handler: (ws: WebSocket<T>, ...args: A) => void,
  onError: (ws: WebSocket<T>, err: PodtermError) => void,
): (ws: WebSocket<T>, ...args: A) => void {
  return (ws, ...args) => {
    try {
      handler(ws, ...args);
    } catch (err) {
      log('error', 'websocket handler failed', { event, err });
      try {
        onError(ws, toClientError(err) ?? new PodtermError('Internal'));
      } catch (err2) {
        log('error', 'websocket error handler failed', { event, err: err2 });
      }
    }
  };
}
