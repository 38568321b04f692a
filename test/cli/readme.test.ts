/** README's configuration table is the serve options table, rendered; every sandbox option is documented. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderMarkdown } from '../../src/cli/args.js';
import { SANDBOX_OPTIONS } from '../../src/cli/sandbox-command.js';
import { SERVE_OPTIONS } from '../../src/cli/serve-options.js';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

test('README lists every serve option exactly as the options table says', () => {
  const table = renderMarkdown(SERVE_OPTIONS);
  const start = README.indexOf('| option | default | meaning |');
  assert.ok(start >= 0, 'README has the configuration table');
  const end = README.indexOf('\n\n', start);
  // On a mismatch, paste `expected` into README's "Configuration" section.
  assert.equal(README.slice(start, end), table);
});

test('README names every sandbox option', () => {
  const section = README.slice(README.indexOf('## The sandbox cluster'));
  for (const name of Object.keys(SANDBOX_OPTIONS)) assert.ok(section.includes(`--${name}`), `--${name}`);
});
