/**
 * Issue 8 item 10: a container without /bin/sh (the sandbox's load/flood: its runtime answers like
 * containerd, `exec: "/bin/sh": executable file not found in $PATH`) ends with NoShell 4413 and a
 * message naming the container, not "the API server cannot be reached". A missing command the
 * user typed ends as a shell would report it: exit 127.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN_TOKEN, assertNoResidue, startStack } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';

test('no shell in the container: NoShell 4413 naming it; a missing user command: exit 127', async (t) => {
  const stack = await startStack(t, { workers: 1 });
  const c = await TermClient.connect(stack.url, { namespace: 'load', pod: 'flood', container: 'main' }, { token: ADMIN_TOKEN });
  t.after(() => c.terminate());
  const [err, closed] = await Promise.all([c.failed, c.closed]);
  assert.deepEqual(err, { code: 'NoShell', message: 'Container "main" has no shell (/bin/sh not found). Start a debug container to inspect it.' });
  assert.equal(closed.code, 4413);
  const u = await TermClient.connect(stack.url, { namespace: 'load', pod: 'flood', container: 'main', command: ['nosuch'] }, { token: ADMIN_TOKEN });
  t.after(() => u.terminate());
  assert.deepEqual(await u.exited, { exitCode: 127, message: '"nosuch": command not found in container "main"' });
  assert.equal((await u.closed).code, 1000);
  await assertNoResidue(stack);
});
