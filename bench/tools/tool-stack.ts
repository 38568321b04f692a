/**
 * What the bench tools under bench/tools measure on: the sandbox, one gateway with its inspector
 * open (limits lifted for many sessions from one token), one load agent, and a warm-up of a few
 * echo sessions, so lazily made threads and first-use allocations are in the baseline. The
 * children are stopped when the tool exits or is interrupted.
 */
import { type Agent, startAgents } from '../lib/agents.js';
import { ChildSet } from '../lib/children.js';
import { startGateway, startSandbox, type GatewayHandle } from '../lib/cluster.js';
import { gatewaySettled, podtermConn } from '../scenarios/context.js';

export const ECHO = { namespace: 'load', pod: 'echo', container: 'main' };

export interface ToolStack {
  gw: GatewayHandle;
  /** The gateway's inspector (always started with one). */
  inspectorUrl: string;
  agent: Agent;
  conn: ReturnType<typeof podtermConn>;
}

/** Runs `fn` on a fresh stack; everything is stopped afterwards. */
export async function withToolStack<T>(name: string, o: { workers: number; gatewayArgs: readonly string[]; warmups: number }, fn: (s: ToolStack) => Promise<T>): Promise<T> {
  const children = new ChildSet();
  process.once('exit', () => children.killNow());
  process.once('SIGINT', () => void children.close('SIGINT').then(() => process.exit(130)));
  try {
    const sandbox = await startSandbox(children);
    const gw = await startGateway(children, {
      kubeconfig: sandbox.kubeconfig,
      workers: o.workers,
      extraArgs: ['--max-sessions', '100000', '--max-sessions-per-token', '100000', '--drain-grace-ms', '0', ...o.gatewayArgs],
      nodeArgs: ['--inspect=127.0.0.1:0'],
    });
    if (!gw.inspectorUrl) throw new Error(`${name}: the gateway printed no inspector URL`);
    const [agent] = startAgents(children, 1) as [Agent];
    const conn = podtermConn(gw);
    await agent.call('churn', { conn, target: ECHO, count: o.warmups, concurrency: Math.min(4, o.warmups), maxHoldMs: 20, timeoutMs: 30000, clean: true }, 45000);
    await gatewaySettled(gw, 10000);
    return await fn({ gw, inspectorUrl: gw.inspectorUrl, agent, conn });
  } finally {
    await children.close();
  }
}
