/**
 * `GET pods/{name}/log`: a container's main-process output (main-process.ts), with the kubelet's
 * options (PodLogOptions): container, follow, previous, timestamps (RFC3339NanoFixed prefix, as
 * kubelet/kuberuntime/logs writes it), tailLines, sinceSeconds, limitBytes. Errors are the
 * kubelet's messages (validateContainerLogStatus) as 400 Status bodies, which is how the API
 * server passes them on (`Error from server (BadRequest): previous terminated container ...`).
 * Follow streams with backpressure: a reader holds a cursor into the bounded log and writes only
 * while the socket takes data.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorize, type Principal } from './auth.js';
import { formatTimestamp, nowNs, type ContainerLog } from './container-log.js';
import { pickContainer, queryBool } from './exec-request.js';
import type { ContainerSpec } from './inventory.js';
import type { MainProcesses } from './main-process.js';
import type { PodStore } from './pod-store.js';
import { httpErrors, type HttpStatus } from './status.js';

const LOG_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log\/?$/;

/** Entries written per pump before yielding to the event loop. */
const BATCH = 256;

export function matchLogPath(pathname: string): { namespace: string; pod: string } | null {
  const m = LOG_PATH.exec(pathname);
  return m ? { namespace: decodeURIComponent(m[1] as string), pod: decodeURIComponent(m[2] as string) } : null;
}

function intParam(params: URLSearchParams, name: string, min: number): number | undefined | HttpStatus {
  const v = params.get(name);
  if (v === null) return undefined;
  if (!/^-?\d{1,15}$/.test(v)) return httpErrors.badRequest(`invalid value for ${name}: ${JSON.stringify(v)}`);
  const n = Number(v);
  // PodLogOptions validation (pkg/apis/core/validation): these must be positive / non-negative.
  if (n < min) return httpErrors.badRequest(`${name}: Invalid value: ${n}: must be ${min === 0 ? 'greater than or equal to 0' : 'greater than 0'}`);
  return n;
}

const isStatus = (v: unknown): v is HttpStatus => typeof v === 'object' && v !== null && 'body' in v;

/** The kubelet's refusal for a container state, or null when there is a log to read. */
function stateError(c: ContainerSpec, pod: string, previous: boolean, hasPrevious: boolean): HttpStatus | null {
  const q = (s: string): string => JSON.stringify(s);
  if (previous) {
    // The inventory's CrashLoopBackOff containers have a lastState.terminated (objects.ts).
    if (hasPrevious || c.state === 'waiting') return null;
    return httpErrors.badRequest(`previous terminated container ${q(c.name)} in pod ${q(pod)} not found`);
  }
  if (c.state === 'waiting' && c.reason === 'ContainerCreating') {
    return httpErrors.badRequest(`container ${q(c.name)} in pod ${q(pod)} is waiting to start: ContainerCreating`);
  }
  return null;
}

export class LogHandler {
  readonly #streams = new Set<ServerResponse>();

  constructor(
    readonly store: PodStore,
    readonly mains: MainProcesses,
  ) {}

  get activeStreams(): number {
    return this.#streams.size;
  }

  handle(req: IncomingMessage, res: ServerResponse, who: Principal, target: { namespace: string; pod: string }, params: URLSearchParams): HttpStatus | null {
    if (req.method !== 'GET' && req.method !== 'HEAD') return httpErrors.methodNotAllowed();
    const denied = authorize(who, { verb: 'get', resource: 'pods/log', name: target.pod, namespace: target.namespace });
    if (denied) return denied;
    const pod = this.store.find(target.namespace, target.pod);
    if (!pod) return httpErrors.notFound('pods', target.pod);
    const container = pickContainer(pod, params.get('container') ?? '', this.store.ephemeralSpecs(target.namespace, pod.name));
    if ('code' in container) return container;
    const tailLines = intParam(params, 'tailLines', 0);
    const limitBytes = intParam(params, 'limitBytes', 1);
    const sinceSeconds = intParam(params, 'sinceSeconds', 1);
    for (const v of [tailLines, limitBytes, sinceSeconds]) if (isStatus(v)) return v;
    const previous = queryBool(params, 'previous');
    const log = this.mains.logOf(target.namespace, pod.name, container.name, previous);
    const refused = stateError(container, pod.name, previous, log !== undefined);
    if (refused) return refused;
    this.#stream(res, log, {
      follow: queryBool(params, 'follow') && !previous,
      timestamps: queryBool(params, 'timestamps'),
      tailLines: tailLines as number | undefined,
      limitBytes: limitBytes as number | undefined,
      sinceNs: sinceSeconds === undefined ? undefined : nowNs() - BigInt(sinceSeconds as number) * 1_000_000_000n,
    });
    return null;
  }

  #stream(
    res: ServerResponse,
    log: ContainerLog | undefined,
    o: { follow: boolean; timestamps: boolean; tailLines?: number; limitBytes?: number; sinceNs?: bigint },
  ): void {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders(); // a follower with nothing to read yet still gets its 200 at once
    if (!log) {
      res.end();
      return;
    }
    this.#streams.add(res);
    let cursor = log.startFor(o.tailLines, o.sinceNs);
    let budget = o.limitBytes ?? Infinity;
    let waitingDrain = false;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      unsubscribe();
      res.off('drain', onDrain);
      this.#streams.delete(res);
      if (!res.writableEnded) res.end();
    };
    const pump = (): void => {
      while (!done && !waitingDrain) {
        const entries = log.read(cursor, BATCH);
        if (entries.length === 0) break;
        for (const e of entries) {
          cursor = e.seq + 1;
          let chunk = o.timestamps ? Buffer.concat([Buffer.from(`${formatTimestamp(e.timeNs)} `), e.data]) : e.data;
          if (chunk.length >= budget) chunk = chunk.subarray(0, budget);
          budget -= chunk.length;
          const more = res.write(chunk);
          if (budget <= 0) return finish();
          if (!more) {
            // Backpressure: the socket's buffer is full; continue from `cursor` on 'drain'.
            waitingDrain = true;
            break;
          }
        }
      }
      if (!done && !waitingDrain && (!o.follow || log.ended)) finish();
    };
    const onDrain = (): void => {
      waitingDrain = false;
      pump();
    };
    res.on('drain', onDrain);
    const unsubscribe = o.follow ? log.subscribe(pump) : () => {};
    res.once('close', finish);
    pump();
  }

  /** Ends every log stream (followers see the end of the response). */
  close(): void {
    for (const res of [...this.#streams]) {
      res.end();
      res.destroy();
    }
    this.#streams.clear();
  }
}
