/**
 * Watchers for the resume soak (issue 10: "observer join/leave"; docs/protocol.md, Additions). For
 * a share of the sessions the owner makes a read-only link (POST /api/v1/sessions/{id}/shares, the
 * bench's Bearer token) and one or two watchers join it (`/ws/exec?observe=TOKEN`) at random moments:
 * some leave by closing (1000, which must not end the session), some abruptly (no handshake), some
 * stay until the session ends; some sessions revoke their links (DELETE …/shares) while watched.
 *
 * Each watcher's end is checked against what the driver did to the session, which it says before
 * doing it (`ending`, and the revoke flag is set before the DELETE goes out):
 * - a watcher that left ended within 15 s: expected;
 * - closed by the gateway with SessionGone (its error frame, then 4411): expected once the session is ending or its links
 *   are revoked (a join after that is refused the same way), a failure before;
 * - Exited: expected (the process ended, so did the session);
 * - Internal (1011): collateral of a worker recycle, counted apart as the owner's are;
 * - anything else, a Started that is not `role: "observer"` or carries a resume token, no end within
 *   15 s of the session's end, or a watcher's keystroke echoed back by the echo target: a failure.
 */
import { performance } from 'node:perf_hooks';
import { type PodtermSession, openPodterm } from './podterm-client.js';
import type { EndInfo, Target } from './session.js';
import { within } from './drivers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a watcher types: the owner never sends it, so the echo target returns it only if it got through. */
const WATCHER_KEY = 122; // 'z'

export interface WatchConn {
  wsUrl: string;
  token: string;
}

export interface WatchStats {
  /** Links made (201), and DELETEs of them sent while a watcher was attached. */
  shares: number;
  revokes: number;
  /** Watchers that tried to join; those whose Started said `role: "observer"`. */
  watchers: number;
  watchersJoined: number;
  /** Watchers whose end was the expected one; of those, cut by a revoke with SessionGone. */
  watchersExpected: number;
  watchersRevoked: number;
  /** Everything else (shares that failed included); keystrokes that reached the pod among them. */
  watcherFailures: number;
  watcherTyped: number;
  /** Watchers ended with Internal (worker recycled). */
  watcherInternal: number;
  /** Closes with 4411 that came without the SessionGone error frame before them (PROTOCOL.md: frame, then close). */
  watcherGoneNoFrame: number;
}

export const noWatchStats = (): WatchStats => ({
  shares: 0, revokes: 0, watchers: 0, watchersJoined: 0, watchersExpected: 0, watchersRevoked: 0, watcherFailures: 0, watcherTyped: 0, watcherInternal: 0, watcherGoneNoFrame: 0,
});

export interface WatchPlan {
  conn: WatchConn;
  target: Target;
  /** Watchers join within 0..maxHoldMs of the share and leave within 0..2·maxHoldMs of joining. */
  maxHoldMs: number;
  /** The longest a session may live: a watcher not ended by then is a failure. */
  hardCapMs: number;
  /** The fraction of sessions watched. */
  rate: number;
  stats: WatchStats;
  fail: (why: string) => unknown;
}

/** Of the watched sessions, revokes this fraction of links while watched. */
const REVOKE_RATE = 0.3;

