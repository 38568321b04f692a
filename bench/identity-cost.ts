/**
 * What the per-identity cache costs (issue 9: "10,000 distinct users do not grow memory without
 * limit; measure and report the cost per cached identity"), in one run:
 * - impersonation: one KubeContexts.identity() entry per person (the context's shared KubeConfig
 *   plus that person's header lines), and the per-call options KubeApi builds from it;
 * - passthrough: one derived KubeConfig per ID token plus the CoreV1Api and AuthorizationV1Api
 *   that KubeApi makes for it (what KubeApi holds per token);
 * - the bound: 2x the cache size of distinct people leaves the cache at its bound and memory at
 *   the bound's cost, not twice it;
 * - lookup time for a hit and a miss.
 * No API server is contacted: building clients needs only the kubeconfig.
 *
 * Usage: node dist/bench/identity-cost.js [--users 10000] [--out FILE]
 */
import { writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AuthorizationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { KubeContexts } from '../src/kube/config.js';
import { headerOptions } from '../src/kube/request-headers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const USERS = arg('users', 10_000);
const outIdx = process.argv.indexOf('--out');
const OUT = outIdx >= 0 ? process.argv[outIdx + 1] : undefined;

// A kubeconfig like a real one: CA data and a token (values are placeholders; nothing connects).
const CA = Buffer.from(`-----BEGIN CERTIFICATE-----\n${'A'.repeat(1200)}\n-----END CERTIFICATE-----\n`).toString('base64');
const YAML = `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://10.0.0.1:6443", certificate-authority-data: "${CA}" } }]
users: [{ name: gw, user: { token: "${'t'.repeat(900)}" } }]
contexts: [{ name: gw, context: { cluster: c, user: gw, namespace: default } }]
current-context: gw
`;

function memory(): number {
  gc(); gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function person(i: number): { user: string; groups: string[] } {
  return { user: `user-${i}@example.com`, groups: ['dev', `team-${i % 50}`, 'system:authenticated'] };
}
/** ID-token-sized bearer (~900 bytes, as a typical RS256 ID token with a few groups). */
function bearer(i: number): string {
  return `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: i, pad: 'x'.repeat(560) })).toString('base64url')}.${'s'.repeat(342)}`;
}

interface Row { what: string; users: number; cached: number; bytesPerIdentity: number; totalMiB: number }

function measure(what: string, n: number, max: number, fill: (contexts: KubeContexts, i: number) => unknown): Row {
  const keep: unknown[] = [];
  const before = memory();
  const contexts = new KubeContexts({ kind: 'kubeconfig', yaml: YAML }, { identityCacheMax: max });
  contexts.forContext(undefined);
  const base = memory();
  for (let i = 0; i < n; i++) keep.push(fill(contexts, i));
  keep.length = 0; // only what the cache holds counts
  const after = memory();
  const cached = contexts.identitiesCached;
  void before;
  return { what, users: n, cached, bytesPerIdentity: Math.round((after - base) / cached), totalMiB: +((after - base) / 2 ** 20).toFixed(2) };
}

const apis = new WeakMap<object, unknown>();
const rows: Row[] = [
  measure('impersonate: identity entry', USERS, USERS, (c, i) => c.identity({ context: undefined, as: person(i) })),
  measure('impersonate: entry + per-call options', USERS, USERS, (c, i) => headerOptions(c.identity({ context: undefined, as: person(i) }).headers)),
  measure('passthrough: KubeConfig + API clients', USERS, USERS, (c, i) => {
    const { kc } = c.identity({ context: undefined, as: { bearer: bearer(i) } });
    if (!apis.has(kc)) apis.set(kc, [kc.makeApiClient(CoreV1Api), kc.makeApiClient(AuthorizationV1Api)]);
  }),
  measure(`impersonate: ${2 * USERS} people, bound ${USERS}`, 2 * USERS, USERS, (c, i) => c.identity({ context: undefined, as: person(i) })),
  measure(`passthrough: ${2 * USERS} tokens, bound ${USERS}`, 2 * USERS, USERS, (c, i) => {
    const { kc } = c.identity({ context: undefined, as: { bearer: bearer(i) } });
    if (!apis.has(kc)) apis.set(kc, [kc.makeApiClient(CoreV1Api), kc.makeApiClient(AuthorizationV1Api)]);
  }),
];

function timeLookups(): { hitNs: number; missNs: number } {
  const c = new KubeContexts({ kind: 'kubeconfig', yaml: YAML }, { identityCacheMax: USERS });
  const people = Array.from({ length: USERS }, (_, i) => ({ context: undefined, as: person(i) }));
  let t = process.hrtime.bigint();
  for (const p of people) c.identity(p);
  const missNs = Number(process.hrtime.bigint() - t) / USERS;
  t = process.hrtime.bigint();
  for (let r = 0; r < 10; r++) for (const p of people) c.identity(p);
  const hitNs = Number(process.hrtime.bigint() - t) / (10 * USERS);
  return { hitNs: Math.round(hitNs), missNs: Math.round(missNs) };
}
const lookups = timeLookups();

console.log('| cache | people | cached | bytes per identity | total MiB |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.what} | ${r.users} | ${r.cached} | ${r.bytesPerIdentity} | ${r.totalMiB} |`);
console.log(`\nlookup (impersonation): hit ${lookups.hitNs} ns, miss ${lookups.missNs} ns`);
if (OUT) writeFileSync(OUT, JSON.stringify({ node: process.version, users: USERS, rows, lookups }, null, 2) + '\n');
