/**
 * The forwarded sockets of this replica (forward-socket.ts): it starts them with a signed hop,
 * counts them, and ends them on drain (they are not sessions here: the sessions live on their
 * holders, and the browser reconnects through another replica to the same one).
 */
import type { Person } from '../auth/person.js';
import type { Cluster } from './cluster.js';
import { hopCallerOf } from './hop-auth.js';
import { ForwardedSocket, type DownLink, type ForwardOptions } from './forward-socket.js';

/** Resume answers SessionGone within 2 s when the holder is gone (issue 10): look-up + connect stay below. */
export const RESOLVE_BUDGET_MS = 800;
export const CONNECT_TIMEOUT_MS = 1_000;

export interface ForwardsOptions {
  highWaterBytes: number;
  lowWaterBytes: number;
  log: ForwardOptions['log'];
}

type ForwardsState = 'running' | 'draining';

export class Forwards {
  readonly cluster: Cluster;
  readonly #o: ForwardsOptions;
  readonly #open = new Set<ForwardedSocket>();
  #state: ForwardsState = 'running';
  #emptied: (() => void) | undefined;

  constructor(cluster: Cluster, o: ForwardsOptions) {
    this.cluster = cluster;
    this.#o = o;
  }

  get size(): number {
    return this.#open.size;
  }

  get draining(): boolean {
    return this.#state === 'draining';
  }

  /** Opens the hop to replica `replica` at `holder` (a base URL) for the browser's `path?query`, as `person`. */
  start(down: DownLink, replica: string, holder: string, path: string, query: string, person: Person): ForwardedSocket {
    const headers = this.cluster.hop.sign({ method: 'GET', path, query }, hopCallerOf(person));
    const f = new ForwardedSocket(down, {
      url: `${holder.replace(/^http/, 'ws')}${path}${query ? `?${query}` : ''}`,
      headers,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      highWaterBytes: this.#o.highWaterBytes,
      lowWaterBytes: this.#o.lowWaterBytes,
      log: this.#o.log,
      // Ask the peers again next time: a replica that came back elsewhere answers with its new address.
      onUnreachable: () => this.cluster.forget(replica),
      onDone: (done) => {
        this.#open.delete(done);
        if (this.#open.size === 0) this.#emptied?.();
      },
    });
    if (f.state !== 'closed') this.#open.add(f);
    return f;
  }

  /** Drain: no new forwards; the open ones go on for the grace, then end with 1001. */
  async drain(graceMs: number): Promise<void> {
    this.#state = 'draining';
    if (this.#open.size > 0 && graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#emptied = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
      this.#emptied = undefined;
    }
    for (const f of [...this.#open]) f.shutdown();
  }
}
