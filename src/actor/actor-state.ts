/**
 * The session actor's one lifecycle (STYLE.md 3): its states, the transition table that rejects
 * illegal edges, and the reasons its one close(reason) is given.
 */
import type { PodtermError } from '../protocol/errors.js';
import type { CloseRequest } from '../actor-link/actor-messages.js';

/**
 * | state    | next                        | meaning                                            |
 * |----------|-----------------------------|----------------------------------------------------|
 * | starting | attached, detached, closing | the exec is opening                                |
 * | attached | detached, closing           | the owner has at least one socket: output is posted|
 * | detached | attached, closing           | no owner socket: output goes to the replay only    |
 * | closing  | closed                      | the one close runs                                 |
 * | closed   |                             | everything released                                |
 */
export type ActorState = 'starting' | 'attached' | 'detached' | 'closing' | 'closed';
const NEXT: Record<ActorState, readonly ActorState[]> = {
  starting: ['attached', 'detached', 'closing'],
  attached: ['detached', 'closing'],
  detached: ['attached', 'closing'],
  closing: ['closed'],
  closed: [],
};

/** Returns `next`, or throws when the table has no edge from `from` to it. */
export function transition(session: string, from: ActorState, next: ActorState): ActorState {
  if (!NEXT[from].includes(next)) throw new Error(`actor ${session}: ${from} -> ${next} is not a transition`);
  return next;
}

export type CloseReason =
  | { kind: 'exit'; exitCode: number | null; message: string }
  | { kind: 'error'; error: PodtermError }
  | { kind: 'request'; request: CloseRequest }
  /** Detached past the grace: watchers (if any) get SessionGone. */
  | { kind: 'grace-expired' };
