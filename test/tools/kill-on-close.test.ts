/**
 * Kill on close: a session's shell starts `sleep &`, `nohup sleep &` and `setsid sleep`, then the
 * client closes. With --kill-on-close (the default) none of them is alive 5 s later and the
 * sandbox counts no survivors; with it off, the nohup and setsid ones survive (what kubectl exec
 * leaves on a real runtime; bash itself hangs up its plain background job).
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { ADMIN_TOKEN } from '../helpers/gateway-stack.js';
import { TermClient } from '../helpers/term-client.js';
import { assertNoToolResidue, toolStack } from './tool-stack.js';

/** Live `sleep N` processes for the given N values. */
function sleeping(ns: readonly number[]): number[] {
  const want = new Set(ns.map(String));
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0');
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (/\) Z /.test(stat)) continue; // a zombie is not alive
      if (/(^|\/)sleep$/.test(argv[0] ?? '') && want.has(argv[1] ?? '')) out.push(Number(argv[1]));
    } catch {
      // gone
    }
  }
  return out.sort();
}

async function leaveThree(url: string, base: number): Promise<number[]> {
  const ns = [base, base + 1, base + 2];
  const c = await TermClient.connect(url, { namespace: 'default', pod: 'shell', container: 'main' }, { token: ADMIN_TOKEN });
  await c.started;
  c.stdin(`sleep ${ns[0]} &\n`);
  c.stdin(`nohup sleep ${ns[1]} >/dev/null 2>&1 &\n`);
  c.stdin(`setsid sleep ${ns[2]} &\n`);
  c.stdin('echo started-$((1+1))\n');
  await c.waitFor(/started-2/);
  const deadline = Date.now() + 5000;
  while (sleeping(ns).length < 3) {
    assert.ok(Date.now() < deadline, `three sleeps started: ${sleeping(ns)}`);
    await delay(25);
  }
  c.ws.close(1000);
  await c.closed;
  return ns;
}

test('kill on close (default): nothing the session started is alive 5 s after the close', async (t) => {
  const stack = await toolStack(t);
  const ns = await leaveThree(stack.url, 70_000 + randomInt(10_000) * 3);
  const closedAt = Date.now();
  // The sandbox rescans its survivors every 250 ms, and the kill exec's own shell is one of its
  // processes until it exits: both settle within the same 5 s budget.
  while ((sleeping(ns).length > 0 || stack.sandbox.toolStats().survivorsActive > 0) && Date.now() - closedAt < 5000) await delay(50);
  assert.deepEqual(sleeping(ns), [], 'no sleep left 5 s after the close');
  assert.equal(stack.sandbox.toolStats().survivorsActive, 0, 'no process of the session left 5 s after the close');
  await assertNoToolResidue(stack);
});

test('--kill-on-close off: nohup and setsid children survive the close, as with kubectl', async (t) => {
  const stack = await toolStack(t, { killOnClose: false });
  const ns = await leaveThree(stack.url, 80_000 + randomInt(10_000) * 3);
  await delay(1500);
  const alive = sleeping(ns);
  assert.ok(alive.includes(ns[1] as number) && alive.includes(ns[2] as number), `nohup and setsid survive: ${alive}`);
  // The sandbox counts them; it kills them when it stops (t.after in toolStack).
  assert.ok(stack.sandbox.toolStats().survivorsActive >= 2);
});
