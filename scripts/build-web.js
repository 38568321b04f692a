#!/usr/bin/env node
// Bundles the terminal page: src/web/main.ts -> <outdir>/web/app.js (minified ESM, with a source
// map; the lazily imported WebGL renderer goes into a chunk-HASH.js next to it), and copies index.html, styles.css, favicon.svg and xterm's stylesheet next to it.
// Everything the page loads is self-hosted (no CDN), so the gateway's CSP can stay 'self'.
// Usage: node scripts/build-web.js [--outdir DIR]   (default DIR: dist)
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function outdirFromArgs(argv) {
  const i = argv.indexOf('--outdir');
  if (i === -1) return join(root, 'dist');
  const dir = argv[i + 1];
  if (!dir) {
    console.error('build-web: --outdir needs a directory');
    process.exit(2);
  }
  return resolve(root, dir);
}

const webOut = join(outdirFromArgs(process.argv.slice(2)), 'web');
mkdirSync(webOut, { recursive: true });
// Chunk names carry a content hash: drop the previous build's, or every rebuild would add one.
for (const name of readdirSync(webOut)) if (name.startsWith('chunk-')) rmSync(join(webOut, name));

await build({
  entryPoints: { app: join(root, 'src', 'web', 'main.ts') },
  outdir: webOut,
  // The WebGL renderer is imported lazily (terminal-view.ts): it goes into its own chunk, so app.js
  // stays as small as before and the chunk loads only where the page asks for it.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  // msgpackr's package.json has a "browser" export condition that avoids Node's Buffer.
  conditions: ['browser'],
  legalComments: 'linked',
  logLevel: 'warning',
});

const copies = [
  [join(root, 'src', 'web', 'index.html'), 'index.html'],
  [join(root, 'src', 'web', 'styles.css'), 'styles.css'],
  [join(root, 'src', 'web', 'favicon.svg'), 'favicon.svg'],
  [join(root, 'node_modules', '@xterm', 'xterm', 'css', 'xterm.css'), 'xterm.css'],
  // The recordings player, loaded by the page only when a recording is opened.
  [join(root, 'node_modules', 'asciinema-player', 'dist', 'bundle', 'asciinema-player.min.js'), 'asciinema-player.min.js'],
  [join(root, 'node_modules', 'asciinema-player', 'dist', 'bundle', 'asciinema-player.css'), 'asciinema-player.css'],
];
for (const [from, name] of copies) copyFileSync(from, join(webOut, name));
