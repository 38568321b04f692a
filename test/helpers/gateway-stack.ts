/**
 * Shared fixture: the real sandbox cluster plus a real gateway on port 0, both torn down where they
 * are created (t.after), and assertNoResidue() that polls every count back to zero.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/server/gateway.js';
import { makeTestPki, type ServerCert, type TestPki } from './test-pki.js';

/*
 * Commands in these tests that end on their own sleep briefly first: the sandbox (as of 21a26c8)
 * can throw EBADF from node-pty when the exec's initial resize (which client-node sends at once,
 * as kubectl does) lands after the process has already exited, which crashes the test process.
 */
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const RESTRICTED_TOKEN = 'test-restricted-token-0123456789';

export interface Stack {
  sandbox: Sandbox;
  gateway: Gateway;
  url: string;
}

export async function startSandboxFor(t: TestContext): Promise<Sandbox> {
  const sandbox = await startSandbox({ host: '127.0.0.1', port: 0, killGraceMs: 500 });
  t.after(() => sandbox.close());
  return sandbox;
}

export async function startGatewayFor(t: TestContext, sandbox: Sandbox, o: Partial<GatewayOptions> & { workers: number }): Promise<Gateway> {
  const gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    kube: { kind: 'kubeconfig', yaml: sandbox.kubeconfigYaml() },
    tokens: [
      { token: ADMIN_TOKEN, context: 'admin' },
      { token: RESTRICTED_TOKEN, context: 'restricted', namespaces: ['load'] },
    ],
    // Warnings and errors only, so the test output stays readable (the logger itself is tested).
    logLevel: 'warn',
    // Sessions end with their socket, as before resume existed, unless a test asks for a grace.
    detachGraceMs: 0,
    ...o,
  });
  t.after(() => gateway.close());
  return gateway;
}

export async function startStack(t: TestContext, o: Partial<GatewayOptions> & { workers: number }): Promise<Stack> {
  const sandbox = await startSandboxFor(t);
  const gateway = await startGatewayFor(t, sandbox, o);
  return { sandbox, gateway, url: gateway.url };
}

export interface TlsStack extends Stack {
  /** The test CA (clients trust `pki.caPem`) and the certificate the gateway was started with. */
  pki: TestPki;
  served: ServerCert;
}

/** The same stack with the gateway serving TLS itself (`tls`), its certificate signed by a test CA. */
export async function startTlsStack(t: TestContext, o: Partial<GatewayOptions> & { workers: number }): Promise<TlsStack> {
  const pki = await makeTestPki(t);
  const served = await pki.issue('server');
  const stack = await startStack(t, { ...o, tls: { certFile: served.certFile, keyFile: served.keyFile } });
  return { ...stack, pki, served };
}

export interface Residue {
  sessionsActive: number;
  actorsActive: number;
  execSocketsOpen: number;
  replayBuffers: number;
  sandboxExecActive: number;
  sandboxProcessesActive: number;
  recordingsOpen: number;
  recordingSlotsInUse: number;
}

/** Polls until sessions, actors, exec sockets, replay buffers, recordings and their write slots, and sandbox processes are all back to zero. */
export async function assertNoResidue(stack: Stack, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Residue | undefined;
  for (;;) {
    const g = await stack.gateway.stats();
    const s = stack.sandbox.stats();
    last = {
      sessionsActive: g.sessionsActive,
      actorsActive: g.actorsActive,
      execSocketsOpen: g.execSocketsOpen,
      replayBuffers: g.replayBuffers,
      sandboxExecActive: s.execActive,
      sandboxProcessesActive: s.processesActive,
      recordingsOpen: g.recordingsOpen,
      recordingSlotsInUse: g.recordingSlotsInUse,
    };
    if (Object.values(last).every((v) => v === 0)) return;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(last, { sessionsActive: 0, actorsActive: 0, execSocketsOpen: 0, replayBuffers: 0, sandboxExecActive: 0, sandboxProcessesActive: 0, recordingsOpen: 0, recordingSlotsInUse: 0 }, 'residue after sessions ended');
}
