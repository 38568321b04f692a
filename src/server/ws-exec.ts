/**
 * `/ws/exec`: authentication, Origin and argument checks before the upgrade (HTTP status + JSON on
 * failure, nothing reaches Kubernetes), then one session per socket. The main thread only moves
 * buffers: messages go to the actor as they are, encoded frames come back ready to send.
 */
import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import { ERRORS, isErrorCode, PodtermError } from '../protocol/errors.js';
import { encode, ServerOp, SUBPROTOCOL } from '../protocol/index.js';
import type { LogFn } from '../log/logger.js';
import type { Metrics } from '../supervisor/metrics.js';
import type { Session } from '../supervisor/session.js';
import { toArrayBuffer } from '../supervisor/session.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { originAllowed, type Authenticator, type Identity } from './auth.js';
import { guardUpgrade, guardWs } from './route-guard.js';
import { parseExecQuery, type ExecParams } from './validate.js';

interface SocketData {
  identity: Identity;
  params: ExecParams;
  session: Session | undefined;
  /** Set in the close handler; the socket must not be touched afterwards. */
  closed: boolean;
  /** For the session's end line in the log. */
  openedAt: number;
  bytesIn: number;
  bytesOut: number;
  /** How the server ended the socket (close code, reason), if it did. */
  ended: [number, string] | undefined;
}

export interface WsExecOptions {
  auth: Authenticator;
  supervisor: Supervisor;
  metrics: Metrics;
  log: LogFn;
  allowedOrigins: string[] | undefined;
  maxMessageBytes: number;
  /** uWS idle timeout in seconds; with automatic pings a live browser never hits it. */
  idleTimeoutSec: number;
  /** Hard cap per socket; the high-water mark pauses output long before this. */
  maxBackpressure: number;
}

/**
 * uWS drops the TCP connection without a close frame (the client sees 1006) when a message, or the
 * fragments of one, exceed maxPayloadLength; it refuses a single frame from its header, before
 * buffering it. docs/protocol.md wants 1009, so uWS gets this much headroom above the configured
 * limit and message() enforces the limit itself: up to limit + headroom the client gets 1009, beyond
 * it 1006. The headroom is also what one socket can make uWS buffer, hence bounded.
 */
export const MESSAGE_HEADROOM_BYTES = 256 * 1024;

/** RFC 6455 §4.4: the only version we speak; any other gets 426 and this header. */
const WS_VERSION = '13';

export function mountWsExec(app: TemplatedApp, o: WsExecOptions): void {
  // Every refusal after the upgrade: counted as a failure, then the error frame and the close code.
  const refuse = (ws: WebSocket<SocketData>, err: PodtermError): void => {
    o.metrics.countFailure(err.code);
    sendErrorAndClose(ws, err);
  };
  const refuseOnError = (ws: WebSocket<SocketData>, err: PodtermError): void => {
    if (!ws.getUserData().closed) refuse(ws, err);
  };
  app.ws<SocketData>('/ws/exec', {
    maxPayloadLength: o.maxMessageBytes + MESSAGE_HEADROOM_BYTES,
    idleTimeout: o.idleTimeoutSec,
    sendPingsAutomatically: true,
    maxBackpressure: o.maxBackpressure,
    upgrade: guardUpgrade(o.log, 'GET /ws/exec', (req, reply, context) => {
      // Copy everything out of req now: it is only valid during this callback.
      const key = req.getHeader('sec-websocket-key');
      const protocols = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      if (req.getHeader('sec-websocket-version') !== WS_VERSION) {
        return reply.error(new PodtermError('BadRequest', `This server speaks WebSocket version ${WS_VERSION} only.`), {
          status: 426,
          headers: [['Sec-WebSocket-Version', WS_VERSION]],
        });
      }
      const identity = o.auth.fromHeaders(req.getHeader('cookie'), req.getHeader('authorization'));
      if (!identity) return reply.error(new PodtermError('Unauthorized'));
      if (!originAllowed(req.getHeader('origin'), req.getHeader('host'), o.allowedOrigins)) {
        return reply.error(new PodtermError('Forbidden', 'This page origin may not open terminals here.'));
      }
      if (!protocols.split(',').map((p) => p.trim()).includes(SUBPROTOCOL)) {
        return reply.error(new PodtermError('BadRequest', `The WebSocket subprotocol must be ${SUBPROTOCOL}.`));
      }
      const params = parseExecQuery(req.getQuery() ?? '');
      const data: SocketData = { identity, params, session: undefined, closed: false, openedAt: 0, bytesIn: 0, bytesOut: 0, ended: undefined };
      reply.upgrade(data, key, SUBPROTOCOL, extensions, context);
    }),
    open: guardWs(
      o.log,
      'open',
      (ws: WebSocket<SocketData>) => {
        const data = ws.getUserData();
        data.openedAt = Date.now();
        const result = o.supervisor.open(
          { ownerKey: data.identity.key, context: data.identity.context, ...data.params },
          {
            // These run from port events, outside any uWS callback: cork so uWS writes them now.
            send: (ab) => {
              if (data.closed) return;
              data.bytesOut += ab.byteLength;
              ws.cork(() => ws.send(ab, true));
            },
            bufferedAmount: () => (data.closed ? 0 : ws.getBufferedAmount()),
            end: (code, reason) => {
              if (data.closed) return;
              data.ended ??= [code, reason];
              if (isErrorCode(reason)) o.metrics.countFailure(reason);
              ws.cork(() => ws.end(code, reason));
            },
          },
        );
        if (result instanceof PodtermError) {
          // docs/protocol.md lists limits as close codes: upgrade, then the error frame, then close.
          o.supervisor.countRefused();
          refuse(ws, result);
          return;
        }
        data.session = result;
        const p = data.params;
        o.log('info', 'session start', { session: result.id, who: data.identity.key, context: data.identity.context, namespace: p.namespace, pod: p.pod, container: p.container, command: p.command });
      },
      refuseOnError,
    ),
    message: guardWs(
      o.log,
      'message',
      (ws: WebSocket<SocketData>, message: ArrayBuffer) => {
        const data = ws.getUserData();
        if (message.byteLength > o.maxMessageBytes) return refuse(ws, new PodtermError('MessageTooBig'));
        data.bytesIn += message.byteLength;
        data.session?.fromClient(message);
      },
      refuseOnError,
    ),
    drain: guardWs(o.log, 'drain', (ws: WebSocket<SocketData>) => ws.getUserData().session?.drained(), refuseOnError),
    close: guardWs(
      o.log,
      'close',
      (ws: WebSocket<SocketData>, code: number) => {
        const data = ws.getUserData();
        data.closed = true;
        const session = data.session;
        if (!session) return;
        session.clientClosed();
        const [closeCode, reason] = data.ended ?? [code, 'client_closed'];
        o.log('info', 'session end', {
          session: session.id,
          who: data.identity.key,
          namespace: data.params.namespace,
          pod: data.params.pod,
          container: data.params.container,
          durationMs: Date.now() - data.openedAt,
          outcome: reason,
          closeCode,
          bytesIn: data.bytesIn,
          bytesOut: data.bytesOut,
        });
      },
      () => undefined,
    ),
  });
}

function sendErrorAndClose(ws: WebSocket<SocketData>, err: PodtermError): void {
  const data = ws.getUserData();
  data.ended ??= [ERRORS[err.code].close, err.code];
  ws.cork(() => {
    ws.send(toArrayBuffer(encode([ServerOp.Error, { code: err.code, message: err.message }])), true);
    ws.end(ERRORS[err.code].close, err.code);
  });
}
