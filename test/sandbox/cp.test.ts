/** kubectl cp in both directions, a file and a directory tree (tar over exec, stdin closed with the v5 signal). */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { startSandbox } from '../../src/sandbox/index.js';
import { assertDrained, assertStopped } from './helpers.js';
import { kubectlRunner } from './kubectl-runner.js';

const sb = await startSandbox({ killGraceMs: 500 });
after(async () => {
  await sb.close();
  assertStopped(sb);
});
afterEach(() => assertDrained(sb));

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('kubectl cp: a file up and back down, byte for byte', async (t) => {
  const k = await kubectlRunner(t, sb);
  const data = randomBytes(3 * 1024 * 1024 + 17);
  await writeFile(join(k.dir, 'up.bin'), data);
  const up = await k.run(['cp', join(k.dir, 'up.bin'), 'shell:up.bin']);
  assert.equal(up.code, 0, up.stderr);
  const size = await k.run(['exec', 'shell', '--', 'sh', '-c', 'wc -c < up.bin']);
  assert.equal(size.stdout.trim(), String(data.length));
  const down = await k.run(['cp', 'shell:up.bin', join(k.dir, 'down.bin')]);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(sha(await readFile(join(k.dir, 'down.bin'))), sha(data));
});

test('kubectl cp: a directory tree up and back down', async (t) => {
  const k = await kubectlRunner(t, sb);
  const src = join(k.dir, 'tree');
  await mkdir(join(src, 'a', 'b'), { recursive: true });
  const files: Record<string, Buffer> = { 'top.txt': Buffer.from('top\n'), 'a/mid.bin': randomBytes(70_000), 'a/b/deep.txt': Buffer.from('deep\n') };
  for (const [p, d] of Object.entries(files)) await writeFile(join(src, p), d);
  const up = await k.run(['cp', src, 'shell:tree']);
  assert.equal(up.code, 0, up.stderr);
  const listed = await k.run(['exec', 'shell', '--', 'sh', '-c', 'cd tree && find . -type f | sort']);
  assert.equal(listed.stdout, './a/b/deep.txt\n./a/mid.bin\n./top.txt\n');
  const down = await k.run(['cp', 'shell:tree', join(k.dir, 'back')]);
  assert.equal(down.code, 0, down.stderr);
  for (const [p, d] of Object.entries(files)) assert.equal(sha(await readFile(join(k.dir, 'back', p))), sha(d), p);
});