/** The watchers of one session. `done` settles when every watcher has ended (never rejects). */
export class SessionWatch {
  readonly done: Promise<void>;
  #ending = false;
  #endingAt = 0;
  #revoked = false;
  #attached = 0;
  /** Settles 15 s after the session's end is due (its grace included): a watcher still open then is a failure. */
  #due: Promise<'due'>;
  #markDue!: (afterMs: number) => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly p: WatchPlan, session: string) {
    this.#due = new Promise((resolve) => {
      this.#markDue = (afterMs) => {
        if (this.#timer === undefined) this.#timer = setTimeout(() => resolve('due'), afterMs + 15000);
      };
    });
    this.done = this.#run(session).catch((err: Error) => {
      p.stats.watcherFailures++;
      p.fail(`watch: ${err.message}`);
    }).finally(() => clearTimeout(this.#timer));
  }

  /** The driver is about to end the session (afterMs 0: the owner's ×) or to leave it to its grace. */
  ending(afterMs = 0): void {
    this.#ending = true;
    this.#endingAt = performance.now();
    this.#markDue(afterMs);
  }

  /** What the driver had done to the session, for a failure's message. */
  #state(): string {
    const ending = this.#ending ? `ending ${Math.round(performance.now() - this.#endingAt)} ms ago` : 'not ending';
    return `${ending}${this.#revoked ? ', revoked' : ''}`;
  }

  /** For an owner's failure on a watched session: how many watchers are attached, and the rest. */
  describe(): string {
    return `watched: ${this.#attached} attached, ${this.#state()}`;
  }

  /** SessionGone is the expected end once the session is ending or its links are revoked. */
  #goneExpected(): boolean {
    return this.#ending || this.#revoked;
  }

  async #run(session: string): Promise<void> {
    const { stats } = this.p;
    const http = this.p.conn.wsUrl.replace(/^ws/, 'http');
    const url = `${http}/api/v1/sessions/${session}/shares`;
    const headers = { authorization: `Bearer ${this.p.conn.token}` };
    const res = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ ttlSeconds: 600 }), signal: AbortSignal.timeout(30000) });
    const body = (await res.json()) as { token?: string; code?: string };
    if (res.status !== 201 || typeof body.token !== 'string') {
      // The owner may have ended the session already (404): not a failure then.
      if (!(res.status === 404 && this.#ending)) {
        stats.watcherFailures++;
        this.p.fail(`share: HTTP ${res.status} ${body.code ?? ''}`);
      }
      return;
    }
    stats.shares++;
    const link = body.token;
    let firstJoin!: () => void;
    const joined = new Promise<void>((r) => (firstJoin = r));
    const count = 1 + Math.floor(Math.random() * 2);
    const watchers = Array.from({ length: count }, () => this.#watcher(link, firstJoin));
    if (Math.random() < REVOKE_RATE) {
      // While watched: after the first watcher is in, unless every watcher is done first.
      const all = Promise.all(watchers);
      const first = await Promise.race([joined.then(() => true), all.then(() => false)]);
      await sleep(Math.random() * this.p.maxHoldMs);
      if (first && this.#attached > 0 && !this.#ending) {
        this.#revoked = true;
        this.#markDue(0);
        const del = await fetch(url, { method: 'DELETE', headers, signal: AbortSignal.timeout(30000) });
        if (del.status === 204) stats.revokes++;
        else if (!(del.status === 404 && this.#ending)) {
          stats.watcherFailures++;
          this.p.fail(`revoke: HTTP ${del.status}`);
        }
      }
    }
    await Promise.all(watchers);
  }

  async #watcher(link: string, firstJoin: () => void): Promise<void> {
    const { stats, maxHoldMs } = this.p;
    await sleep(Math.random() * maxHoldMs);
    stats.watchers++;
    const w = openPodterm(this.p.conn.wsUrl, this.p.conn.token, this.p.target, { observe: link });
    let typed = false;
    w.onData = (chunk) => {
      if (chunk.includes(WATCHER_KEY)) typed = true;
    };
    const info = await within(w.info.then((i) => i, (e: Error) => e), 30000, new Error('observe timed out'));
    if (info instanceof Error) {
      const end = await within(w.ended, 15000, { exitCode: null, error: 'no end' } as EndInfo);
      this.#judge(w, end, `observe: ${info.message}`, false);
      return;
    }
    this.#attached++;
    firstJoin();
    try {
      if (info.role !== 'observer' || info.resumeToken !== undefined) {
        stats.watcherFailures++;
        this.p.fail(`observe: Started with role ${info.role}${info.resumeToken !== undefined ? ' and a resume token' : ''}`);
        w.close(true);
        await within(w.ended, 15000, undefined);
        return;
      }
      stats.watchersJoined++;
      w.write(Uint8Array.of(WATCHER_KEY)); // must reach nothing
      const plan = Math.random();
      const leave = plan < 0.7 ? sleep(Math.random() * 2 * maxHoldMs).then(() => 'leave' as const) : new Promise<never>(() => {});
      const first = await within(Promise.race([w.ended, leave, this.#due]), this.p.hardCapMs, 'due' as const);
      if (first === 'leave') {
        if (plan < 0.35) w.closeWith(1000);
        else w.close(true);
        const end = await within(w.ended, 15000, undefined);
        if (end === undefined) this.#failed(w, `watcher left: no close within 15 s (${this.#state()})`);
        else this.#judge(w, end, '', true, typed);
      } else if (first === 'due') {
        this.#failed(w, `watcher not ended 15 s after its session's end (${this.#state()})`);
      } else this.#judge(w, first, '', false, typed);
    } finally {
      this.#attached--;
    }
  }

  #failed(w: PodtermSession, why: string): void {
    this.p.stats.watcherFailures++;
    this.p.fail(why);
    w.close(true);
  }

  /** `left`: the watcher closed it itself. Otherwise the gateway ended it (or refused the join). */
  #judge(w: PodtermSession, end: EndInfo, what: string, left: boolean, typed = false): void {
    const { stats } = this.p;
    if (typed) {
      stats.watcherTyped++;
      return this.#failed(w, 'a watcher\'s keystroke reached the pod');
    }
    const gone = end.closeCode === 4411;
    // The error frame comes before the close (PROTOCOL.md); without it the page cannot say why.
    if (gone && !(end.error ?? '').startsWith('SessionGone')) {
      stats.watcherGoneNoFrame++;
      return this.#failed(w, `${what || 'watcher'}: closed 4411 without a SessionGone frame (${this.#state()})`);
    }
    if (left || end.exitCode !== null || (gone && this.#goneExpected())) {
      stats.watchersExpected++;
      if (gone && this.#revoked && !this.#ending) stats.watchersRevoked++;
    } else if (end.closeCode === 1011) stats.watcherInternal++;
    else this.#failed(w, `${what || 'watcher'}: close ${end.closeCode} ${end.error ?? ''} (${this.#state()})`);
  }
}

/** Watchers for a random share of sessions (undefined for the others). */
export function maybeWatch(p: WatchPlan, session: string): SessionWatch | undefined {
  return Math.random() < p.rate ? new SessionWatch(p, session) : undefined;
}
