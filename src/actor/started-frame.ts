/**
 * The Started frame (op 2) a socket gets when it joins a session (docs/protocol.md, Additions). An
 * observer's carries neither the resume token nor an input window (its input is ignored).
 */
import { ServerOp, type ServerFrame } from '../protocol/index.js';
import type { ActorInit } from '../actor-link/actor-messages.js';

export interface StartedFor {
  owner: boolean;
  resumed: boolean;
  /** The input window the owner's sockets share (op 7 credits it). */
  inputWindow: number;
  /** The size last asked for by an owner socket. */
  cols: number;
  rows: number;
}

export function startedFrame(init: ActorInit, container: string, command: string[], s: StartedFor): ServerFrame {
  const owner = s.owner;
  return [
    ServerOp.Started,
    {
      session: init.session, namespace: init.namespace, pod: init.pod, container, command,
      ...(owner ? { inputWindow: s.inputWindow, ...(init.resumeToken !== undefined ? { resumeToken: init.resumeToken } : {}) } : {}),
      role: owner ? 'owner' : 'observer', resumed: s.resumed, cols: s.cols, rows: s.rows,
    },
  ];
}
