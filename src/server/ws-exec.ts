/**
 * `/ws/exec`: authentication, Origin and argument checks before the upgrade (HTTP status + JSON on
 * failure, nothing reaches Kubernetes), then one session per socket. The main thread only moves
 * buffers: messages go to the actor as they are, encoded frames come back ready to send.
 */
import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import { ERRORS, PodtermError } from '../protocol/errors.js';
import { errorFrame, SUBPROTOCOL } from '../protocol/index.js';
import type { Metrics } from '../supervisor/metrics.js';
import type { Attachment, ClientLink } from '../supervisor/session.js';
import type { SessionClient, Supervisor } from '../supervisor/supervisor.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { Caller } from '../auth/person.js';
import { originAllowed } from '../auth/token-auth.js';
import type { KubeApi } from '../kube/api.js';
import { whoFields, type AuditSink } from '../audit/request-audit.js';
import { assertPodAccess, ATTACH, EXEC } from './exec-permission.js';
import { MAX_RESUME_TOKEN } from '../auth/resume-token.js';
import { MAX_SIGNED_TOKEN } from '../auth/signed-token.js';
import { sessionOwner } from '../auth/session-owner.js';
import { guardUpgrade, guardWs, type RouteEnv } from './route-guard.js';
import { parseExecQuery, type ExecParams } from './validate.js';
import { CALLER_HEADER, HOP_HEADER, personOf } from '../cluster/hop-auth.js';
import type { Forwards } from '../cluster/forwards.js';
import { RESOLVE_BUDGET_MS } from '../cluster/forwards.js';
import type { DownLink, ForwardedSocket } from '../cluster/forward-socket.js';

/** uWS `send` result: the message was dropped (the socket is over maxBackpressure). */
const DROPPED = 2;

/** What the socket asks for: a new session, to resume one, or to watch one (tokens are checked at open). */
type SocketTarget = { kind: 'new'; params: ExecParams } | TokenTarget;

/** A socket that names its session by a token: a resume token, or a share token to watch. */
export type TokenTarget = { kind: 'resume'; token: string } | { kind: 'observe'; token: string };

/** Several replicas (src/cluster): forward a token for another replica's session to it. */
export interface WsClusterHooks {
  forwards: Forwards;
  /** The replica a valid token names (the one place that reads tokens for routing), else undefined. */
  replicaOf(target: TokenTarget): string | undefined;
}

/** What the upgrade found out, for the open handler only (then dropped: an idle socket keeps none of it). */
interface SocketStart {
  caller: Caller;
  target: SocketTarget;
  /** Copied out of the upgrade request for the audit log. */
  client: SessionClient;
  /**
   * The access review said no (or could not be asked): the socket is upgraded only to carry the
   * error frame and its close code (4403), as limits are; no session, nothing reaches the exec
   * endpoint. A browser cannot read the body of a refused upgrade, it can read this.
   */
  refusal: PodtermError | undefined;
  /** The holder (its replica id and base URL) when this socket is forwarded to another replica (set at upgrade). */
  holder: { replica: string; url: string } | undefined;
  /** The query as it came, passed on to the holder unchanged. */
  query: string;
}

interface SocketData {
  /** Until the open handler has run. */
  start: SocketStart | undefined;
  attachment: Attachment | undefined;
  forward: ForwardedSocket | undefined;
  /** Set in the close handler; the socket must not be touched afterwards. */
  closed: boolean;
}

