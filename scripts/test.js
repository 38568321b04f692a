#!/usr/bin/env node
// Runs the whole suite with node's test runner on the compiled tests in dist/test.
// `npm test -- PATTERN...` runs only the test files whose path contains one of the patterns.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const testDir = join(root, 'dist', 'test');

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(p));
    else if (entry.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const patterns = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = findTests(testDir)
  .filter((f) => patterns.length === 0 || patterns.some((p) => relative(root, f).includes(p)))
  .sort();
if (files.length === 0) {
  console.error('test: no test files matched');
  process.exit(1);
}
const args = ['--expose-gc', '--test', '--test-concurrency=1', '--test-timeout=180000', ...files];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, PODTERM_TEST: '1' } });
process.exit(r.status ?? 1);
