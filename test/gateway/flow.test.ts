/**
 * Flow control end to end: a client that stops reading while `flood` streams keeps the gateway's
 * memory bounded and then receives every byte, in order; every message stays < 16 KiB.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_SEND_BYTES } from '../../src/protocol/index.js';
import type { Gateway } from '../../src/server/gateway.js';
import { ADMIN_TOKEN, assertNoResidue, startStack } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';

const LINE = 'podterm sandbox flood: ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789\r\n';
const TOTAL = 32 * 1024 * 1024;
/** What the gateway may hold for one stalled session: watermarks, socket buffers, frames in flight. */
const MEMORY_BOUND = 12 * 1024 * 1024;

function expected(n: number): Buffer {
  return Buffer.from(LINE.repeat(Math.ceil(n / LINE.length))).subarray(0, n);
}

async function bytesOut(gw: Gateway): Promise<number> {
  const m = /^podterm_bytes_total\{direction="out"\} (\d+)$/m.exec(await gw.metricsText());
  return Number(m?.[1]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const workers of [1, 0]) {
  describe(`flow control (--workers ${workers})`, () => {
    test('a stalled reader pauses the pod; resuming delivers every byte in order, frames < 16 KiB', async (t) => {
      const stack = await startStack(t, { workers });
      // Warm up first (module init, TLS, JIT), so the baseline is a gateway that has served a session.
      const warm = await TermClient.connect(stack.url, { namespace: 'load', pod: 'flood', container: 'main', command: ['flood', '100000'] }, { token: ADMIN_TOKEN });
      t.after(() => warm.terminate());
      await warm.exited;
      await assertNoResidue(stack);
      const heapBefore = (await stack.gateway.heapAfterGc()).reduce((a, b) => a + b, 0);
      const c = await TermClient.connect(stack.url, { namespace: 'load', pod: 'flood', container: 'main', command: ['flood', String(TOTAL)] }, { token: ADMIN_TOKEN });
      t.after(() => c.terminate());
      await c.started;
      await c.waitFor((x) => x.outBytes > 1024 * 1024);
      c.stopReading();
      await sleep(1500);
      const stalledAt = await bytesOut(stack.gateway);
      await sleep(700);
      const stillAt = await bytesOut(stack.gateway);
      assert.equal(stillAt, stalledAt, 'output stops while the client does not read');
      assert.ok(stalledAt < TOTAL / 2, `the gateway did not buffer the flood (${stalledAt} bytes sent)`);
      const heaps = await stack.gateway.heapAfterGc();
      const heapStalled = heaps.reduce((a, b) => a + b, 0);
      assert.ok(heapStalled - heapBefore < MEMORY_BOUND, `gateway heap grew ${heapStalled - heapBefore} bytes while stalled (${heaps.join(', ')})`);
      t.diagnostic(`stalled: ${stalledAt} bytes sent of ${TOTAL}; heap delta ${heapStalled - heapBefore} bytes`);
      c.startReading();
      const exit = await c.exited;
      assert.equal(exit.exitCode, 0);
      assert.equal(c.outBytes, TOTAL);
      assert.ok(c.output.equals(expected(TOTAL)), 'every byte, in order');
      assert.ok(c.maxMessageBytes < MAX_SEND_BYTES, `largest message ${c.maxMessageBytes}`);
      const metrics = await stack.gateway.metricsText();
      assert.match(metrics, /^podterm_backpressure_pauses_total [1-9]/m);
      await assertNoResidue(stack);
    });

    test('pause and resume frames stop and restart output', async (t) => {
      const stack = await startStack(t, { workers });
      const c = await TermClient.connect(stack.url, { namespace: 'load', pod: 'flood', container: 'main', command: ['flood'] }, { token: ADMIN_TOKEN });
      t.after(() => c.terminate());
      await c.started;
      await c.waitFor((x) => x.outBytes > 256 * 1024);
      c.pause();
      await sleep(400);
      const at = c.outBytes;
      await sleep(400);
      assert.equal(c.outBytes, at, 'no output while paused');
      c.resume();
      await c.waitFor((x) => x.outBytes > at + 256 * 1024);
      assert.ok(c.output.equals(expected(c.outBytes)), 'in order across the pause');
      c.ws.close(1000);
      await c.closed;
      await assertNoResidue(stack);
    });
  });
}
