/** The exec channel codec (client side) and the Status -> outcome mapping, pure. */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { decodeServerFrame, encodeCloseStdin, encodeFrame, encodeResize, parseStatus } from '../../src/kube/channel-codec.js';
import { execUrl } from '../../src/kube/exec.js';
import { execOutcome, missingExecutable } from '../../src/kube/exec-status.js';
import { withDeadline } from '../../src/kube/deadline.js';
import { kubeErrorToPodterm } from '../../src/kube/errors.js';

test('frames: [channel][payload], resize as kubectl spells it, the v5 stdin close', () => {
  assert.deepEqual([...encodeFrame(0, Buffer.from('ab'))], [0, 0x61, 0x62]);
  assert.equal(encodeResize(120, 40).toString('latin1'), '\x04{"Width":120,"Height":40}\n');
  assert.equal(encodeResize(70000, -3).subarray(1).toString(), '{"Width":65535,"Height":0}\n', 'clamped to uint16');
  assert.deepEqual([...encodeCloseStdin()], [255, 0]);
});

test('server frames: output, status, skips, and every frame a server never sends is invalid', () => {
  assert.deepEqual(decodeServerFrame(Buffer.from([1, 0x68, 0x69]), true), { kind: 'stdout', data: Buffer.from('hi') });
  assert.deepEqual(decodeServerFrame(Buffer.from([2, 0x65]), true), { kind: 'stderr', data: Buffer.from('e') });
  assert.deepEqual(decodeServerFrame(Buffer.from([1]), true), { kind: 'skip' }, 'the empty frame at open');
  assert.deepEqual(decodeServerFrame(Buffer.alloc(0), true), { kind: 'skip' });
  const ok = Buffer.concat([Buffer.from([3]), Buffer.from('{"metadata":{},"status":"Success"}')]);
  assert.deepEqual(decodeServerFrame(ok, true), { kind: 'status', status: { status: 'Success' } });
  for (const [bytes, binary] of [[[0, 1], true], [[4, 0x7b], true], [[255, 0], true], [[7, 1], true], [[1, 0x61], false], [[3, 0x6e, 0x6f], true], [[3], true]] as const) {
    const f = decodeServerFrame(Buffer.from(bytes), binary);
    assert.equal(f.kind, 'invalid', JSON.stringify(bytes));
  }
  assert.equal(parseStatus(Buffer.from('[1]')), null);
  assert.equal(parseStatus(Buffer.from('{"message":"no status"}')), null);
  assert.deepEqual(parseStatus(Buffer.from('{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"},7]}}')), {
    status: 'Failure',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  });
});

test('exec and attach URLs keep a server path prefix and encode names', () => {
  const exec = execUrl('https://k8s.example:6443/clusters/c-1/', { kind: 'exec', namespace: 'n s', pod: 'p', container: 'c', command: ['sh', '-c', 'a b'], tty: true });
  assert.equal(exec, 'wss://k8s.example:6443/clusters/c-1/api/v1/namespaces/n%20s/pods/p/exec?command=sh&command=-c&command=a+b&container=c&stdin=true&stdout=true&stderr=false&tty=true');
  const attach = execUrl('http://127.0.0.1:8080', { kind: 'attach', namespace: 'n', pod: 'p', container: 'c', command: ['ignored'], tty: false });
  assert.equal(attach, 'ws://127.0.0.1:8080/api/v1/namespaces/n/pods/p/attach?container=c&stdin=true&stdout=true&stderr=true&tty=false');
});

const CONTAINERD_SH = 'Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "1f2e": OCI runtime exec failed: exec failed: unable to start container process: exec: "/bin/sh": executable file not found in $PATH: unknown';
const RUNC_STAT = 'OCI runtime exec failed: exec failed: unable to start container process: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown';

