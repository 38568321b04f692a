/** The core path, in both actor modes: type, see output, resize, UTF-8 intact, exit code. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServerOp } from '../../src/protocol/index.js';
import { ADMIN_TOKEN, assertNoResidue, startStack } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';

for (const workers of [1, 0]) {
  describe(`session (--workers ${workers})`, () => {
    test('types into default/shell, resizes, prints CJK intact, exits with code 3', async (t) => {
      const stack = await startStack(t, { workers });
      const c = await TermClient.connect(stack.url, { namespace: 'default', pod: 'shell', container: 'main', cols: 80, rows: 24 }, { token: ADMIN_TOKEN });
      t.after(() => c.terminate());
      const started = await c.started;
      assert.equal(started.pod, 'shell');
      assert.equal(started.container, 'main');
      c.stdin('stty size; echo "mark-$((40+2))"\n');
      await c.waitFor(/24 80[\s\S]*mark-42/);
      c.resize(132, 43);
      // Coalesced: several sizes in a burst, the last one wins.
      c.resize(100, 30);
      c.resize(120, 40);
      await new Promise((r) => setTimeout(r, 150));
      c.stdin('stty size\n');
      await c.waitFor(/40 120/);
      // 3 bytes per CJK char; 3000 chars cross several output frames and read() boundaries.
      c.stdin(`printf '%.0s漢字かな' $(seq 1 750); echo; echo cjk-$((1+1))-done\n`);
      await c.waitFor(/cjk-2-done/);
      assert.ok(c.text.includes('漢字かな'.repeat(750)), `CJK text arrives intact: ${JSON.stringify(c.text.slice(-300))}`);
      c.stdin('exit 3\n');
      const exit = await c.exited;
      assert.equal(exit.exitCode, 3);
      const closed = await c.closed;
      assert.equal(closed.code, 1000);
      assert.ok(c.maxMessageBytes < 16384);
      await assertNoResidue(stack);
    });

    test('a command exits 0 with [3, {exitCode: 0}]', async (t) => {
      const stack = await startStack(t, { workers });
      const c = await TermClient.connect(stack.url, { namespace: 'default', pod: 'shell', command: ['sh', '-c', 'sleep 0.3; echo hi-$((1+1))'] }, { token: ADMIN_TOKEN });
      t.after(() => c.terminate());
      const exit = await c.exited;
      assert.equal(exit.exitCode, 0);
      assert.match(c.text, /hi-2/);
      assert.equal((await c.closed).code, 1000);
      assert.equal(c.frames[0]?.[0], ServerOp.Started);
      await assertNoResidue(stack);
    });
  });
}
