/** `--person`, `--oidc-*`, `--session-secret-file`, `--identity`: parsed and checked before anything starts. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseOptions, UsageError } from '../../src/cli/args.js';
import { SERVE_OPTIONS } from '../../src/cli/serve-options.js';
import { signInOptions } from '../../src/cli/sign-in-options.js';

const parse = (argv: string[]) => parseOptions(SERVE_OPTIONS, argv, {}).values;

test('--person TOKEN=USERNAME[:GROUP,GROUP]; the value is never echoed', () => {
  assert.deepEqual(parse(['--person', 'tok-1=carol:dev,system:masters,dev']).person, [{ token: 'tok-1', username: 'carol', groups: ['dev', 'system:masters'] }]);
  assert.deepEqual(parse(['--person', 'tok-2=dave']).person, [{ token: 'tok-2', username: 'dave', groups: [] }]);
  for (const bad of ['secret-tok', 'secret-tok=', '=carol', 'secret-tok=ca rol']) {
    assert.throws(() => parse(['--person', bad]), (e: unknown) => e instanceof UsageError && !e.message.includes('secret-tok') && /TOKEN=USERNAME/.test(e.message), bad);
  }
  assert.equal(parse([]).identity, 'impersonate');
  assert.equal(parse(['--identity', 'passthrough']).identity, 'passthrough');
  assert.throws(() => parse(['--identity', 'both']), UsageError);
});

test('sign-in options: off without an issuer, complete with one, secrets from a file or the environment', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-signin-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const secretFile = join(dir, 'client-secret');
  await writeFile(secretFile, 'from-a-file-0123456789\n');
  assert.equal(signInOptions(parse([]), {}), undefined);
  assert.throws(() => signInOptions(parse(['--oidc-client-id', 'x']), {}), /--oidc-client-id needs --oidc-issuer/);
  assert.throws(() => signInOptions(parse(['--oidc-issuer', 'https://idp.example']), {}), /needs --oidc-client-id/);
  assert.throws(() => signInOptions(parse(['--oidc-issuer', 'https://idp.example', '--oidc-client-id', 'podterm']), {}), /client secret/);
  const fromEnv = signInOptions(parse(['--oidc-issuer', 'https://idp.example', '--oidc-client-id', 'podterm']), { PODTERM_OIDC_CLIENT_SECRET: 'from-the-env-0123456789' });
  assert.equal(fromEnv?.clientSecret, 'from-the-env-0123456789');
  assert.equal(fromEnv?.usernameClaim, 'email');
  assert.equal(fromEnv?.groupsClaim, 'groups');
  assert.equal(fromEnv?.redirectUrl, undefined, 'the gateway fills in its own origin');
  const fromFile = signInOptions(parse(['--oidc-issuer', 'https://idp.example', '--oidc-client-id', 'podterm', '--oidc-client-secret-file', secretFile,
    '--session-secret-file', secretFile, '--oidc-username-prefix', 'oidc:']), { PODTERM_OIDC_CLIENT_SECRET: 'ignored-0123456789' });
  assert.equal(fromFile?.clientSecret, 'from-a-file-0123456789', 'the trailing newline is dropped');
  assert.equal(fromFile?.sessionSecret, 'from-a-file-0123456789');
  assert.equal(fromFile?.usernamePrefix, 'oidc:');
  assert.throws(() => parse(['--oidc-issuer', 'ftp://idp.example']), UsageError);
});
