/** A pod without a shell: exec fails exactly as containerd (runc) does, through the v5 translator and on v4. */
import assert from 'node:assert/strict';
import { after, afterEach, test } from 'node:test';
import { startSandbox } from '../../src/sandbox/index.js';
import { assertDrained, assertStopped, channelText, openExec } from './helpers.js';
import { kubectlRunner } from './kubectl-runner.js';

const sb = await startSandbox({ killGraceMs: 500 });
after(async () => {
  await sb.close();
  assertStopped(sb);
});
afterEach(() => assertDrained(sb));

const ID = '[0-9a-f]{64}';
const runc = (what: string): string => `OCI runtime exec failed: exec failed: unable to start container process: ${what}: unknown`;
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('kubectl exec distroless -- sh: the containerd message, exit 1 (an InternalError, no exit code)', async (t) => {
  const k = await kubectlRunner(t, sb);
  const r = await k.run(['exec', 'distroless', '--', 'sh']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr,
    new RegExp(`^error: Internal error occurred: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "${ID}": ${esc(runc('exec: "sh": executable file not found in $PATH'))}\\n$`),
  );
  const abs = await k.run(['exec', '-it', 'distroless', '--', '/bin/sh']);
  assert.equal(abs.code, 1);
  assert.match(abs.stderr, new RegExp(esc(runc('exec: "/bin/sh": stat /bin/sh: no such file or directory'))));
});

test('the status on channel 3: v5 wrapped twice (API server over the kubelet), v4 once (the kubelet)', async (t) => {
  for (const [proto, prefix] of [
    ['v5.channel.k8s.io', 'Internal error occurred: Internal error occurred: '],
    ['v4.channel.k8s.io', 'Internal error occurred: '],
  ] as const) {
    const x = openExec(t, sb, { pod: 'distroless', command: ['/bin/sh'], stdout: true, stdin: true }, [proto]);
    assert.equal((await x.closed).code, 1000);
    const s = JSON.parse(channelText(x.messages, 3));
    assert.equal(s.reason, 'InternalError');
    assert.equal(s.code, 500);
    assert.match(s.message, new RegExp(`^${esc(prefix)}error executing command in container: failed to exec in container: failed to start exec "${ID}": ${esc(runc('exec: "/bin/sh": stat /bin/sh: no such file or directory'))}$`));
    assert.equal(`Internal error occurred: ${s.details.causes[0].message}`, s.message);
  }
});
