/** Exec over a raw `ws` client against a real sandbox: every subprotocol and the K8S-EXEC.md edge cases. */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { after, afterEach, test } from 'node:test';
import { startSandbox } from '../../src/sandbox/index.js';
import { assertDrained, channels, channelText, execPath, httpGet, openExec, refusedUpgrade, wsUpgradeHeaders } from './helpers.js';

// Held to kill-on-close: these tests end execs by closing the socket and expect nothing left.
const sb = await startSandbox({ killGraceMs: 500, killOnClose: true });
after(() => sb.close());
afterEach(() => assertDrained(sb));

const SUCCESS = '{"metadata":{},"status":"Success"}';
const exit7 = (cmd: string): string =>
  `{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c ${cmd}], exit code 7","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"7"}]}}`;

const SCRIPT = 'echo out; echo err >&2; exit 7';
const cases = [
  { offer: ['v5.channel.k8s.io'], protocol: 'v5.channel.k8s.io', base64: false, status: exit7(SCRIPT), binary: true },
  { offer: ['v4.channel.k8s.io'], protocol: 'v4.channel.k8s.io', base64: false, status: exit7(SCRIPT), binary: true },
  { offer: ['v4.base64.channel.k8s.io'], protocol: 'v4.base64.channel.k8s.io', base64: true, status: exit7(SCRIPT), binary: false },
  { offer: ['channel.k8s.io'], protocol: 'channel.k8s.io', base64: false, status: JSON.parse(exit7(SCRIPT)).message, binary: true },
  { offer: ['base64.channel.k8s.io'], protocol: 'base64.channel.k8s.io', base64: true, status: JSON.parse(exit7(SCRIPT)).message, binary: false },
  { offer: null, protocol: '', base64: false, status: JSON.parse(exit7(SCRIPT)).message, binary: true },
];

for (const c of cases) {
  test(`protocol ${c.protocol || '(none: binary v1)'}: open frame, stdout, stderr, status, close 1000`, async (t) => {
    const x = openExec(t, sb, { pod: 'shell', command: ['sh', '-c', SCRIPT], stdout: true, stderr: true }, c.offer);
    await x.opened;
    assert.equal(x.ws.protocol, c.protocol);
    const { code } = await x.closed;
    assert.equal(code, 1000);
    assert.ok(x.messages.every((m) => m.binary === c.binary));
    const frames = channels(x.messages, c.base64);
    assert.deepEqual(frames[0], { channel: 1, payload: Buffer.alloc(0) }, 'one empty frame on stdout at open');
    assert.equal(channelText(x.messages, 1, c.base64), 'out\n');
    assert.equal(channelText(x.messages, 2, c.base64), 'err\n');
    const statuses = frames.filter((f) => f.channel === 3);
    assert.equal(statuses.length, 1, 'status is one frame');
    assert.equal(statuses[0]?.payload.toString(), c.status);
    assert.equal(frames.at(-1)?.channel, 3, 'status is the last frame');
  });
}

test('success: v5/v4 send the exact Success status; v1 and base64 stay silent', async (t) => {
  for (const [offer, expected] of [
    [['v5.channel.k8s.io'], [SUCCESS]],
    [['v4.base64.channel.k8s.io'], [SUCCESS]],
    [['channel.k8s.io'], []],
    [['base64.channel.k8s.io'], []],
  ] as const) {
    const b64 = offer[0].includes('base64');
    const x = openExec(t, sb, { pod: 'shell', command: ['true'], stdout: true }, [...offer]);
    assert.equal((await x.closed).code, 1000);
    const statuses = channels(x.messages, b64).filter((f) => f.channel === 3).map((f) => f.payload.toString());
    assert.deepEqual(statuses, expected, offer[0]);
  }
});

