/**
 * The container-tools tests' fixture: the sandbox and a gateway (gateway-stack.ts), HTTP helpers
 * with the admin bearer token, and the residue check that adds the tool counts (log streams, file
 * transfers and their execs, debug starts, the sandbox's attach/log/survivor counts).
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { GatewayOptions } from '../../src/server/gateway.js';
import { ADMIN_TOKEN, assertNoResidue, startStack, type Stack } from '../helpers/gateway-stack.js';

export async function toolStack(t: TestContext, o: Partial<GatewayOptions> = {}): Promise<Stack> {
  return startStack(t, { workers: 0, ...o });
}

export function api(stack: Stack, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${ADMIN_TOKEN}`);
  return fetch(stack.url + path, { ...init, headers, ...(init.body ? { duplex: 'half' } : {}) } as RequestInit);
}

export function filesPath(pod: string, container: string, path: string, ns = 'default'): string {
  return `/api/v1/namespaces/${ns}/pods/${pod}/files?container=${container}&path=${encodeURIComponent(path)}`;
}

/** Sessions, actors, execs, processes (assertNoResidue) and every tool count back to zero. */
export async function assertNoToolResidue(stack: Stack, timeoutMs = 5000): Promise<void> {
  await assertNoResidue(stack, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, number> = {};
  for (;;) {
    const g = await stack.gateway.stats();
    const s = stack.sandbox.toolStats();
    last = {
      logStreamsOpen: g.logStreamsOpen,
      fileTransfersOpen: g.fileTransfersOpen,
      fileExecsOpen: g.fileExecsOpen,
      debugStartsOpen: g.debugStartsOpen,
      sandboxAttach: s.attachActive,
      sandboxLogStreams: s.logStreamsActive,
      sandboxSurvivors: s.survivorsActive,
    };
    if (Object.values(last).every((v) => v === 0)) return;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(last, { logStreamsOpen: 0, fileTransfersOpen: 0, fileExecsOpen: 0, debugStartsOpen: 0, sandboxAttach: 0, sandboxLogStreams: 0, sandboxSurvivors: 0 }, 'tool residue');
}
