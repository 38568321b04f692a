/** `podterm sandbox` identity options: --audit-log writes Events; --oidc-* mistakes are usage errors (exit 2). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { kubectlRunner } from './identity-helpers.js';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).href;
const RUNNER = `import { main } from ${JSON.stringify(MAIN)}; await main(process.argv.slice(1), process.env);`;

function run(args: string[]): { child: ReturnType<typeof spawn>; exited: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', RUNNER, 'sandbox', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  return { child, exited };
}

test('--oidc-* mistakes exit 2 with a usage message', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-cli-identity-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const kc = join(dir, 'kc');
  for (const [args, re] of [
    [['--oidc-issuer', 'http://idp.example', '--oidc-client-id', 'x'], /--oidc-issuer must be https/],
    [['--oidc-client-id', 'x'], /--oidc-issuer and --oidc-client-id go together/],
    [['--oidc-username-claim', 'email'], /--oidc-username-claim needs --oidc-issuer and --oidc-client-id/],
  ] as const) {
    const { child, exited } = run(['--kubeconfig-out', kc, ...args]);
    t.after(() => child.kill('SIGKILL'));
    const r = await exited;
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(existsSync(kc), false);
  }
});

test('--audit-log: kubectl requests land in the file; SIGTERM closes it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-cli-identity-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const kc = join(dir, 'kc');
  const audit = join(dir, 'audit.log');
  const { child, exited } = run(['--kubeconfig-out', kc, '--audit-log', audit, '--quiet']);
  t.after(() => child.kill('SIGKILL'));
  const deadline = Date.now() + 15_000;
  while (!existsSync(kc)) {
    assert.ok(Date.now() < deadline, 'kubeconfig not written');
    await delay(50);
  }
  const kubectl = kubectlRunner(kc, dir);
  const r = await kubectl(['--context', 'alice', 'auth', 'can-i', 'list', 'pods']);
  assert.equal(r.stdout.trim(), 'yes', r.stderr);
  child.kill('SIGTERM');
  assert.equal((await exited).code, 0);
  const events = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { verb: string; user: { username?: string }; objectRef?: { resource: string } });
  const review = events.find((e) => e.objectRef?.resource === 'selfsubjectaccessreviews');
  assert.deepEqual([review?.verb, review?.user.username], ['create', 'alice']);
});