test('protocol choice follows the client order; v2/v3 only is a bare 403', async (t) => {
  const a = openExec(t, sb, { pod: 'shell', command: ['true'], stdout: true }, ['v4.channel.k8s.io', 'v5.channel.k8s.io']);
  await a.opened;
  assert.equal(a.ws.protocol, 'v4.channel.k8s.io');
  const b = openExec(t, sb, { pod: 'shell', command: ['true'], stdout: true }, ['v3.channel.k8s.io', 'base64.channel.k8s.io', 'v5.channel.k8s.io']);
  await b.opened;
  assert.equal(b.ws.protocol, 'base64.channel.k8s.io');
  await Promise.all([a.closed, b.closed]);
  const r = await refusedUpgrade(sb, execPath({ pod: 'shell', command: ['true'], stdout: true }), wsUpgradeHeaders(sb.tokens.admin, 'v2.channel.k8s.io, v3.channel.k8s.io'));
  assert.deepEqual(r, { status: 403, body: '', upgraded: false });
});

test('open frame goes to the lowest requested channel; nothing on channels not requested', async (t) => {
  const onlyErr = openExec(t, sb, { pod: 'shell', command: ['sh', '-c', 'echo out; echo err >&2'], stderr: true });
  await onlyErr.closed;
  assert.deepEqual(channels(onlyErr.messages)[0], { channel: 2, payload: Buffer.alloc(0) });
  assert.equal(channels(onlyErr.messages).filter((f) => f.channel === 1).length, 0);
  assert.equal(channelText(onlyErr.messages, 2), 'err\n');

  const onlyIn = openExec(t, sb, { pod: 'shell', command: ['sh', '-c', 'read x; echo "$x"; echo e >&2'], stdin: true });
  await onlyIn.opened;
  onlyIn.ws.send(Buffer.from([0, ...Buffer.from('hi\n')]));
  await onlyIn.closed;
  assert.deepEqual(
    channels(onlyIn.messages).map((f) => f.channel),
    [3, 3],
    'open frame on 3, then the status; no stdout or stderr',
  );
  assert.deepEqual(channels(onlyIn.messages)[0], { channel: 3, payload: Buffer.alloc(0) });
});

test('tty with stderr: stderr is dropped, all output on stdout', async (t) => {
  const x = openExec(t, sb, { pod: 'shell', command: ['sh', '-c', 'echo err >&2'], stdout: true, stderr: true, tty: true });
  await x.closed;
  assert.equal(channels(x.messages).filter((f) => f.channel === 2).length, 0);
  assert.match(channelText(x.messages, 1), /err\r\n/);
});

test('v5 close of stdin: EOF reaches the process, output and status still arrive', async (t) => {
  const x = openExec(t, sb, { pod: 'shell', command: ['sh', '-c', 'cat; echo done'], stdin: true, stdout: true });
  await x.opened;
  x.ws.send(Buffer.from([0, ...Buffer.from('abc')]));
  x.ws.send(Buffer.from([255, 0]));
  assert.equal((await x.closed).code, 1000);
  assert.equal(channelText(x.messages, 1), 'abcdone\n');
  assert.equal(channelText(x.messages, 3), SUCCESS);
});

test('malformed v5 close signals tear the connection down without a status', async (t) => {
  for (const bad of [[255], [255, 0, 0], [255, 9]]) {
    const x = openExec(t, sb, { pod: 'shell', command: ['sleep', '30'], stdin: true, stdout: true });
    await x.opened;
    x.ws.send(Buffer.from(bad));
    const { code } = await x.closed;
    assert.notEqual(code, 1000, JSON.stringify(bad));
    assert.equal(channels(x.messages).filter((f) => f.channel === 3).length, 0);
    await assertDrained(sb);
  }
});

