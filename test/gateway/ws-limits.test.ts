/**
 * Issue 8 item 9 (WebSocket part): a message over the limit (default 64 KiB, docs/protocol.md)
 * closes with 1009 whether it comes as one frame or as fragments, also well past twice the limit;
 * only past limit + MESSAGE_HEADROOM_BYTES does uWS drop the connection (1006) without buffering.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MAX_CLIENT_MESSAGE } from '../../src/protocol/index.js';
import { MESSAGE_HEADROOM_BYTES } from '../../src/server/ws-exec.js';
import { ADMIN_TOKEN, assertNoResidue, startStack } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';

const KIB = 1024;

test('oversized messages close with 1009: one 130 KiB frame, fragmented 144 KiB, one frame at the headroom', async (t) => {
  const stack = await startStack(t, { workers: 0 });
  assert.equal(DEFAULT_MAX_CLIENT_MESSAGE, 64 * KIB);
  const open = async (): Promise<TermClient> => {
    const c = await TermClient.connect(stack.url, { namespace: 'default', pod: 'shell', container: 'main', command: ['sh', '-c', 'sleep 30'] }, { token: ADMIN_TOKEN });
    t.after(() => c.terminate());
    await c.started;
    return c;
  };

  const single = await open();
  single.ws.send(Buffer.alloc(130 * KIB));
  assert.equal((await single.closed).code, 1009);
  assert.equal((await single.failed).code, 'MessageTooBig');

  // Three fragments of one message (RFC 6455 §5.4): uWS assembles them, then the limit applies.
  const fragmented = await open();
  fragmented.ws.send(Buffer.alloc(48 * KIB), { fin: false });
  fragmented.ws.send(Buffer.alloc(48 * KIB), { fin: false });
  fragmented.ws.send(Buffer.alloc(48 * KIB), { fin: true });
  assert.equal((await fragmented.closed).code, 1009);

  const atHeadroom = await open();
  atHeadroom.ws.send(Buffer.alloc(DEFAULT_MAX_CLIENT_MESSAGE + MESSAGE_HEADROOM_BYTES));
  assert.equal((await atHeadroom.closed).code, 1009);

  // Beyond the headroom uWS refuses the frame from its header and drops the connection: 1006.
  const huge = await open();
  huge.ws.send(Buffer.alloc(DEFAULT_MAX_CLIENT_MESSAGE + MESSAGE_HEADROOM_BYTES + 1));
  assert.equal((await huge.closed).code, 1006);

  // A message at the limit is still taken.
  const ok = await open();
  ok.stdin(Buffer.alloc(DEFAULT_MAX_CLIENT_MESSAGE - 16, 0x61));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(ok.ws.readyState, ok.ws.OPEN);
  ok.ws.close(1000);
  await ok.closed;
  await assertNoResidue(stack);
});
