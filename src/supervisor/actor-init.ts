/**
 * The ActorInit of a new session: what its actor needs, built in one literal.
 *
 * Every field is named here on purpose. A copy made as `{ ...obj, more }` of an object with many
 * fields gets a V8 hidden class of its own (a map and a descriptor array, 300-600 B) instead of
 * sharing one with every other session; the init is kept for the session's life, on the main
 * thread and (with --workers 0) by the actor, so each copy was paid per idle session
 * (test/supervisor/actor-init.test.ts checks that two inits share their hidden classes).
 */
import type { ActorInit } from '../actor-link/actor-messages.js';
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
    ...(rec
      ? { recording: { user: req.person.user, groups: req.person.groups } }
      : {}),
    resumeToken,
    detachGraceMs: limits.detachGraceMs,
    replayBytes: limits.replayBytes,
  };
}
