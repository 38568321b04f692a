/**
 * Where serve's cluster and token come from (issue 8, items 4 and 14): a KUBECONFIG or
 * --kubeconfig that is missing or malformed stops the start with one line (never the sandbox);
 * the startup log names the kubeconfig, context and server, never a credential; a token given
 * with --token or PODTERM_TOKEN is never printed, a generated one is printed in the URL.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { exitWithin, runCli, type CliRun } from './spawn-cli.js';

const CLUSTER_SECRET = 'kube-bearer-s3cret-value';
function kubeconfig(current: string): string {
  return `apiVersion: v1
kind: Config
clusters:
  - name: far
    cluster: { server: "https://operator:pw-in-url@127.0.0.1:1", insecure-skip-tls-verify: true }
users:
  - name: ops
    user: { token: ${CLUSTER_SECRET} }
contexts:
  - name: ops@far
    context: { cluster: far, user: ops, namespace: team }
current-context: ${current}
`;
}

async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-kc-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Exits 2 with exactly one stderr line (no stack), nothing on stdout, no sandbox started. */
async function refused(run: CliRun, line: string): Promise<void> {
  const { code } = await exitWithin(run, 30_000);
  assert.equal(code, 2, run.stderr());
  assert.equal(run.stderr(), `${line}\n`);
  assert.equal(run.stdout(), '');
  assert.deepEqual(await run.scratchDirs(), [], 'no sandbox was started');
}

test('kubeconfig missing or malformed: one line, exit 2, never the sandbox', async (t) => {
  const dir = await scratch(t);
  const files: Record<string, string> = {
    garbage: 'clusters: [\n',
    'no-contexts': 'apiVersion: v1\nkind: Config\nclusters: []\n',
    'bad-current': kubeconfig('nope'),
    empty: '',
    good: kubeconfig('ops@far'),
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const home = join(dir, 'home');
  await mkdir(join(home, '.kube'), { recursive: true });
  await writeFile(join(home, '.kube', 'config'), 'users: [ {\n');
  const f = (n: string): string => join(dir, n);
  const cases: [string[], Record<string, string>, string, string?][] = [
    [['serve'], { KUBECONFIG: '/missing' }, 'podterm: kubeconfig /missing (from KUBECONFIG) not found'],
    [['serve'], { KUBECONFIG: `/missing:${dir}/also-missing` }, `podterm: kubeconfig /missing:${dir}/also-missing (from KUBECONFIG) not found`],
    [['serve', '--kubeconfig', '/missing'], {}, 'podterm: kubeconfig /missing (from --kubeconfig) not found'],
    [['serve', '--kubeconfig', f('garbage')], {}, `podterm: kubeconfig ${f('garbage')} (from --kubeconfig) is not a valid kubeconfig: unexpected end of the stream within a flow collection (2:1)`],
    [['serve'], { KUBECONFIG: f('no-contexts') }, `podterm: kubeconfig ${f('no-contexts')} (from KUBECONFIG) has no contexts`],
    [['serve'], { KUBECONFIG: f('bad-current') }, `podterm: kubeconfig ${f('bad-current')} (from KUBECONFIG) names current-context "nope", which is not one of its contexts (ops@far)`],
    [['serve', '--kubeconfig', f('empty')], {}, `podterm: kubeconfig ${f('empty')} (from --kubeconfig) is empty or not a kubeconfig`],
    [['serve'], {}, `podterm: kubeconfig ${join(home, '.kube', 'config')} (from ~/.kube/config) is not a valid kubeconfig: unexpected end of the stream within a flow collection (2:1)`, home],
    [['serve', '--kubeconfig', f('good'), '--user', 'other-token=nope'], {}, 'podterm: --user binds a token to context "nope", which the kubeconfig does not define (ops@far)'],
    // Outside a pod (the test machine): no KUBERNETES_SERVICE_HOST, so no usable in-cluster config.
    [['serve', '--in-cluster'], { KUBERNETES_SERVICE_HOST: '', KUBERNETES_SERVICE_PORT: '' }, 'podterm: --in-cluster: not running in a pod with a service account (cluster "inCluster" has no usable server URL)'],
  ];
  const runs = await Promise.all(cases.map(([args, env, , h]) => runCli(t, args, { env, ...(h ? { home: h } : {}) })));
  for (const [i, run] of runs.entries()) await refused(run, (cases[i] as (typeof cases)[number])[2]);
});

test('the log names kubeconfig, context and server, never a credential; a given token is never printed', async (t) => {
  const dir = await scratch(t);
  const kc = join(dir, 'config');
  await writeFile(kc, kubeconfig('ops@far'));
  const given = 'operator-given-token-5e7c1';
  const run = await runCli(t, ['serve', '--listen', '127.0.0.1:0', '--workers', '0'], { env: { KUBECONFIG: kc, PODTERM_TOKEN: given } });
  const [line, url] = await run.waitFor(/podterm: open (http:\/\/127\.0\.0\.1:\d+)\/.*\n/);
  assert.equal(line, `podterm: open ${url}/ (sign in with the token from PODTERM_TOKEN)\n`);
  const log = run.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const cluster = log.find((e) => e.msg === 'cluster');
  assert.deepEqual(cluster && { kubeconfig: cluster.kubeconfig, from: cluster.from, context: cluster.context, server: cluster.server },
    { kubeconfig: kc, from: 'KUBECONFIG', context: 'ops@far', server: 'https://127.0.0.1:1' });
  // The token works (it is the one the operator gave) and appears nowhere in the output.
  assert.equal((await fetch(`${url}/api/v1/namespaces`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  const me = await fetch(`${url}/api/v1/namespaces`, { headers: { authorization: `Bearer ${given}` } });
  assert.notEqual(me.status, 401);
  run.child.kill('SIGTERM');
  assert.equal((await exitWithin(run, 30_000)).code, 0);
  for (const secret of [given, CLUSTER_SECRET, 'pw-in-url']) {
    assert.ok(!run.stdout().includes(secret) && !run.stderr().includes(secret), `${secret} was printed`);
  }
});

test('--token is never printed; a generated token is printed once, in the URL, and signs in', async (t) => {
  const given = 'cli-given-token-81f0a';
  const withToken = await runCli(t, ['serve', '--sandbox', '--listen', '127.0.0.1:0', '--workers', '0', '--token', given]);
  const generated = await runCli(t, ['serve', '--sandbox', '--listen', '127.0.0.1:0', '--workers', '0']);
  await withToken.waitFor(/podterm: open http:\/\/127\.0\.0\.1:\d+\/ \(sign in with the token from --token\)\n/);
  const [, url, token] = await generated.waitFor(/podterm: open (http:\/\/127\.0\.0\.1:\d+)\/\?token=([\w-]{16,})\n/);
  const ok = await fetch(`${url}/api/v1/namespaces`, { headers: { authorization: `Bearer ${decodeURIComponent(token as string)}` } });
  assert.equal(ok.status, 200);
  for (const run of [withToken, generated]) {
    run.child.kill('SIGTERM');
    assert.equal((await exitWithin(run, 30_000)).code, 0);
  }
  assert.ok(!withToken.stdout().includes(given) && !withToken.stderr().includes(given), 'the given token was printed');
  assert.equal(generated.stdout().split(token as string).length - 1, 1, 'the generated token is printed once');
  assert.ok(!generated.stderr().includes(token as string), 'and never logged');
});
