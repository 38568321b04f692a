#!/usr/bin/env node
// The `podterm` command. The compiled CLI lives in dist/; build it first when it is missing.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../scripts/build.js', import.meta.url))], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const { main } = await import(entry.href);
await main(process.argv.slice(2), process.env);
