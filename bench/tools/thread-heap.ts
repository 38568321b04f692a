/**
 * Heap per idle session on each thread of a gateway with worker threads (issue 13): the gateway
 * in this process (its own per-thread probe, `heapAfterGc`: V8 heap used plus external, after
 * forced GCs on every thread; run node with --expose-gc), the sandbox and the clients in child
 * processes, so that the main thread's figure is the gateway's alone. session-heap.ts
 * explains the heap by constructor with --workers 0; this shows where it sits with workers.
 * Usage (after a build):
 *   node --expose-gc dist/bench/tools/thread-heap.js [SESSIONS=1000] [WORKERS=1]
 * Prints one JSON line: per thread (main first) the bytes per session.
 */
import { type Agent, startAgents } from '../lib/agents.js';
import { ChildSet } from '../lib/children.js';
import { openSpread } from '../scenarios/capacity.js';
import { sleep } from '../scenarios/context.js';
import { readFileSync } from 'node:fs';
import { startSandbox } from '../lib/cluster.js';
import { startGateway } from '../../src/server/gateway.js';

const sessions = Number(process.argv[2] ?? 1000);
const workers = Number(process.argv[3] ?? 1);
if (!(globalThis as { gc?: unknown }).gc) throw new Error('thread-heap: run node with --expose-gc (the workers inherit it)');
const children = new ChildSet();
process.once('exit', () => children.killNow());
const sandbox = await startSandbox(children);
const token = 'bench-token-0123456789abcdef';
const gateway = await startGateway({
  host: '127.0.0.1', port: 0, kube: { kind: 'kubeconfig', yaml: readFileSync(sandbox.kubeconfig, 'utf8') }, tokens: [{ token, context: 'admin' }],
  workers, logLevel: 'warn', maxSessions: 100_000, maxSessionsPerToken: 100_000, detachGraceMs: 0,
});
try {
  const [agent] = startAgents(children, 1) as [Agent];
  const conn = { kind: 'podterm', wsUrl: gateway.url.replace(/^http/, 'ws'), token };
  const echo = { namespace: 'load', pod: 'echo', container: 'main' };
  // Warm-up: every worker has run a session, so first-use allocations are in the baseline.
  await agent.call('churn', { conn, target: echo, count: Math.max(4, 2 * workers), concurrency: Math.max(2, workers), maxHoldMs: 20, timeoutMs: 30000, clean: true }, 45000);
  await sleep(2000);
  const before = await gateway.heapAfterGc();
  const mainBefore = process.memoryUsage();
  const opened = await openSpread([agent], conn, sessions, 50);
  await sleep(2000);
  const after = await gateway.heapAfterGc();
  const mainAfter = process.memoryUsage();
  const n = Math.max(1, opened.opened);
  // The main thread's figure split: V8 heap, external (of which ArrayBuffers), and the process RSS.
  const main = Object.fromEntries((['heapUsed', 'external', 'arrayBuffers', 'rss'] as const).map((k) => [k, Math.round((mainAfter[k] - mainBefore[k]) / n)]));
  console.log(JSON.stringify({ sessions: opened.opened, failed: opened.failed, workers, threads: ['main', ...after.slice(1).map((_, i) => `worker ${i + 1}`)], perSession: after.map((a, i) => Math.round((a - (before[i] ?? 0)) / n)), mainPerSession: main, before, after }));
  await agent.call('close', { timeoutMs: 60000 }, 90000);
} finally {
  await gateway.close();
  await children.close();
}