test('no /bin/sh: NoShell for podterm\'s shell, exit 127 for a missing user command', () => {
  const shell = { container: 'app', command: ['/bin/sh', '-c', '...'], userCommand: false };
  for (const status of [
    { status: 'Failure', reason: 'InternalError', code: 500, message: CONTAINERD_SH },
    { status: 'Failure', reason: 'InternalError', code: 500, message: 'Internal error occurred: x', details: { causes: [{ message: RUNC_STAT }] } },
    { status: 'Failure', reason: 'NonZeroExitCode', message: CONTAINERD_SH, details: { causes: [{ reason: 'ExitCode', message: '126' }] } },
  ]) {
    const o = execOutcome(status, shell);
    assert.equal(o.kind, 'error');
    assert.equal(o.kind === 'error' && o.error.code, 'NoShell');
    assert.equal(o.kind === 'error' && o.error.message, 'Container "app" has no shell (/bin/sh not found). Start a debug container to inspect it.');
    assert.equal(o.kind === 'error' && o.error.closeCode, 4413);
  }
  assert.equal(missingExecutable({ status: 'Failure', message: 'exec: "nosuch": executable file not found in $PATH' }), 'nosuch');
  const user = { container: 'app', command: ['nosuch'], userCommand: true };
  assert.deepEqual(execOutcome({ status: 'Failure', reason: 'InternalError', message: 'exec: "nosuch": executable file not found in $PATH: unknown' }, user), {
    kind: 'exit',
    exitCode: 127,
    message: '"nosuch": command not found in container "app"',
  });
  // A user command that reports its own exit code keeps it.
  assert.deepEqual(execOutcome({ status: 'Failure', reason: 'NonZeroExitCode', message: CONTAINERD_SH, details: { causes: [{ reason: 'ExitCode', message: '126' }] } }, user), {
    kind: 'exit',
    exitCode: 126,
    message: 'command terminated with non-zero exit code',
  });
  // Unrelated failures are not NoShell.
  const other = execOutcome({ status: 'Failure', reason: 'InternalError', code: 500, message: 'chdir to cwd ("/x") set in config.json failed: no such file or directory' }, shell);
  assert.equal(other.kind === 'error' && other.error.code, 'UpstreamUnavailable');
  assert.deepEqual(execOutcome({ status: 'Success' }, shell), { kind: 'exit', exitCode: 0, message: '' });
});

test('our own bugs stay Internal; network, TLS and Kubernetes answers are UpstreamUnavailable or mapped', () => {
  assert.equal(kubeErrorToPodterm(new TypeError('x is not a function')).code, 'Internal');
  assert.equal(kubeErrorToPodterm(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })).code, 'UpstreamUnavailable');
  // Out of descriptors is a capacity limit (4429, said so), not a bug (Internal), also when wrapped.
  const emfile = kubeErrorToPodterm(Object.assign(new Error('connect EMFILE 127.0.0.1:6443'), { code: 'EMFILE' }));
  assert.equal(emfile.code, 'TooManySessions');
  assert.match(emfile.message, /file descriptors/);
  assert.equal(kubeErrorToPodterm(new Error('request failed', { cause: Object.assign(new Error('x'), { code: 'ENFILE' }) })).code, 'TooManySessions');
  assert.equal(kubeErrorToPodterm(Object.assign(new Error('fetch failed'), { name: 'FetchError', errno: 'EMFILE' })).code, 'TooManySessions');
  assert.equal(kubeErrorToPodterm(Object.assign(new Error('tls'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })).code, 'UpstreamUnavailable');
  assert.equal(kubeErrorToPodterm(Object.assign(new Error('f'), { name: 'FetchError' })).code, 'UpstreamUnavailable');
  assert.equal(kubeErrorToPodterm({ code: 404, body: '{"status":"Failure","reason":"NotFound","code":404}' }).code, 'NotFound');
});

test('withDeadline leaves no timer or listener behind, and rejects on the caller\'s abort', async () => {
  const ctl = new AbortController();
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  assert.equal(await withDeadline(60_000, ctl.signal, async () => 7), 7);
  assert.equal(getEventListeners(ctl.signal, 'abort').length, 0, 'abort listener removed');
  assert.equal(timers(), before, 'timer cleared');
  const late = withDeadline(60_000, ctl.signal, () => new Promise(() => undefined));
  ctl.abort();
  await assert.rejects(late, { code: 'UpstreamUnavailable', message: 'The request was cancelled.' });
  await assert.rejects(withDeadline(20, undefined, () => new Promise(() => undefined)), { message: 'The Kubernetes API server did not answer within 0.02 s.' });
});