test('stdin not requested: channel-0 data is dropped; channels >= 5 ignored', async (t) => {
  const x = openExec(t, sb, { pod: 'echo', ns: 'load', command: ['echo'], stdout: true, stdin: false });
  await x.opened;
  await x.closed;
  assert.equal(channelText(x.messages, 1), '');
  const y = openExec(t, sb, { pod: 'echo', ns: 'load', command: ['echo'], stdout: true, stdin: true });
  await y.opened;
  y.ws.send(Buffer.from([7, 1, 2]));
  y.ws.send(Buffer.from([1, 1, 2]));
  y.ws.send(Buffer.alloc(0));
  y.ws.send(Buffer.from([0, ...Buffer.from('ok')]));
  y.ws.send(Buffer.from([255, 0]));
  await y.closed;
  assert.equal(channelText(y.messages, 1), 'ok');
  assert.equal(channelText(y.messages, 3), SUCCESS);
});

test('resize: initial 80x24, kubectl and client-node spellings, split frames, stop after bad JSON', async (t) => {
  const script = 'stty size; read a; stty size; read b; stty size; read c; stty size';
  const x = openExec(t, sb, { pod: 'shell', command: ['sh', '-c', script], stdin: true, stdout: true, tty: true });
  await x.opened;
  const sizes = (): string[] => channelText(x.messages, 1).split('\r\n').filter((l) => /^\d+ \d+$/.test(l));
  const step = async (resize: string[], n: number): Promise<void> => {
    for (const r of resize) x.ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(r)]));
    x.ws.send(Buffer.from([0, 0x0d]));
    await x.waitFor(() => sizes().length >= n);
  };
  await x.waitFor(() => sizes().length >= 1);
  await step(['{"Width":100,"Height":30}\n'], 2);
  await step(['{"height":40,', '"width":120}'], 3);
  await step(['{"Width":oops}', '{"Width":50,"Height":10}'], 4);
  await x.closed;
  assert.deepEqual(sizes(), ['24 80', '30 100', '40 120', '40 120']);
});

test('resizes racing an instant exit never crash the sandbox (node-pty EBADF after the child is gone)', async (t) => {
  for (let i = 0; i < 20; i++) {
    const x = openExec(t, sb, { pod: 'shell', command: ['true'], stdin: true, stdout: true, tty: true });
    await x.opened;
    // Resize as fast as possible until the exec ends: some land after node-pty closed the pty fd.
    const timer = setInterval(() => {
      if (x.ws.readyState === x.ws.OPEN) x.ws.send(Buffer.from(`\x04{"Width":${90 + i},"Height":30}`, 'latin1'));
    }, 0);
    const closed = await x.closed;
    clearInterval(timer);
    assert.equal(closed.code, 1000);
  }
  // Still serving after the race.
  const y = openExec(t, sb, { pod: 'shell', command: ['sh', '-c', 'echo alive'], stdout: true });
  await y.closed;
  assert.match(channelText(y.messages, 1), /alive/);
});

test('boolean parsing and repeated commands with + and %20', async (t) => {
  const x = openExec(t, sb, { pod: 'shell', raw: 'command=sh&command=-c&command=echo+a%20b%3B+echo+e+%3E%262&stdout=&stderr=FALSE' }, ['v4.channel.k8s.io']);
  await x.closed;
  assert.equal(channelText(x.messages, 1), 'a b\n');
  assert.equal(channels(x.messages).filter((f) => f.channel === 2).length, 0);
  const y = openExec(t, sb, { pod: 'shell', raw: 'command=sh&command=-c&command=echo+o%3B+echo+e+%3E%262&stdout=0&stderr=yes' }, ['v4.channel.k8s.io']);
  await y.closed;
  assert.equal(channels(y.messages).filter((f) => f.channel === 1).length, 0);
  assert.equal(channelText(y.messages, 2), 'e\n');
});

test('container not running: 101, open frame, InternalError status, close', async (t) => {
  const x = openExec(t, sb, { pod: 'stopped', command: ['true'], stdout: true });
  await x.opened;
  assert.equal((await x.closed).code, 1000);
  assert.deepEqual(
    channels(x.messages).map((f) => [f.channel, f.payload.toString()]),
    [
      [1, ''],
      [3, '{"metadata":{},"status":"Failure","message":"Internal error occurred: unable to upgrade connection: container not found (\\"main\\")","reason":"InternalError","details":{"causes":[{"message":"unable to upgrade connection: container not found (\\"main\\")"}]},"code":500}'],
    ],
  );
});

