import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, parseListen, UsageError } from '../../src/cli/args.js';

test('parseArgs reads values, flags, repeats and positionals', () => {
  const p = parseArgs(['--listen', '0.0.0.0:80', '--user=a=admin', '--user', 'b=restricted', '--sandbox', 'x'],
    ['listen', 'user'], ['sandbox']);
  assert.equal(p.options.get('listen'), '0.0.0.0:80');
  assert.deepEqual(p.all.get('user'), ['a=admin', 'b=restricted']);
  assert.equal(p.options.get('sandbox'), 'true');
  assert.deepEqual(p.positionals, ['x']);
});

test('parseArgs rejects unknown options and missing values', () => {
  assert.throws(() => parseArgs(['--nope'], [], []), UsageError);
  assert.throws(() => parseArgs(['--listen'], ['listen'], []), UsageError);
  assert.throws(() => parseArgs(['--sandbox=1'], [], ['sandbox']), UsageError);
});

test('parseListen handles IPv4, names, IPv6 and rejects junk', () => {
  assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen('localhost:0'), { host: 'localhost', port: 0 });
  assert.deepEqual(parseListen('[::1]:9000'), { host: '::1', port: 9000 });
  for (const bad of ['8080', ':80', 'host:99999', 'a:b']) assert.throws(() => parseListen(bad), UsageError, bad);
});
