/**
 * `/ws/exec`: authentication, Origin and argument checks before the upgrade (HTTP status + JSON on
 * failure, nothing reaches Kubernetes), then one session per socket. The main thread only moves
 * buffers: messages go to the actor as they are, encoded frames come back ready to send.
 */
import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import { ERRORS, PodtermError, toPodtermError } from '../protocol/errors.js';
import { errorFrame, SUBPROTOCOL } from '../protocol/index.js';
import type { Session } from '../supervisor/session.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { originAllowed, type Authenticator, type Identity } from '../auth/token-auth.js';
import { sendError } from './http-util.js';
import { parseExecQuery, type ExecParams } from './validate.js';

/** uWS `send` result: the message was dropped (the socket is over maxBackpressure). */
const DROPPED = 2;

interface SocketData {
  identity: Identity;
  params: ExecParams;
  session: Session | undefined;
  /** Set in the close handler; the socket must not be touched afterwards. */
  closed: boolean;
}

export interface WsExecOptions {
  auth: Authenticator;
  supervisor: Supervisor;
  allowedOrigins: string[] | undefined;
  maxMessageBytes: number;
  /** uWS idle timeout in seconds; with automatic pings a live browser never hits it. */
  idleTimeoutSec: number;
  /** Hard cap per socket; the high-water mark pauses output long before this. */
  maxBackpressure: number;
}

export function mountWsExec(app: TemplatedApp, o: WsExecOptions): void {
  app.ws<SocketData>('/ws/exec', {
    // uWS drops the TCP connection (1006) above maxPayloadLength; PROTOCOL.md wants a 1009 close,
    // so uWS gets headroom and the configured limit is enforced in message() below. Only messages
    // beyond the headroom too are cut without a close frame.
    maxPayloadLength: Math.max(2 * o.maxMessageBytes, o.maxMessageBytes + 64 * 1024),
    idleTimeout: o.idleTimeoutSec,
    sendPingsAutomatically: true,
    maxBackpressure: o.maxBackpressure,
    upgrade: (res, req, context) => {
      // Copy everything out of req now: it is only valid during this callback.
      const key = req.getHeader('sec-websocket-key');
      const protocols = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const identity = o.auth.fromHeaders(req.getHeader('cookie'), req.getHeader('authorization'));
      if (!identity) return sendError(res, new PodtermError('Unauthorized'));
      if (!originAllowed(req.getHeader('origin'), req.getHeader('host'), o.allowedOrigins)) {
        return sendError(res, new PodtermError('Forbidden', 'This page origin may not open terminals here.'));
      }
      if (!protocols.split(',').map((p) => p.trim()).includes(SUBPROTOCOL)) {
        return sendError(res, new PodtermError('BadRequest', `The WebSocket subprotocol must be ${SUBPROTOCOL}.`));
      }
      let params: ExecParams;
      try {
        params = parseExecQuery(req.getQuery() ?? '');
      } catch (err) {
        return sendError(res, toPodtermError(err));
      }
      const data: SocketData = { identity, params, session: undefined, closed: false };
      res.cork(() => res.upgrade(data, key, SUBPROTOCOL, extensions, context));
    },
    open: (ws) => {
      const data = ws.getUserData();
      const result = o.supervisor.open(
        { ownerKey: data.identity.key, context: data.identity.context, ...data.params },
        {
          // These run from port events, outside any uWS callback: cork so uWS writes them now.
          send: (ab) => {
            if (data.closed) return true;
            let status = 1;
            ws.cork(() => (status = ws.send(ab, true)));
            return status !== DROPPED;
          },
          bufferedAmount: () => (data.closed ? 0 : ws.getBufferedAmount()),
          end: (code, reason) => {
            if (!data.closed) ws.cork(() => ws.end(code, reason));
          },
        },
      );
      if (result instanceof PodtermError) {
        // PROTOCOL.md lists limits as close codes: upgrade, then the error frame, then close.
        o.supervisor.countRefused(result.code);
        refuse(ws, result);
        return;
      }
      data.session = result;
    },
    message: (ws, message) => {
      if (message.byteLength > o.maxMessageBytes) return refuse(ws, new PodtermError('MessageTooBig'));
      ws.getUserData().session?.fromClient(message);
    },
    drain: (ws) => {
      ws.getUserData().session?.drained();
    },
    close: (ws) => {
      const data = ws.getUserData();
      data.closed = true;
      data.session?.clientClosed();
    },
  });
}

function refuse(ws: WebSocket<SocketData>, err: PodtermError): void {
  ws.cork(() => {
    ws.send(errorFrame(err.code, err.message), true);
    ws.end(ERRORS[err.code].close, err.code);
  });
}