test('a missing executable fails like the runtime, with an InternalError status', async (t) => {
  const x = openExec(t, sb, { pod: 'shell', command: ['no-such-binary'], stdout: true });
  await x.closed;
  const s = JSON.parse(channelText(x.messages, 3));
  assert.equal(s.reason, 'InternalError');
  assert.match(s.message, /executable file not found in \$PATH/);
});

test('Status bodies before the upgrade: 401, 403, 404, 400 container errors, streams, Upgrade required', async () => {
  const q = { pod: 'shell', command: ['true'], stdout: true };
  const ws = wsUpgradeHeaders(sb.tokens.admin, 'v5.channel.k8s.io');
  const st = (code: number, reason: string, message: string, details?: object): string =>
    JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });

  assert.deepEqual(await refusedUpgrade(sb, execPath(q), wsUpgradeHeaders('wrong', 'v5.channel.k8s.io')), {
    status: 401,
    body: st(401, 'Unauthorized', 'Unauthorized'),
    upgraded: false,
  });
  assert.deepEqual(await refusedUpgrade(sb, execPath(q), wsUpgradeHeaders(sb.tokens.restricted, 'v5.channel.k8s.io')), {
    status: 403,
    body: st(403, 'Forbidden', 'pods "shell" is forbidden: User "restricted" cannot get resource "pods/exec" in API group "" in the namespace "default"', { name: 'shell', kind: 'pods' }),
    upgraded: false,
  });
  assert.deepEqual(await refusedUpgrade(sb, execPath({ ...q, pod: 'nope' }), ws), {
    status: 404,
    body: st(404, 'NotFound', 'pods "nope" not found', { name: 'nope', kind: 'pods' }),
    upgraded: false,
  });
  assert.deepEqual(await refusedUpgrade(sb, execPath({ ...q, pod: 'multi' }), ws), {
    status: 400,
    body: st(400, 'BadRequest', 'a container name must be specified for pod multi, choose one of: [app sidecar]'),
    upgraded: false,
  });
  assert.deepEqual(await refusedUpgrade(sb, execPath({ ...q, pod: 'multi', container: 'nope' }), ws), {
    status: 400,
    body: st(400, 'BadRequest', 'container nope is not valid for pod multi'),
    upgraded: false,
  });
  assert.deepEqual(await refusedUpgrade(sb, execPath({ pod: 'shell', command: ['true'] }), ws), {
    status: 400,
    body: st(400, 'BadRequest', 'you must specify at least 1 of stdin, stdout, stderr'),
    upgraded: false,
  });
  const plain = await refusedUpgrade(sb, execPath(q), { Authorization: `Bearer ${sb.tokens.admin}` });
  assert.deepEqual(plain, { status: 400, body: st(400, 'BadRequest', 'Upgrade request required'), upgraded: false });
  // kubectl's SPDY fallback: a POST asking for SPDY/3.1 gets a Status it can print.
  const spdy = await refusedUpgrade(sb, execPath(q), { Authorization: `Bearer ${sb.tokens.admin}`, Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' }, 'POST');
  assert.equal(spdy.status, 400);
  assert.equal(JSON.parse(spdy.body).kind, 'Status');
  assert.match(JSON.parse(spdy.body).message, /SPDY\/3\.1 is not supported/);
});

test('pings are answered with pongs', async (t) => {
  const x = openExec(t, sb, { pod: 'shell', command: ['sleep', '30'], stdout: true });
  await x.opened;
  const pong = new Promise<Buffer>((resolve) => x.ws.once('pong', (d) => resolve(d)));
  x.ws.ping(Buffer.from('k'));
  assert.equal((await pong).toString(), 'k');
  x.ws.close();
  await x.closed;
});

