/** `podterm sandbox` as a process: --pods YAML inventory, kubeconfig written when ready, SIGTERM exits 0 and leaves no process. */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { loadInventory, InventoryError } from '../../src/sandbox/index.js';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).href;
const RUNNER = `import { main } from ${JSON.stringify(MAIN)}; await main(process.argv.slice(1), process.env);`;

const INVENTORY = `
namespaces:
  - name: team
    pods:
      - name: box
        labels: { app: box }
        containers:
          - name: main
            image: example/box
  - name: other
    pods:
      - name: hidden
        containers: [{ name: c, target: echo }]
users:
  admin: { namespaces: ["*"] }
  restricted: { namespaces: [team] }
`;

function runPodterm(args: string[]): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--input-type=module', '-e', RUNNER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function kubectl(kc: string, cache: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', ['--kubeconfig', kc, '--cache-dir', cache, ...args], { timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

/** PIDs of `sleep ARG` processes (kubectl's own command line carries ARG too, so argv[0] must be sleep). */
function sleepsWithArg(arg: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0');
      if (argv[0] === 'sleep' && argv[1] === arg) out.push(Number(name));
    } catch {
      // exited
    }
  }
  return out;
}

test('podterm sandbox: YAML inventory, kubeconfig when listening, SIGTERM ends execs and exits 0', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-cli-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pods = join(dir, 'pods.yaml');
  await writeFile(pods, INVENTORY);
  const kc = join(dir, 'kubeconfig');
  const child = runPodterm(['sandbox', '--listen', '127.0.0.1:0', '--pods', pods, '--kubeconfig-out', kc]);
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d));
  child.stderr?.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  while (!existsSync(kc)) {
    assert.ok(Date.now() < deadline, 'kubeconfig written');
    await delay(20);
  }
  // The file appears only once the server listens, so the first call must already work.
  const got = await kubectl(kc, join(dir, 'c1'), ['get', 'pods', '-n', 'team', '-o', 'name']);
  assert.deepEqual([got.code, got.stdout], [0, 'pod/box\n']);
  assert.match(stdout, /sandbox listening on https:\/\/127\.0\.0\.1:\d+/);
  const hi = await kubectl(kc, join(dir, 'c2'), ['--context', 'restricted', 'exec', 'box', '--', 'sh', '-c', 'echo "hi from $HOSTNAME"']);
  assert.deepEqual([hi.code, hi.stdout], [0, 'hi from box\n']);
  const denied = await kubectl(kc, join(dir, 'c3'), ['--context', 'restricted', '-n', 'other', 'get', 'pods']);
  assert.match(denied.stderr, /Forbidden/);

  const marker = String(600000 + Math.floor(Math.random() * 300000));
  const long = kubectl(kc, join(dir, 'c4'), ['exec', '-n', 'team', 'box', '--', 'sleep', marker]);
  while (sleepsWithArg(marker).length === 0) {
    assert.ok(Date.now() < deadline, 'sleep started');
    await delay(20);
  }
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.deepEqual(sleepsWithArg(marker), []);
  assert.notEqual((await long).code, 0);
});

test('podterm sandbox: usage errors exit 2', async () => {
  const child = runPodterm(['sandbox', '--listen', '127.0.0.1:0']);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.equal(code, 2);
  assert.match(err, /--kubeconfig-out/);
});

test('loadInventory validates: JSON accepted, bad shapes rejected with the path of the problem', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-inv-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ok = join(dir, 'ok.json');
  await writeFile(ok, JSON.stringify({ namespaces: [{ name: 'a', pods: [{ name: 'p', containers: [{ name: 'c', target: 'flood' }] }] }], users: { admin: { namespaces: ['*'] }, restricted: { namespaces: ['a'] } } }));
  const inv = await loadInventory(ok);
  assert.equal(inv.namespaces[0]?.pods[0]?.containers[0]?.target, 'flood');
  assert.equal(inv.namespaces[0]?.pods[0]?.phase, 'Running');
  const bad = async (doc: string, re: RegExp): Promise<void> => {
    const f = join(dir, 'bad.yaml');
    await writeFile(f, doc);
    await assert.rejects(loadInventory(f), (e: unknown) => e instanceof InventoryError && re.test(e.message));
  };
  await bad('namespaces: []\nusers: {}', /namespaces: expected a non-empty list/);
  await bad('namespaces: [{name: Bad_Name}]\nusers: {}', /namespaces\[0\]\.name/);
  await bad('namespaces: [{name: a, pods: [{name: p, containers: [{name: c, target: nope}]}]}]\nusers: {}', /containers\[0\]\.target/);
  await bad('namespaces: [{name: a}]\nusers: {admin: {namespaces: ["*"]}}', /admin and restricted/);
});