export interface WsExecOptions extends RouteEnv {
  auth: Authenticator;
  kube: KubeApi;
  supervisor: Supervisor;
  metrics: Metrics;
  /** session.forbidden (the review said no); the supervisor writes start, resume and end. */
  audit?: AuditSink | undefined;
  allowedOrigins: string[] | undefined;
  maxMessageBytes: number;
  /** uWS idle timeout in seconds; with automatic pings a live browser never hits it. */
  idleTimeoutSec: number;
  /** Hard cap per socket; the high-water mark pauses output long before this. */
  maxBackpressure: number;
  /** Additive: peers and the internal hop (absent: a single replica, no hop accepted). */
  cluster?: WsClusterHooks | undefined;
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
    upgrade: guardUpgrade(o, 'GET /ws/exec', async (req, reply, context) => {
      // Copy everything out of req now: it is only valid until the first await.
      const key = req.getHeader('sec-websocket-key');
      const protocols = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const version = req.getHeader('sec-websocket-version');
      const cookie = req.getHeader('cookie');
      const authorization = req.getHeader('authorization');
      const origin = req.getHeader('origin');
      const host = req.getHeader('host');
      const query = req.getQuery() ?? '';
      const hop = req.getHeader(HOP_HEADER);
      const hopCaller = req.getHeader(CALLER_HEADER);
      const client = { remoteAddress: reply.remoteAddress(), userAgent: req.getHeader('user-agent') };
      if (version !== WS_VERSION) {
        return reply.error(new PodtermError('BadRequest', `This server speaks WebSocket version ${WS_VERSION} only.`), {
          status: 426,
          headers: [['Sec-WebSocket-Version', WS_VERSION]],
        });
      }
      let caller: Caller | undefined;
      if (hop !== '') {
        // Forwarded by a peer (src/cluster): the hop's MAC vouches for the person; only a token
        // may be presented this way, and it is never forwarded again.
        const verdict = o.cluster ? o.cluster.forwards.cluster.hop.verify({ method: 'GET', path: '/ws/exec', query }, hop, hopCaller) : 'missing';
        if (typeof verdict === 'string') {
          o.log('warn', 'internal hop refused', { reason: verdict, remoteAddress: client.remoteAddress });
          return reply.error(new PodtermError('Unauthorized', 'The internal hop is not signed with this cluster\'s secret.'));
        }
        caller = { person: personOf(verdict), kube: { context: undefined }, namespaces: [], credential: 'bearer' };
      } else {
        // Inbound Impersonate-* headers are never read or forwarded: the identity comes from here.
        caller = await o.auth.resolve(cookie, authorization);
        if (!caller) return reply.error(new PodtermError('Unauthorized'));
        if (!originAllowed(origin, host, o.allowedOrigins)) {
          return reply.error(new PodtermError('Forbidden', 'This page origin may not open terminals here.'));
        }
      }
      if (!protocols.split(',').map((p) => p.trim()).includes(SUBPROTOCOL)) {
        return reply.error(new PodtermError('BadRequest', `The WebSocket subprotocol must be ${SUBPROTOCOL}.`));
      }
      const target = parseTarget(query);
      if (hop !== '' && target.kind === 'new') return reply.error(new PodtermError('BadRequest', 'A forwarded socket can only name a session by its token.'));
      let refusal: PodtermError | undefined;
      let holder: { replica: string; url: string } | undefined;
      if (target.kind !== 'new' && hop === '' && o.cluster) {
        const replica = o.cluster.replicaOf(target);
        const forwards = o.cluster.forwards;
        if (replica !== undefined && replica !== forwards.cluster.self.id) {
          // Another replica holds it: find it (the holder re-checks the token and its owner).
          if (forwards.draining) refusal = new PodtermError('ServerShuttingDown');
          else {
            const url = await forwards.cluster.resolve(replica, caller.person, Date.now() + RESOLVE_BUDGET_MS);
            if (url !== undefined) holder = { replica, url };
            else refusal = new PodtermError('SessionGone', 'The session ended: the server that held it is gone.');
          }
        }
      }
      // A resume is checked against its signed owner at open; a new terminal is reviewed first
      // (`create pods/exec`, or `create pods/attach` for attach=true).
      if (target.kind === 'new') {
        const params = target.params;
        try {
          await assertPodAccess(o.kube, caller.kube, params.attach ? ATTACH : EXEC, params.namespace, params.pod);
        } catch (err) {
          refusal = err instanceof PodtermError ? err : new PodtermError('Internal', undefined, { cause: err });
          o.log(refusal.code === 'Forbidden' ? 'info' : 'warn', 'exec refused by access review', { who: caller.person.username, namespace: params.namespace, pod: params.pod, code: refusal.code });
          o.audit?.write('session.forbidden', {
            ...whoFields(caller.person, client),
            namespace: params.namespace,
            pod: params.pod,
            ...(params.container ? { container: params.container } : {}),
            ...(params.command ? { command: params.command } : {}),
            outcome: refusal.code,
            ...(params.attach ? { reason: 'attach' } : {}),
          });
        }
      }
      const data: SocketData = { start: { caller, target, client, refusal, holder, query }, attachment: undefined, forward: undefined, closed: false };
      reply.upgrade(data, key, SUBPROTOCOL, extensions, context);
    }),
    open: guardWs(
      o.log,
      'open',
      (ws: WebSocket<SocketData>) => {
        const data = ws.getUserData();
        const start = data.start;
        data.start = undefined;
        if (!start) return;
        if (start.refusal) return refuse(ws, start.refusal);
        const { person, kube } = start.caller;
        const link = new SocketLink(ws, data);
        if (start.holder !== undefined && o.cluster) {
          data.forward = o.cluster.forwards.start(
            link,
            start.holder.replica,
            start.holder.url,
            '/ws/exec',
            start.query,
            person,
          );
          return;
        }
        // Per-person limits and session ownership key on the username (issue 9), whichever credential it came with.
        const owner = sessionOwner(person);
        const target = start.target;
        const client = start.client;
        const result =
          target.kind === 'resume'
            ? o.supervisor.resume(target.token, owner, link, client)
            : target.kind === 'observe'
              ? o.supervisor.observe(target.token, { user: person.username, client }, link)
              : o.supervisor.open(
                {
                  ownerKey: owner, context: kube.context, as: kube.as,
                  person: { user: person.username, groups: person.groups, via: person.via }, client, ...target.params,
                },
                link,
              );
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
        if (message.byteLength > o.maxMessageBytes) {
          data.forward?.clientClosed(1009);
          return refuse(ws, new PodtermError('MessageTooBig'));
        }
        if (data.forward) data.forward.fromClient(message);
        else data.attachment?.message(message);
      },
      refuseOnError,
    ),
    drain: guardWs(
      o.log,
      'drain',
      (ws: WebSocket<SocketData>) => {
        const data = ws.getUserData();
        if (data.forward) data.forward.drained();
        else data.attachment?.drain();
      },
      refuseOnError,
    ),
    close: guardWs(
      o.log,
      'close',
      (ws: WebSocket<SocketData>, code: number) => {
        const data = ws.getUserData();
        data.closed = true;
        // 1000 from the client ends the session (the × on a tab); any other code detaches it.
        data.attachment?.closed(code);
        data.forward?.clientClosed(code);
      },
      () => undefined,
    ),
  });
}