test('backpressure: a client that stops reading pauses the target; output resumes exactly when it reads again', async (t) => {
  const gauges = async (): Promise<{ paused: number; bytes: number }> => {
    const text = (await httpGet(sb, '/metrics')).body;
    const g = (name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
    return { paused: g('sandbox_exec_paused'), bytes: g('sandbox_exec_output_bytes_total') };
  };
  const N = 12_000_000;
  for (const q of [
    { ns: 'load', pod: 'flood', command: ['flood', String(N)], tty: false },
    { pod: 'shell', command: ['sh', '-c', `yes | head -c ${N}`], tty: false },
    { pod: 'shell', command: ['sh', '-c', `yes | head -c ${N}`], tty: true },
  ]) {
    const t0 = Date.now();
    const base = (await gauges()).bytes;
    const x = openExec(t, sb, { ...q, stdout: true });
    await x.opened;
    const socket = (x.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    // Kernel socket buffers take a few MB first; then the target must stop: the count holds still.
    const deadline = Date.now() + 10_000;
    let last = -1;
    for (;;) {
      const g = await gauges();
      if (g.paused === 1 && g.bytes === last) break;
      assert.ok(Date.now() < deadline, `target never stalled (${JSON.stringify(g)})`);
      last = g.bytes;
      await delay(200);
    }
    assert.ok(last - base < N / 2, `stalled after ${last - base} of ${N} bytes`);
    t.diagnostic(`${q.command.join(" ")} tty=${q.tty}: stalled after ${last - base} bytes at ${Date.now() - t0} ms`);
    await delay(300);
    const later = await gauges();
    assert.equal(later.paused, 1);
    // Loopback buffers may still auto-tune a little; an unpaused target would add megabytes.
    assert.ok(later.bytes - last < 512 * 1024, `grew by ${later.bytes - last} bytes while paused`);
    socket.resume();
    assert.equal((await x.closed).code, 1000);
    assert.equal((await gauges()).paused, 0);
    const out = channelText(x.messages, 1);
    if (q.tty) {
      // The line discipline turns \n into \r\n. When the session leader exits, Linux hangs up its
      // terminal and pty_flush_buffer drops output the master has not read yet (a few KiB at most;
      // a container runtime's pty exec has the same race), so only the pipes are byte-exact.
      const got = out.replace(/\r\n/g, '\n').length;
      assert.ok(got > N - 64 * 1024 && got <= N, `${got} of ${N}`);
    } else assert.equal(out.length, N, JSON.stringify(q.command));
    assert.equal(channelText(x.messages, 3), SUCCESS);
    t.diagnostic(`done at ${Date.now() - t0} ms`);
  }
});

test('input backpressure: stdin a process does not read stops the sandbox reading the client', async (t) => {
  const x = openExec(t, sb, { pod: 'shell', command: ['sh', '-c', 'echo up; sleep 30'], stdin: true, stdout: true });
  await x.waitFor((m) => channelText(m, 1) === 'up\n');
  const TOTAL = 32 * 1024 * 1024;
  const frame = Buffer.alloc(64 * 1024 + 1, 0x61);
  frame[0] = 0;
  for (let sent = 0; sent < TOTAL; sent += frame.length - 1) x.ws.send(frame);
  // The sandbox takes what the pipe and the kernel buffers hold, then stops reading; the rest
  // stays queued in this client instead of piling up in the sandbox's memory. (Unpaused, a
  // loopback socket takes all 32 MiB well within the second.)
  await delay(1000);
  const last = x.ws.bufferedAmount;
  t.diagnostic(`sandbox accepted ${TOTAL - last} of ${TOTAL} bytes`);
  assert.ok(last > TOTAL / 2, `sandbox took ${TOTAL - last} of ${TOTAL} bytes nobody reads`);
  x.ws.terminate();
});
