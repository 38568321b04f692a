/**
 * `podterm serve --tls-cert FILE --tls-key FILE`: bad files refuse to start with one line naming the
 * file and the problem (never a fallback to plain HTTP, nothing started); a good pair serves https
 * and SIGHUP reloads it while an open terminal goes on.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkTlsFiles, TlsFilesError, type TlsFileProblem } from '../../src/server/tls-files.js';
import { makeTestPki, servedFingerprint } from '../helpers/test-pki.js';
import { TermClient } from '../helpers/term-client.js';
import { exitWithin, runCli } from './spawn-cli.js';

test('checkTlsFiles names the file and the problem: missing, unreadable, not a certificate, not a key, mismatched', async (t) => {
  const pki = await makeTestPki(t);
  const a = await pki.issue('a');
  const b = await pki.issue('b');
  const garbage = join(pki.dir, 'garbage.pem');
  await writeFile(garbage, 'not pem at all\n');
  const cases: Array<[TlsFileProblem, { certFile: string; keyFile: string }, RegExp]> = [
    ['missing', { certFile: join(pki.dir, 'nope.crt'), keyFile: a.keyFile }, /the TLS certificate .*nope\.crt not found/],
    ['unreadable', { certFile: a.certFile, keyFile: pki.dir }, /the TLS key .* cannot be read \(EISDIR\)/],
    ['not-a-certificate', { certFile: a.keyFile, keyFile: a.keyFile }, /a\.key is not a PEM certificate/],
    ['not-a-key', { certFile: a.certFile, keyFile: garbage }, /garbage\.pem is not an unencrypted PEM private key/],
    ['mismatch', { certFile: a.certFile, keyFile: b.keyFile }, /b\.key does not belong to the certificate .*a\.crt/],
  ];
  for (const [problem, files, message] of cases) {
    assert.throws(() => checkTlsFiles(files), (err: unknown) => err instanceof TlsFilesError && err.problem === problem && message.test(err.message), problem);
  }
  assert.equal(checkTlsFiles(a).fingerprint256, a.fingerprint256);
});

test('bad TLS options: exit 2 with one line, no ready line, nothing started', async (t) => {
  const pki = await makeTestPki(t);
  const a = await pki.issue('a');
  const b = await pki.issue('b');
  const bad: Array<{ args: string[]; lines: RegExp[] }> = [
    { args: ['--tls-cert', a.certFile], lines: [/^podterm: --tls-cert needs --tls-key$/, /^Run 'podterm serve --help'/] },
    { args: ['--tls-key', a.keyFile], lines: [/^podterm: --tls-key needs --tls-cert$/, /^Run 'podterm serve --help'/] },
    { args: ['--tls-cert', join(pki.dir, 'nope.crt'), '--tls-key', a.keyFile], lines: [/^podterm: --tls-cert: .*nope\.crt not found$/, /^Run 'podterm serve --help'/] },
    { args: ['--tls-cert', a.certFile, '--tls-key', b.keyFile], lines: [/^podterm: TLS: the TLS key .*b\.key does not belong to the certificate .*a\.crt$/] },
    { args: ['--tls-cert', a.keyFile, '--tls-key', a.keyFile], lines: [/^podterm: TLS: the TLS certificate .*a\.key is not a PEM certificate$/] },
  ];
  const runs = await Promise.all(bad.map((c) => runCli(t, ['serve', '--sandbox', '--workers', '0', '--listen', '127.0.0.1:0', ...c.args])));
  for (const [i, run] of runs.entries()) {
    const c = bad[i] as (typeof bad)[number];
    const { code } = await exitWithin(run, 20_000);
    assert.equal(code, 2, run.stderr());
    const lines = run.stderr().trimEnd().split('\n');
    assert.equal(lines.length, c.lines.length, run.stderr());
    c.lines.forEach((re, j) => assert.match(lines[j] as string, re));
    assert.equal(run.stdout(), '', 'no ready line: nothing serves');
    assert.deepEqual(await run.scratchDirs(), [], 'the sandbox never started');
  }
});

test('podterm serve over TLS: https ready line; SIGHUP serves the renewed certificate and an open terminal goes on', async (t) => {
  const pki = await makeTestPki(t);
  const served = await pki.issue('server');
  const run = await runCli(t, ['serve', '--sandbox', '--workers', '0', '--listen', '127.0.0.1:0', '--tls-cert', served.certFile, '--tls-key', served.keyFile]);
  const [, url, port, token] = await run.waitFor(/podterm: open (https:\/\/127\.0\.0\.1:(\d+))\/\?token=(\S+)\n/);
  assert.equal(await servedFingerprint(Number(port), pki.caPem), served.fingerprint256);

  const c = await TermClient.connect(url as string, { namespace: 'default', pod: 'shell', container: 'main', command: ['sh'] }, { token: decodeURIComponent(token as string), ca: pki.caPem });
  t.after(() => c.terminate());
  await c.started;
  c.stdin('echo before-$((2*3))\n');
  await c.waitFor(/before-6/);

  const renewed = await pki.issue('renewed');
  await pki.install(renewed, served);
  run.child.kill('SIGHUP');
  await run.waitFor(/TLS certificate reloaded/);
  assert.equal(await servedFingerprint(Number(port), pki.caPem), renewed.fingerprint256);
  c.stdin('echo after-$((3*5))\n');
  await c.waitFor(/after-15/);
  c.stdin('exit\n');
  assert.equal((await c.exited).exitCode, 0);

  run.child.kill('SIGTERM');
  assert.equal((await exitWithin(run, 30_000)).code, 0, run.stderr());
  assert.deepEqual(await run.scratchDirs(), []);
});
