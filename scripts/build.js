#!/usr/bin/env node
// Builds podterm: TypeScript (server, workers, bench, tests) with tsc into dist/, and the browser
// page with esbuild into dist/web/. `--if-needed` skips the build when dist/ is newer than every
// source file, so `npm start` after `npm ci` builds once and then starts at once.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'dist', '.build-stamp');

function newestMtime(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

if (process.argv.includes('--if-needed') && existsSync(stamp)) {
  const sources = Math.max(...['src', 'bench', 'test', 'scripts'].map((d) => newestMtime(join(root, d))),
    statSync(join(root, 'package.json')).mtimeMs, statSync(join(root, 'tsconfig.json')).mtimeMs);
  if (statSync(stamp).mtimeMs >= sources) process.exit(0);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build: ${cmd} ${args.join(' ')} failed`);
    process.exit(r.status ?? 1);
  }
}

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
run(process.execPath, [tsc, '-p', 'tsconfig.json']);
if (existsSync(join(root, 'src', 'web', 'main.ts'))) {
  run(process.execPath, [tsc, '-p', 'tsconfig.web.json']);
  run(process.execPath, [join(root, 'scripts', 'build-web.js')]);
}
const { writeFileSync } = await import('node:fs');
writeFileSync(stamp, new Date().toISOString() + '\n');
