/** Real kubectl against a real sandbox, each call with a fresh --cache-dir so discovery runs every time. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, afterEach, test } from 'node:test';
import * as pty from 'node-pty';
import { startSandbox } from '../../src/sandbox/index.js';
import { assertDrained } from './helpers.js';

const sb = await startSandbox({ killGraceMs: 500 });
after(() => sb.close());
const dir = await mkdtemp(join(tmpdir(), 'podterm-kubectl-test-'));
after(() => rm(dir, { recursive: true, force: true }));
const kubeconfig = join(dir, 'kubeconfig');
await sb.writeKubeconfig(kubeconfig);
afterEach(() => assertDrained(sb));

let cacheN = 0;
const kubectlArgs = (args: string[]): string[] => ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, `cache-${cacheN++}`), ...args];

function kubectl(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', kubectlArgs(args), { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
    else child.stdin?.end();
  });
}

test('exec -i with piped stdin: output and exit codes 0, 3, 255', async () => {
  for (const n of [0, 3, 255]) {
    const r = await kubectl(['exec', '-i', 'shell', '--', 'sh', '-c', `cat; echo "$HOSTNAME"; exit ${n}`], 'hello\n');
    assert.equal(r.stdout, 'hello\nshell\n', `exit ${n}`);
    assert.equal(r.code, n);
    if (n !== 0) assert.match(r.stderr, new RegExp(`command terminated with exit code ${n}`));
  }
});

test('exec -it under a PTY sees the terminal size and a resize', async (t) => {
  const term = pty.spawn('kubectl', kubectlArgs(['exec', '-it', 'shell', '--', 'sh', '-c', 'echo ready; while read a; do stty size; done']), {
    cols: 100,
    rows: 30,
    name: 'xterm-256color',
    env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string>,
  });
  t.after(() => term.kill('SIGKILL'));
  let out = '';
  term.onData((d) => (out += d));
  const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
  const until = async (re: RegExp, poke?: () => void): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!re.test(out)) {
      assert.ok(Date.now() < deadline, `waiting for ${re} in ${JSON.stringify(out)}`);
      poke?.();
      await delay(poke ? 200 : 20);
    }
  };
  await until(/ready/);
  term.write('\r');
  await until(/30 100/);
  term.resize(120, 40);
  // kubectl forwards SIGWINCH asynchronously; poke until the new size shows.
  await until(/40 120/, () => term.write('\r'));
  term.write('\x04');
  assert.equal(await exited, 0);
});

test('errors: missing pod, restricted user, stopped container, completed pod', async () => {
  const missing = await kubectl(['exec', 'nope', '--', 'true']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /NotFound.*pods "nope" not found/);

  const forbidden = await kubectl(['--context', 'restricted', '-n', 'default', 'exec', 'shell', '--', 'true']);
  assert.equal(forbidden.code, 1);
  assert.match(forbidden.stderr, /Forbidden.*User "restricted" cannot get resource "pods"/);

  const stopped = await kubectl(['exec', 'stopped', '--', 'true']);
  assert.equal(stopped.code, 1);
  assert.match(stopped.stderr, /container not found \("main"\)/);

  const done = await kubectl(['exec', 'done', '--', 'true']);
  assert.equal(done.code, 1);
  assert.match(done.stderr, /completed pod/);
});

test('restricted user may exec in its namespace (echo target); multi defaults to app via the annotation', async () => {
  const echo = await kubectl(['--context', 'restricted', 'exec', '-i', 'echo', '--', 'echo'], 'abc');
  assert.deepEqual([echo.code, echo.stdout], [0, 'abc']);
  const multi = await kubectl(['exec', 'multi', '--', 'sh', '-c', 'echo "$PODTERM_CONTAINER"']);
  assert.deepEqual([multi.code, multi.stdout], [0, 'app\n']);
  const sidecar = await kubectl(['exec', 'multi', '-c', 'sidecar', '--', 'sh', '-c', 'echo "$PODTERM_CONTAINER"']);
  assert.equal(sidecar.stdout, 'sidecar\n');
  const flood = await kubectl(['exec', '-n', 'load', 'flood', '--', 'flood', '100000']);
  assert.deepEqual([flood.code, flood.stdout.length], [0, 100000]);
});

test('get pods, get pods -A, get namespaces, and their denials', async () => {
  const pods = await kubectl(['get', 'pods']);
  assert.equal(pods.code, 0, pods.stderr);
  assert.match(pods.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
  assert.match(pods.stdout, /\nshell\s+1\/1\s+Running\s+0\s/);
  assert.match(pods.stdout, /\nstopped\s+0\/1\s+CrashLoopBackOff\s+5\s/);
  const all = await kubectl(['get', 'pods', '-A', '-o', 'name']);
  assert.equal(all.stdout, 'pod/shell\npod/multi\npod/stopped\npod/done\npod/logs\npod/distroless\npod/echo\npod/flood\n');
  const json = await kubectl(['get', 'pod', 'multi', '-o', 'json']);
  const pod = JSON.parse(json.stdout);
  assert.equal(pod.spec.nodeName, 'sandbox-node');
  assert.deepEqual(pod.spec.containers.map((c: { name: string }) => c.name), ['app', 'sidecar']);
  const ns = await kubectl(['get', 'namespaces', '-o', 'name']);
  assert.equal(ns.stdout, 'namespace/default\nnamespace/load\n');
  const restrictedNs = await kubectl(['--context', 'restricted', 'get', 'namespaces']);
  assert.match(restrictedNs.stderr, /namespaces is forbidden: User "restricted" cannot list resource "namespaces" in API group "" at the cluster scope/);
  const restrictedPods = await kubectl(['--context', 'restricted', 'get', 'pods']);
  assert.match(restrictedPods.stdout, /\necho\s+1\/1\s+Running/);
});
