/**
 * What a session's start works out before it opens anything (session-actor.ts #start): the
 * container when none was named, the command, and the exec request, with podterm's marked shell
 * when leftovers are to be killed on close. Pure but for the pod read.
 */
import { PodtermError } from '../protocol/errors.js';
import { SHELL_COMMAND } from '../protocol/index.js';
import type { ActorInit } from '../actor-link/actor-messages.js';
import { KubeApi } from '../kube/api.js';
import type { KubeContexts } from '../kube/config.js';
import type { ExecRequest } from '../kube/exec.js';
import { markedShellCommand } from './kill-on-close.js';

/** What the session runs: the client's command, or podterm's shell. */
export function sessionCommand(init: ActorInit): string[] {
  return init.command ?? [...SHELL_COMMAND];
}

/** The pod's default container. Bounded by the kube timeout and aborted when the session closes: teardown never waits on it. */
export async function defaultContainer(kube: KubeContexts, init: ActorInit, signal: AbortSignal): Promise<string> {
  const pod = await new KubeApi(kube).readPod({ context: init.context, as: init.as }, init.namespace, init.pod, signal);
  if (!pod.defaultContainer) throw new PodtermError('NotFound', 'The pod has no containers.');
  return pod.defaultContainer;
}

/**
 * The exec (or attach) to open. Kill on close: podterm's shell carries the session marker
 * (kill-on-close.ts), and `killOnClose` says the leftovers are to be ended at close; attach runs no command.
 */
export function execRequest(init: ActorInit, container: string, command: string[]): { request: ExecRequest; killOnClose: boolean } {
  const marked = init.killOnClose && !init.attach ? markedShellCommand(command, init.session) : null;
  return {
    request: { kind: init.attach ? 'attach' : 'exec', namespace: init.namespace, pod: init.pod, container, command: marked ?? command, tty: true },
    killOnClose: marked !== null,
  };
}
