/**
 * The real pieces of a signed-in podterm, for identity tests: the in-process OpenID provider
 * (alice, bob), the sandbox cluster with its audit log (and, for passthrough, OIDC bearer auth for
 * the same issuer), and a gateway that signs people in and acts with the sandbox's least-privilege
 * `podterm-gateway` identity. Each is torn down where it is started (t.after).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/server/gateway.js';
import type { TokenBinding } from '../../src/auth/token-auth.js';
import { startTestIdp, type TestIdp } from './oidc-provider.js';
import { FormAgent, signInWithForms } from './form-agent.js';
import { USERS } from './oidc-provider.js';

export const ADMIN_TOKEN = 'identity-admin-token-0123456789';

export interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  impersonatedUser?: { username: string; groups?: string[] };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
}

export interface IdentityStack {
  idp: TestIdp;
  sandbox: Sandbox;
  gateway: Gateway;
  /** The gateway as the browser sees it (`http://HOST:PORT`). */
  url: string;
  /** Every audit event so far. */
  audit(): Promise<AuditEvent[]>;
}

export interface IdentityStackOptions {
  /** Host name in the gateway's public URL (the browser maps it to 127.0.0.1); default 127.0.0.1. */
  host?: string;
  identity?: 'impersonate' | 'passthrough';
  /** Extra static tokens (`--person`). */
  tokens?: TokenBinding[];
  workers?: number;
  gateway?: Partial<GatewayOptions>;
}

/** A port free right now. The IdP must know the callback URL before the gateway can start. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startIdentityStack(t: TestContext, o: IdentityStackOptions = {}): Promise<IdentityStack> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-identity-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const auditFile = join(dir, 'audit.log');
  const port = await freePort();
  const url = `http://${o.host ?? '127.0.0.1'}:${port}`;
  const idp = await startTestIdp({ redirectUris: [`${url}/auth/callback`], postLogoutRedirectUris: [`${url}/`] });
  t.after(() => idp.close());
  t.after(() => assert.deepEqual(idp.serverErrors, [], 'the provider reported server errors'));
  const sandbox = await startSandbox({
    host: '127.0.0.1', port: 0, killGraceMs: 500, auditLog: auditFile,
    // The API server trusts the same issuer with the same claim mapping: passthrough names alice alike.
    oidc: { issuerUrl: idp.issuer, clientId: idp.clientId, usernameClaim: 'email', groupsClaim: 'groups' },
  });
  t.after(() => sandbox.close());
  // The gateway's own identity: the sandbox's least-privilege podterm-gateway user.
  const yaml = sandbox.kubeconfigYaml().replace(/^current-context: .*$/m, 'current-context: podterm-gateway');
  const gateway = await startGateway({
    host: '127.0.0.1', port, workers: o.workers ?? 1,
    kube: { kind: 'kubeconfig', yaml },
    tokens: [{ token: ADMIN_TOKEN, context: 'admin' }, ...(o.tokens ?? [])],
    oidc: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, usernameClaim: 'email', redirectUrl: `${url}/auth/callback` },
    identity: o.identity ?? 'impersonate',
    logLevel: 'warn',
    // Sessions end with their socket here (the identity tests count residue right after a close).
    detachGraceMs: 0,
    ...o.gateway,
  });
  t.after(() => gateway.close());
  const audit = async (): Promise<AuditEvent[]> => {
    const text = await readFile(auditFile, 'utf8').catch(() => '');
    return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditEvent);
  };
  return { idp, sandbox, gateway, url, audit };
}

/** Signs in at the gateway with forms, as a browser would; returns the agent holding the cookie. */
export async function signInAt(stack: IdentityStack, user: 'alice' | 'bob'): Promise<FormAgent> {
  const agent = new FormAgent();
  const login = await agent.request(`${stack.url}/auth/login`);
  assert.equal(login.status, 302);
  assert.ok(login.location);
  const callback = await signInWithForms(agent, login.location, `${stack.url}/auth/callback`, user, USERS[user]!.password);
  const landed = await agent.request(callback);
  assert.equal(landed.status, 200, landed.body);
  assert.ok(agent.jar.has('podterm_session'), 'the callback set the session cookie');
  return agent;
}

export function cookieOf(agent: FormAgent): string {
  return `podterm_session=${agent.jar.get('podterm_session') ?? ''}`;
}

/** Exec events (the WebSocket upgrade, stage ResponseStarted or ResponseComplete) for a pod. */
export function execEvents(events: AuditEvent[], pod: string): AuditEvent[] {
  return events.filter((e) => e.objectRef?.subresource === 'exec' && e.objectRef.name === pod);
}
