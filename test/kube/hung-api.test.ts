/**
 * Issue 8 item 7: lists, reads and exec against an API server that never answers end with
 * UpstreamUnavailable within the kube timeout (plus slack for a loaded machine), and drop their
 * connection; a session's abort ends them at once.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KubeApi } from '../../src/kube/api.js';
import { KubeContexts } from '../../src/kube/config.js';
import { ExecAgents, ExecStream, type ExecSinks } from '../../src/kube/exec.js';
import { PodtermError } from '../../src/protocol/errors.js';
import { startHungServer, type HungServer } from '../helpers/hung-api-server.js';

const TIMEOUT_MS = 300;
/** Scheduling slack on a loaded 2-core machine; the old behaviour never ended at all. */
const SLACK_MS = 1500;

const noSinks: ExecSinks = { stdout: () => undefined, stderr: () => undefined, status: () => undefined, failed: () => undefined, closed: () => undefined };

async function expectTimeout(what: string, run: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await assert.rejects(run(), (e: unknown) => {
    assert.ok(e instanceof PodtermError, `${what}: ${String(e)}`);
    assert.equal(e.code, 'UpstreamUnavailable', what);
    assert.equal(e.message, 'The Kubernetes API server did not answer within 0.3 s.', what);
    return true;
  });
  const took = Date.now() - started;
  assert.ok(took >= TIMEOUT_MS - 20, `${what} gave up early (${took} ms)`);
  assert.ok(took < TIMEOUT_MS + SLACK_MS, `${what} took ${took} ms`);
  return took;
}

async function connectionsDropped(server: HungServer): Promise<void> {
  const deadline = Date.now() + 2000;
  while (server.open > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.open, 0, 'the client dropped every connection it opened');
}

for (const mode of ['http', 'tcp'] as const) {
  describe(`a hung API server (${mode === 'http' ? 'HTTP request never answered' : 'TLS handshake never completed'})`, () => {
    test('pod and namespace lists, pod reads and exec fail with UpstreamUnavailable within the timeout', async (t) => {
      const server = await startHungServer(t, mode);
      const contexts = new KubeContexts({ kind: 'kubeconfig', yaml: server.yaml, kubeTimeoutMs: TIMEOUT_MS });
      assert.equal(contexts.timeoutMs, TIMEOUT_MS);
      const api = new KubeApi(contexts);
      const took: number[] = [];
      took.push(await expectTimeout('listPods', () => api.listPods({ context: undefined }, 'default')));
      took.push(await expectTimeout('readPod', () => api.readPod({ context: undefined }, 'default', 'shell')));
      took.push(await expectTimeout('listNamespaces', () => api.listNamespaces({ context: undefined })));
      const signal = new AbortController().signal;
      const exec = (): Promise<ExecStream> =>
        ExecStream.open(contexts.forContext(), { kind: 'exec', namespace: 'default', pod: 'shell', container: 'main', command: ['sh'], tty: true }, noSinks, {
          signal,
          timeoutMs: TIMEOUT_MS,
          agents: new ExecAgents(),
        });
      took.push(await expectTimeout('exec', exec));
      t.diagnostic(`gave up after ${took.join(', ')} ms`);
      assert.ok(server.seen >= 4, `the server saw the calls (${server.seen})`);
      await connectionsDropped(server);
    });

    test("the session's abort ends a hung call at once, whatever the timeout", async (t) => {
      const server = await startHungServer(t, mode);
      const contexts = new KubeContexts({ kind: 'kubeconfig', yaml: server.yaml, kubeTimeoutMs: 60_000 });
      const api = new KubeApi(contexts);
      for (const call of ['readPod', 'exec'] as const) {
        const ctl = new AbortController();
        const p =
          call === 'readPod'
            ? api.readPod({ context: undefined }, 'default', 'shell', ctl.signal)
            : ExecStream.open(contexts.forContext(), { kind: 'exec', namespace: 'default', pod: 'shell', container: 'main', command: ['sh'], tty: true }, noSinks, {
                signal: ctl.signal,
                timeoutMs: 60_000,
              });
        const seenBefore = server.seen;
        const deadline = Date.now() + 5000;
        while (server.seen === seenBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        const started = Date.now();
        ctl.abort();
        await assert.rejects(p, (e: unknown) => e instanceof PodtermError && e.code === 'UpstreamUnavailable');
        assert.ok(Date.now() - started < 200, `${call} ended ${Date.now() - started} ms after the abort`);
      }
      await connectionsDropped(server);
    });
  });
}
