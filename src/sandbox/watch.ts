/**
 * Pod lists with fieldSelector and pod watches (`?watch=true`), enough for client-go's
 * ListWatch/informers (what `kubectl debug` uses to wait for its ephemeral container):
 * - fieldSelector: metadata.name and metadata.namespace with =, == and != (the fields every
 *   resource supports); anything else is refused as the API server does.
 * - watch: a chunked stream of `{"type":...,"object":...}` lines. Without resourceVersion (or "0")
 *   the current matching pods come first as ADDED; with one, the changes since it are replayed
 *   (410 Expired when the history no longer reaches back). Then MODIFIED for every change, until
 *   timeoutSeconds, the client leaves, or the sandbox stops.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { queryBool } from './exec-request.js';
import type { PodSpec } from './inventory.js';
import type { PodStore } from './pod-store.js';
import { httpErrors, type HttpStatus } from './status.js';

export type PodRef = { readonly ns: string; readonly pod: PodSpec };

interface Term {
  readonly field: 'metadata.name' | 'metadata.namespace';
  readonly value: string;
  readonly equal: boolean;
}

/** Parses a fieldSelector into terms, or the 400 a real server answers. */
export function parseFieldSelector(sel: string | null): Term[] | HttpStatus {
  if (sel === null || sel.trim() === '') return [];
  const terms: Term[] = [];
  for (const part of sel.split(',')) {
    const m = /^\s*([^!=\s]+)\s*(==|!=|=)\s*(.*?)\s*$/.exec(part);
    if (!m) return httpErrors.badRequest(`invalid selector: '${sel}'; can't understand '${part}'`);
    const field = m[1] as string;
    if (field !== 'metadata.name' && field !== 'metadata.namespace') {
      return httpErrors.badRequest(`field label not supported: ${field}`);
    }
    terms.push({ field, value: m[3] as string, equal: m[2] !== '!=' });
  }
  return terms;
}

export function matches(terms: readonly Term[], ref: PodRef): boolean {
  return terms.every((t) => ((t.field === 'metadata.name' ? ref.pod.name : ref.ns) === t.value) === t.equal);
}

export class PodWatches {
  readonly #streams = new Set<ServerResponse>();

  constructor(readonly store: PodStore) {}

  get active(): number {
    return this.#streams.size;
  }

  static wants(params: URLSearchParams): boolean {
    return queryBool(params, 'watch');
  }

  /** Serves a watch over `pods` (already filtered by namespace and authorization). */
  watch(req: IncomingMessage, res: ServerResponse, pods: readonly PodRef[], terms: readonly Term[], params: URLSearchParams): HttpStatus | null {
    const rvParam = params.get('resourceVersion') ?? '';
    let replay: PodRef[];
    let type: 'ADDED' | 'MODIFIED';
    if (rvParam === '' || rvParam === '0') {
      replay = pods.filter((p) => matches(terms, p));
      type = 'ADDED';
    } else {
      const rv = Number(rvParam);
      if (!Number.isInteger(rv) || rv < 0) return httpErrors.badRequest(`invalid resource version: ${rvParam}`);
      const changes = this.store.changesSince(rv);
      if (changes === null) return { code: 410, body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${rv} (${this.store.resourceVersion})`, reason: 'Expired', code: 410 }) };
      const changed = new Set(changes.map((c) => `${c.namespace}/${c.pod}`));
      replay = pods.filter((p) => changed.has(`${p.ns}/${p.pod.name}`) && matches(terms, p));
      type = 'MODIFIED';
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders(); // the client sees the watch established before any event, as from the API server
    this.#streams.add(res);
    const send = (t: string, ref: PodRef): void => {
      res.write(`${JSON.stringify({ type: t, object: this.store.podView(ref.ns, ref.pod) })}\n`);
    };
    for (const p of replay) send(type, p);
    const byKey = new Map(pods.map((p) => [`${p.ns}/${p.pod.name}`, p]));
    const unsubscribe = this.store.subscribe((c) => {
      const ref = byKey.get(`${c.namespace}/${c.pod}`);
      if (ref && matches(terms, ref)) send('MODIFIED', ref);
    });
    const timeout = Number(params.get('timeoutSeconds') ?? '');
    // The API server ends a watch after timeoutSeconds, or a randomized 30-60 min by default.
    const timer = setTimeout(() => res.end(), Number.isFinite(timeout) && timeout > 0 ? timeout * 1000 : 30 * 60 * 1000);
    timer.unref();
    const done = (): void => {
      clearTimeout(timer);
      unsubscribe();
      this.#streams.delete(res);
    };
    res.once('close', done);
    res.once('finish', done);
    req.once('close', () => res.end());
    return null;
  }

  close(): void {
    for (const res of [...this.#streams]) {
      res.end();
      res.destroy();
    }
    this.#streams.clear();
  }
}