/**
 * `?resume=TOKEN` resumes, `?observe=TOKEN` watches (a share token; no access review: the owner's
 * session runs already, and the holder only reads); nothing else is read then. Otherwise the exec arguments.
 */
function parseTarget(query: string): SocketTarget {
  const q = new URLSearchParams(query);
  const observe = q.get('observe');
  if (observe !== null) {
    if (observe === '' || observe.length > MAX_SIGNED_TOKEN) throw new PodtermError('BadRequest', 'observe must be a share token.');
    return { kind: 'observe', token: observe };
  }
  const token = q.get('resume');
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

/**
 * The browser socket as a session (ClientLink) or a forward (DownLink) writes to it. These run from
 * port or hop events, outside any uWS callback: cork so uWS writes them now. A closed socket takes
 * nothing and reports nothing dropped. A class, not three closures: one per idle socket (issue 13).
 */
class SocketLink implements ClientLink, DownLink {
  readonly #ws: WebSocket<SocketData>;
  readonly #data: SocketData;

  constructor(ws: WebSocket<SocketData>, data: SocketData) {
    this.#ws = ws;
    this.#data = data;
  }

  send(bytes: ArrayBuffer | Uint8Array): boolean {
    if (this.#data.closed) return true;
    const ws = this.#ws;
    let status = 1;
    ws.cork(() => (status = ws.send(bytes, true)));
    return status !== DROPPED;
  }

  bufferedAmount(): number {
    return this.#data.closed ? 0 : this.#ws.getBufferedAmount();
  }

  end(code: number, reason: string): void {
    if (this.#data.closed) return;
    const ws = this.#ws;
    ws.cork(() => ws.end(code, reason));
  }
}
