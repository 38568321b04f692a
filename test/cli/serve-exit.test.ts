/**
 * `podterm serve` and `podterm sandbox` refuse bad command lines at once (exit 2, one line and a
 * hint on stderr) and leave no sandbox scratch folder behind on any exit path: bad option, failed
 * start (address in use), SIGINT during start, SIGTERM after start (issue 8, items 15 and 16).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exitWithin, runCli } from './spawn-cli.js';

/** A usage error happens before anything starts: well under this, even on a loaded machine. */
const AT_ONCE_MS = 8_000;

const BAD: { args: string[]; error: RegExp }[] = [
  { args: ['serve', '--sandbox', '--workers', 'abc'], error: /^podterm: --workers wants an integer from 0 to 1024, got "abc"$/ },
  { args: ['serve', '--sandbox', '--workers', '-1'], error: /^podterm: --workers needs a value \(for one that starts with a dash, write --workers=-\.\.\.\)$/ },
  { args: ['serve', '--sandbox', '--nope'], error: /^podterm: unknown option --nope$/ },
  { args: ['serve', '--sandbox', '--listen'], error: /^podterm: --listen needs a value$/ },
  { args: ['serve', '--sandbox', '--listen', 'localhost'], error: /^podterm: --listen wants HOST:PORT, got "localhost"$/ },
  { args: ['serve', '--sandbox', '--max-sessions', '0'], error: /^podterm: --max-sessions wants an integer from 1 to/ },
  { args: ['serve', '--sandbox', '--idle-timeout-ms', '9999999999'], error: /^podterm: --idle-timeout-ms wants an integer from 0 to 2147483647/ },
  { args: ['serve', '--sandbox', '--sandbox=yes'], error: /^podterm: --sandbox takes no value$/ },
  { args: ['serve', '--sandbox', 'extra'], error: /^podterm: unexpected argument "extra"$/ },
  { args: ['serve', '--sandbox', '--web-root', '/nonexistent-podterm-web'], error: /^podterm: --web-root: \/nonexistent-podterm-web not found$/ },
  { args: ['serve', '--sandbox', '--allow-origin', 'https://a.example/path'], error: /^podterm: --allow-origin wants an origin/ },
  { args: ['serve', '--sandbox', '--user', 'secret-token-value'], error: /^podterm: --user wants TOKEN=CONTEXT\[:NS,NS\] \(the value is not shown\)$/ },
  { args: ['sandbox', '--kubeconfig-out', '/nonexistent-podterm-dir/kc'], error: /^podterm: --kubeconfig-out: folder \/nonexistent-podterm-dir not found$/ },
  { args: ['sandbox', '--listen', '127.0.0.1:99999', '--kubeconfig-out', 'kc'], error: /^podterm: --listen wants HOST:PORT/ },
];

test('bad options: exit 2 at once with one error line and the help hint, nothing left in TMPDIR', async (t) => {
  const runs = await Promise.all(BAD.map((b) => runCli(t, b.args)));
  for (const [i, run] of runs.entries()) {
    const { args, error } = BAD[i] as (typeof BAD)[number];
    const { code, ms } = await exitWithin(run, AT_ONCE_MS);
    const lines = run.stderr().trimEnd().split('\n');
    assert.equal(code, 2, `${args.join(' ')}: ${run.stderr()}`);
    assert.match(lines[0] as string, error, args.join(' '));
    assert.deepEqual(lines.slice(1), [`Run 'podterm ${args[0]} --help' for every option.`], args.join(' '));
    assert.equal(run.stdout(), '');
    assert.ok(!run.stderr().includes('secret-token-value'), 'a --user value is never echoed');
    assert.deepEqual(await run.scratchDirs(), [], `${args.join(' ')} left a scratch folder (${ms} ms)`);
  }
});

test('a second gateway on a port in use exits 2, leaves no scratch folder; the first still serves and stops clean', async (t) => {
  const first = await runCli(t, ['serve', '--sandbox', '--listen', '127.0.0.1:0', '--workers', '0']);
  const [, url, port] = await first.waitFor(/podterm: open (http:\/\/127\.0\.0\.1:(\d+))\//);
  assert.equal((await first.scratchDirs()).length, 1, 'the sandbox made its scratch folder');

  const second = await runCli(t, ['serve', '--sandbox', '--listen', `127.0.0.1:${port}`, '--workers', '0']);
  const { code } = await exitWithin(second, 60_000);
  assert.equal(code, 2, second.stderr());
  const lines = second.stderr().trimEnd().split('\n');
  assert.equal(lines[lines.length - 1], `podterm: 127.0.0.1:${port}: address in use; choose another with --listen`);
  assert.ok(!/\n\s+at /.test(second.stderr()), 'no stack trace');
  assert.equal(second.stdout(), '', 'no ready line');
  assert.deepEqual(await second.scratchDirs(), [], 'the failed start removed its sandbox scratch folder');

  const health = await fetch(`${url}/healthz`);
  assert.equal(health.status, 200, 'the first gateway still serves');
  first.child.kill('SIGTERM');
  assert.equal((await exitWithin(first, 30_000)).code, 0);
  assert.deepEqual(await first.scratchDirs(), [], 'a normal stop removes the scratch folder');
});

test('SIGINT while the sandbox starts: exit 0 soon, no scratch folder; with no kubeconfig the sandbox is used', async (t) => {
  // No --sandbox, no KUBECONFIG, an empty HOME: the documented fall-back to the sandbox.
  const run = await runCli(t, ['serve', '--listen', '127.0.0.1:0', '--workers', '0']);
  const deadline = Date.now() + 60_000;
  while ((await run.scratchDirs()).length === 0) {
    assert.ok(Date.now() < deadline && run.child.exitCode === null, `the sandbox never made its scratch folder: ${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  run.child.kill('SIGINT');
  const { code } = await exitWithin(run, 30_000);
  assert.equal(code, 0, run.stderr());
  assert.deepEqual(await run.scratchDirs(), []);
  assert.match(run.stderr(), /no cluster configured: serving the built-in sandbox cluster/);
});

test('podterm sandbox: SIGTERM after start removes its scratch folder', async (t) => {
  const run = await runCli(t, ['sandbox', '--listen', '127.0.0.1:0', '--quiet', '--kubeconfig-out', 'kc.yaml']);
  await run.waitFor(/kubeconfig written to/);
  assert.equal((await run.scratchDirs()).length, 1);
  run.child.kill('SIGTERM');
  assert.equal((await exitWithin(run, 30_000)).code, 0);
  assert.deepEqual(await run.scratchDirs(), []);
});
