/**
 * Input flow control end to end (docs/protocol.md, Additions: op 7 and `inputWindow`): a 4 MiB
 * paste into a pod that reads it all arrives whole and in order, paced by credit, never turned into
 * BadFrame; and a quick reconnect never finds its per-owner slot still taken by the session that
 * just closed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ADMIN_TOKEN, assertNoResidue, startStack } from '../helpers/gateway-stack.js';
import { TermClient, UpgradeRefused } from '../helpers/term-client.js';

const PASTE = 4 * 1024 * 1024;

for (const workers of [1, 0]) {
  test(`a 4 MiB paste into a pod that reads it all arrives whole (--workers ${workers})`, async (t) => {
    const stack = await startStack(t, { workers });
    // Raw mode so the pty passes every byte as is; the pod prints the size and hash of what it read.
    const script = `stty raw -echo; head -c ${PASTE} | { tee /dev/fd/3 | wc -c; } 3>&1 >/dev/null | sha256sum | cut -c1-64; sleep 0.2`;
    const c = await TermClient.connect(stack.url, { namespace: 'default', pod: 'shell', container: 'main', command: ['sh', '-c', script] }, { token: ADMIN_TOKEN });
    t.after(() => c.terminate());
    const started = await c.started;
    assert.ok(started.inputWindow && started.inputWindow < PASTE, `the server offers an input window (${started.inputWindow})`);
    await new Promise((r) => setTimeout(r, 300)); // let stty run before the paste
    const data = Buffer.alloc(PASTE);
    for (let i = 0; i < PASTE; i++) data[i] = 97 + (i % 26);
    c.stdin(data);
    const exit = await Promise.race([c.exited, c.failed.then((f) => assert.fail(`session failed: ${f.code} ${f.message}`))]);
    assert.equal(exit.exitCode, 0);
    const hash = createHash('sha256').update(data).digest('hex');
    assert.ok(c.text.includes(hash), `the pod read exactly the paste (output ${JSON.stringify(c.text.slice(-200))})`);
    assert.ok(c.credits > 0, 'credit came back while the paste was in flight');
    assert.equal(c.input.queuedBytes, 0);
    await assertNoResidue(stack);
  });
}

test('300 quick reconnects with a per-owner limit of 1 are never refused', async (t) => {
  const stack = await startStack(t, { workers: 1, maxSessionsPerToken: 1 });
  let refused = 0;
  for (let i = 0; i < 300; i++) {
    let c: TermClient;
    try {
      c = await TermClient.connect(stack.url, { namespace: 'load', pod: 'echo', container: 'main' }, { token: ADMIN_TOKEN });
    } catch (err) {
      if (err instanceof UpgradeRefused) {
        refused++;
        continue;
      }
      throw err;
    }
    const first = await Promise.race([c.started.then(() => 'started' as const), c.failed.then((f) => f.code)]);
    if (first !== 'started') refused++;
    c.ws.close(1000);
    await c.closed;
  }
  assert.equal(refused, 0, `${refused} of 300 reconnects refused`);
  await assertNoResidue(stack);
});
