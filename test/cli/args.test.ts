import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flag, list, parseArgs, parseListen, parseOptions, renderHelp, UsageError, value } from '../../src/cli/args.js';
import { int, listen, origin, token, user } from '../../src/cli/values.js';
import { SERVE_OPTIONS, defaultWorkers } from '../../src/cli/serve-options.js';
import { cgroupCpuLimit, usableCores } from '../../src/cli/cpu-cores.js';

const TABLE = {
  listen: value('HOST:PORT', listen, 'where', { default: '127.0.0.1:8080' }),
  workers: value('N', int(0, 64), 'threads', { defaultText: 'CPU count' }),
  token: value('T', token, 'secret', { env: 'T_TOKEN' }),
  user: list('TOKEN=CONTEXT', user, 'more'),
  sandbox: flag('sandbox'),
};

test('parseOptions: typed values, defaults parsed like given values, option > env > default', () => {
  const p = parseOptions(TABLE, ['--workers', '3', '--user=a=admin', '--user', 'b=restricted:x,y', '--sandbox'], { T_TOKEN: 'from-env' });
  assert.deepEqual(p.values.listen, { host: '127.0.0.1', port: 8080 });
  assert.equal(p.values.workers, 3);
  assert.equal(p.values.token, 'from-env');
  assert.deepEqual(p.values.user, [{ token: 'a', context: 'admin', namespaces: [] }, { token: 'b', context: 'restricted', namespaces: ['x', 'y'] }]);
  assert.equal(p.values.sandbox, true);
  assert.deepEqual(p.from, { listen: 'default', workers: '--workers', token: 'T_TOKEN', user: '--user', sandbox: '--sandbox' });
  const q = parseOptions(TABLE, ['--token', 'given', '-h'], { T_TOKEN: 'from-env' });
  assert.equal(q.values.token, 'given');
  assert.equal(q.values.workers, undefined);
  assert.equal(q.help, true);
  // An empty env var counts as unset (PODTERM_TOKEN= in a manifest must not mean "empty token").
  assert.equal(parseOptions(TABLE, [], { T_TOKEN: '' }).values.token, undefined);
});

test('parseOptions: every failure is one UsageError line naming the option or env var', () => {
  const cases: [string[], NodeJS.ProcessEnv, string][] = [
    [['--nope'], {}, 'unknown option --nope'],
    [['-x'], {}, 'unknown option -x'],
    [['--listen'], {}, '--listen needs a value'],
    [['--listen', '--sandbox'], {}, '--listen needs a value (for one that starts with a dash, write --listen=-...)'],
    [['--sandbox=1'], {}, '--sandbox takes no value'],
    [['stray'], {}, 'unexpected argument "stray"'],
    [['--workers', '65'], {}, '--workers wants an integer from 0 to 64, got "65"'],
    [['--workers', '1.5'], {}, '--workers wants an integer from 0 to 64, got "1.5"'],
    [['--workers='], {}, '--workers wants an integer from 0 to 64, got ""'],
    [[], { T_TOKEN: 'has space' }, 'T_TOKEN wants printable ASCII without spaces (the value is not shown)'],
    [['--user', 'tok'], {}, '--user wants TOKEN=CONTEXT[:NS,NS] (the value is not shown)'],
  ];
  for (const [argv, env, message] of cases) {
    assert.throws(() => parseOptions(TABLE, argv, env), (e: unknown) => e instanceof UsageError && e.message === message, `${argv.join(' ')} -> ${message}`);
  }
});

test('value parsers: listen, origin', () => {
  assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen('localhost:0'), { host: 'localhost', port: 0 });
  assert.deepEqual(parseListen('[::1]:9000'), { host: '::1', port: 9000 });
  for (const bad of ['8080', ':80', 'host:99999', 'a:b', '::1:80']) assert.throws(() => parseListen(bad), UsageError, bad);
  assert.equal(origin('https://podterm.example:8443', '--allow-origin'), 'https://podterm.example:8443');
  for (const bad of ['https://a.example/', 'ftp://a.example', 'a.example', 'https://a.example/x']) assert.throws(() => origin(bad, '--allow-origin'), UsageError, bad);
});

test('help is generated from the table: every serve option, its default and env var', () => {
  const help = renderHelp('usage: podterm serve [options]', SERVE_OPTIONS);
  for (const name of Object.keys(SERVE_OPTIONS)) assert.match(help, new RegExp(`^  --${name}\\b`, 'm'), name);
  assert.match(help, /\[default: \$PODTERM_TOKEN, else random\]/);
  // The default follows the help text however many lines the column width wraps it to.
  assert.match(help, /--kube-timeout-ms MS [^-]*\[default: 10000\]/);
  assert.ok(help.split('\n').every((l) => l.length <= 100), 'wrapped to 100 columns');
  assert.ok(!help.includes('`'), 'no markdown in the terminal');
});

test('parseArgs (the bench form) reads values, flags, repeats and positionals; rejects unknowns', () => {
  const p = parseArgs(['--listen', '0.0.0.0:80', '--user=a=admin', '--user', 'b=restricted', '--sandbox', 'x'], ['listen', 'user'], ['sandbox']);
  assert.equal(p.options.get('listen'), '0.0.0.0:80');
  assert.deepEqual(p.all.get('user'), ['a=admin', 'b=restricted']);
  assert.equal(p.options.get('sandbox'), 'true');
  assert.deepEqual(p.positionals, ['x']);
  assert.throws(() => parseArgs(['--nope'], [], []), UsageError);
  assert.throws(() => parseArgs(['--listen'], ['listen'], []), UsageError);
  assert.throws(() => parseArgs(['--sandbox=1'], [], ['sandbox']), UsageError);
});

test('--workers defaults to one worker per core besides the main thread', () => {
  assert.equal(defaultWorkers(1), 0);
  assert.equal(defaultWorkers(2), 1);
  assert.equal(defaultWorkers(8), 7);
});

test('usable cores: a cgroup CPU limit caps the CPU count (v2 and v1), none leaves it', () => {
  const files = (m: Record<string, string>) => (p: string): string | undefined => m[p];
  assert.equal(cgroupCpuLimit(files({})), undefined);
  assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' })), undefined);
  assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' })), 1.5);
  assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' })), undefined);
  assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '200000\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' })), 2);
  assert.equal(usableCores(files({ '/sys/fs/cgroup/cpu.max': '200000 100000' }), 32), 2);
  assert.equal(usableCores(files({ '/sys/fs/cgroup/cpu.max': '50000 100000' }), 32), 1, '500m: one core, so no worker');
  assert.equal(usableCores(files({ '/sys/fs/cgroup/cpu.max': '1600000 100000' }), 4), 4, 'a limit above the CPUs does not add any');
  assert.equal(usableCores(files({}), 8), 8);
  assert.equal(defaultWorkers(usableCores(files({ '/sys/fs/cgroup/cpu.max': '50000 100000' }), 32)), 0);
});
