/**
 * `/ws/exec`: authentication, Origin and argument checks before the upgrade (HTTP status + JSON on
 * failure, nothing reaches Kubernetes), then the socket attaches to a new session, or with
 * `?resume=TOKEN` to a live one of the caller's (docs/protocol.md, Additions). The main thread only
 * moves buffers: messages go to the actor as they are, encoded frames come back ready to send.
 */
import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import { ERRORS, PodtermError } from '../protocol/errors.js';
import { errorFrame, SUBPROTOCOL } from '../protocol/index.js';
import type { LogFn } from '../log/logger.js';
import type { Metrics } from '../supervisor/metrics.js';
import type { Attachment, ClientLink } from '../supervisor/session.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { originAllowed, type Authenticator, type Identity } from '../auth/token-auth.js';
import { MAX_RESUME_TOKEN } from '../auth/resume-token.js';
import { sessionOwner } from '../auth/session-owner.js';
import { guardUpgrade, guardWs } from './route-guard.js';
import { parseExecQuery, type ExecParams } from './validate.js';

/** uWS `send` result: the message was dropped (the socket is over maxBackpressure). */
const DROPPED = 2;

/** What the socket asks for: a new session, or to resume one (the token is checked at open). */
type SocketTarget = { kind: 'new'; params: ExecParams } | { kind: 'resume'; token: string };

interface SocketData {
  identity: Identity;
  target: SocketTarget;
  attachment: Attachment | undefined;
  /** Set in the close handler; the socket must not be touched afterwards. */
  closed: boolean;
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
      const data: SocketData = { identity, target: parseTarget(req.getQuery() ?? ''), attachment: undefined, closed: false };
      reply.upgrade(data, key, SUBPROTOCOL, extensions, context);
    }),
    open: guardWs(
      o.log,
      'open',
      (ws: WebSocket<SocketData>) => {
        const data = ws.getUserData();
        const link: ClientLink = {
          // These run from port events, outside any uWS callback: cork so uWS writes them now.
          send: (ab) => {
            if (data.closed) return true;
            let status = 1;
            ws.cork(() => (status = ws.send(ab, true)));
            return status !== DROPPED;
          },
          bufferedAmount: () => (data.closed ? 0 : ws.getBufferedAmount()),
          end: (code, reason) => {
            if (data.closed) return;
            ws.cork(() => ws.end(code, reason));
          },
        };
        const owner = sessionOwner(data.identity);
        const target = data.target;
        const result =
          target.kind === 'resume'
            ? o.supervisor.resume(target.token, owner, link)
            : o.supervisor.open({ ownerKey: owner, context: data.identity.context, ...target.params }, link);
        if (result instanceof PodtermError) {
          // docs/protocol.md lists limits as close codes: upgrade, then the error frame, then close.
          o.supervisor.countRefused(result.code);
          sendErrorAndClose(ws, result);
          return;
        }
        // The session logs its start and end (who, where, how long, outcome, bytes) itself.
        data.attachment = result;
      },
      refuseOnError,
    ),
    message: guardWs(
      o.log,
      'message',
      (ws: WebSocket<SocketData>, message: ArrayBuffer) => {
        const data = ws.getUserData();
        if (message.byteLength > o.maxMessageBytes) return refuse(ws, new PodtermError('MessageTooBig'));
        data.attachment?.message(message);
      },
      refuseOnError,
    ),
    drain: guardWs(o.log, 'drain', (ws: WebSocket<SocketData>) => ws.getUserData().attachment?.drain(), refuseOnError),
    close: guardWs(
      o.log,
      'close',
      (ws: WebSocket<SocketData>, code: number) => {
        const data = ws.getUserData();
        data.closed = true;
        // 1000 from the client ends the session (the × on a tab); any other code detaches it.
        data.attachment?.closed(code);
      },
      () => undefined,
    ),
  });
}

/** `?resume=TOKEN` resumes (nothing else is read then); otherwise the exec arguments. */
function parseTarget(query: string): SocketTarget {
  const token = new URLSearchParams(query).get('resume');
  if (token === null) return { kind: 'new', params: parseExecQuery(query) };
  if (token === '' || token.length > MAX_RESUME_TOKEN) throw new PodtermError('BadRequest', 'resume must be a resume token.');
  return { kind: 'resume', token };
}

function sendErrorAndClose(ws: WebSocket<SocketData>, err: PodtermError): void {
  ws.cork(() => {
    ws.send(errorFrame(err.code, err.message), true);
    ws.end(ERRORS[err.code].close, err.code);
  });
}
