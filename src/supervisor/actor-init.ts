/**
 * The ActorInit of a new session: what its actor needs, built in one literal.
 *
 * Every field is named here on purpose. A copy made as `{ ...obj, more }` of an object with many
 * fields gets a V8 hidden class of its own (a map and a descriptor array, 300-600 B) instead of
 * sharing one with every other session; the init is kept for the session's life, on the main
 * thread and (with --workers 0) by the actor, so each copy was paid per idle session
 * (test/supervisor/actor-init.test.ts checks that two inits share their hidden classes).
 */
import { isDeepStrictEqual } from 'node:util';
import type { ActorInit, RecordingOwner } from '../actor-link/actor-messages.js';
import { OPENER_SOCKET } from './session.js';
import type { SessionRecords, SessionRequest, SupervisorLimits } from './supervisor.js';

export function actorInit(id: string, req: SessionRequest, limits: SupervisorLimits, records: SessionRecords, resumeToken: string): ActorInit {
  const rec = records.recording;
  return {
    session: id,
    opener: OPENER_SOCKET,
    namespace: req.namespace,
    pod: req.pod,
    container: req.container,
    command: req.command,
    cols: req.cols,
    rows: req.rows,
    ...(req.attach ? { attach: true } : {}),
    killOnClose: limits.killOnClose ?? true,
    context: req.context,
    as: req.as,
    idleTimeoutMs: limits.idleTimeoutMs,
    maxSessionAgeMs: limits.maxSessionAgeMs,
    ...(rec ? { recording: recordingOwner(req) } : {}),
    resumeToken,
    detachGraceMs: limits.detachGraceMs,
    replayBytes: limits.replayBytes,
  };
}

/**
 * Whose recording it is. When the session impersonates its own person (OIDC sign-in, a token that
 * names one), the owner is the impersonation object itself: one object on the main thread, and one
 * in the actor's copy of the init too (a structured clone keeps shared references shared), instead
 * of a second object, name and groups array per recorded session on each thread.
 */
function recordingOwner(req: SessionRequest): RecordingOwner {
  const { person, as } = req;
  if (as && 'user' in as && as.user === person.user && isDeepStrictEqual(as.groups, person.groups)) return as;
  return { user: person.user, groups: person.groups };
}
