import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

test('profile:doctor writes a report with actors in worker threads', { timeout: 120_000 }, async (t) => {
  const child = spawn(process.execPath, [join(ROOT, 'dist/bench/profile.js'), 'doctor', 'latency', '--typists', '5', '--duration', '2', '--workers', '1'], {
    cwd: ROOT,
    env: { ...process.env, NO_INSIGHT: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, out);
  const report = /profile: (\S+\.html)/.exec(out)?.[1];
  assert.ok(report && existsSync(report) && statSync(report).size > 10_000, out);
  rmSync(report.replace(/\.html$/, ''), { recursive: true, force: true });
  rmSync(report, { force: true });
  // Nothing the run started is left: no gateway, sandbox or load process (test files run one at a time).
  const end = Date.now() + 10_000;
  let left = '';
  do {
    left = spawnSync('pgrep', ['-af', join(ROOT, 'dist/bench/')], { encoding: 'utf8' }).stdout.trim();
    if (left === '') break;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < end);
  assert.equal(left, '', 'processes left by the profile run');
});
