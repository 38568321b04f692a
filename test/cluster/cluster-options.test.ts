/** `--peers`, `--peer-dns`, `--cluster-secret-file`, `--advertise-url` (src/cli/cluster-options.ts) and the peer list. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseOptions, UsageError } from '../../src/cli/args.js';
import { clusterOptions } from '../../src/cli/cluster-options.js';
import { SERVE_OPTIONS } from '../../src/cli/serve-options.js';
import { Peers } from '../../src/cluster/peers.js';
import { exitWithin, runCli } from '../cli/spawn-cli.js';

async function secretFile(t: TestContext, content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-cluster-opt-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const f = join(dir, 'secret');
  await writeFile(f, content);
  return f;
}

const opts = (argv: string[], env: NodeJS.ProcessEnv = {}) => clusterOptions(parseOptions(SERVE_OPTIONS, argv, env).values, env);

test('peers need the cluster secret, the secret needs peers; a short secret is refused', async (t) => {
  const good = await secretFile(t, 'a-shared-secret-of-32-bytes-long\n');
  const short = await secretFile(t, 'too-short\n');
  assert.throws(() => opts(['--peers', 'a:1,b:2']), new UsageError('--peers needs --cluster-secret-file (the shared secret of the internal hop between replicas)'));
  assert.throws(() => opts(['--peer-dns', 'podterm-peers']), /--peer-dns needs --cluster-secret-file/);
  assert.throws(() => opts(['--cluster-secret-file', good]), new UsageError('--cluster-secret-file needs --peers or --peer-dns'));
  assert.throws(() => opts(['--peers', 'a:1', '--cluster-secret-file', short]), /holds fewer than 16 bytes/);
  assert.throws(() => opts(['--peers', 'a:0', '--cluster-secret-file', good]), /a peer needs a port other than 0/);
  assert.throws(() => opts(['--peers', 'nope', '--cluster-secret-file', good]), /--peers wants HOST:PORT/);
  assert.throws(() => opts(['--peer-dns', 'bad name', '--cluster-secret-file', good]), /--peer-dns wants a DNS name/);
  const o = opts(['--peers', 'a:1, b:2,[::1]:3', '--cluster-secret-file', good]);
  assert.equal(o.clusterSecret?.toString(), 'a-shared-secret-of-32-bytes-long', 'the trailing newline is not part of the secret');
  assert.deepEqual(await o.peers?.list(), ['http://a:1', 'http://b:2', 'http://[::1]:3']);
  assert.equal(o.advertiseUrl, undefined, 'the listen address, once listening');
  // PODTERM_PEERS is the env form of --peers.
  assert.deepEqual(await opts(['--cluster-secret-file', good], { PODTERM_PEERS: 'c:4' }).peers?.list(), ['http://c:4']);
});

test('the advertise URL: --advertise-url, else POD_NAME.PODTERM_SERVICE with the listen port', async (t) => {
  const good = await secretFile(t, 'a-shared-secret-of-32-bytes-long');
  const env = { POD_NAME: 'podterm-1', PODTERM_SERVICE: 'podterm-peers' };
  assert.equal(opts(['--listen', '0.0.0.0:8080', '--peers', 'a:1', '--cluster-secret-file', good], env).advertiseUrl, 'http://podterm-1.podterm-peers:8080');
  assert.equal(opts(['--listen', '0.0.0.0:8080', '--advertise-url', 'http://x:9', '--peers', 'a:1', '--cluster-secret-file', good], env).advertiseUrl, 'http://x:9');
  assert.equal(opts(['--listen', '0.0.0.0:8080', '--peers', 'a:1', '--cluster-secret-file', good], { POD_NAME: 'p' }).advertiseUrl, undefined);
});

test('--peer-dns: the A/AAAA records of the name, with the listen port or its own', async () => {
  const peers = new Peers([{ host: 'fixed', port: 7 }], { name: 'localhost', port: 8080 });
  const urls = await peers.list();
  assert.equal(urls[0], 'http://fixed:7');
  assert.ok(urls.includes('http://127.0.0.1:8080'), urls.join(' '));
  const none = new Peers([], { name: 'no-such-peer.invalid', port: 1 });
  assert.deepEqual(await none.list(), [], 'no records is no peers, not an error');
});

test('podterm serve --peers without the secret: exit 2, one line', async (t) => {
  const run = await runCli(t, ['serve', '--sandbox', '--peers', '127.0.0.1:1']);
  const { code } = await exitWithin(run, 30_000);
  assert.equal(code, 2);
  assert.match(run.stderr(), /^podterm: --peers needs --cluster-secret-file \(the shared secret of the internal hop between replicas\)\n/);
  assert.deepEqual(await run.scratchDirs(), []);
});
