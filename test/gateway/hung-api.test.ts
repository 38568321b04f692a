/**
 * Issue 8 item 2: a session whose default-container lookup (the pod GET) never gets an answer must
 * not hold its actor past the client's close: the lookup takes the session's abort signal, so
 * teardown finishes at once (well before the close deadline) and no worker is recycled. And with a
 * short kube timeout, the client is told UpstreamUnavailable in our words.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startGateway } from '../../src/server/gateway.js';
import { ADMIN_TOKEN } from '../helpers/gateway-stack.js';
import { startHungServer } from '../helpers/hung-api-server.js';
import { TermClient } from '../helpers/term-client.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const workers of [0, 1]) {
  describe(`a hung pod GET (--workers ${workers})`, () => {
    test('the client closes: teardown finishes promptly, no close-deadline miss', async (t) => {
      const server = await startHungServer(t, 'http');
      // A timeout far beyond the test: only the session's abort can end the lookup.
      const gateway = await startGateway({
        host: '127.0.0.1',
        port: 0,
        workers,
        kube: { kind: 'kubeconfig', yaml: server.yaml, kubeTimeoutMs: 120_000 },
        tokens: [{ token: ADMIN_TOKEN, context: 'admin' }],
        closeDeadlineMs: 3000,
      });
      t.after(() => gateway.close());
      const c = await TermClient.connect(gateway.url, { namespace: 'default', pod: 'shell' }, { token: ADMIN_TOKEN });
      t.after(() => c.terminate());
      const deadline = Date.now() + 5000;
      while (server.seen === 0 && Date.now() < deadline) await sleep(10);
      assert.equal(server.seen, 1, 'the pod GET reached the API server');
      assert.equal((await gateway.stats()).actorsActive, 1);
      const closedAt = Date.now();
      c.ws.close(1000);
      await c.closed;
      let s = await gateway.stats();
      while ((s.actorsActive > 0 || s.sessionsActive > 0) && Date.now() - closedAt < 5000) {
        await sleep(20);
        s = await gateway.stats();
      }
      const took = Date.now() - closedAt;
      t.diagnostic(`actor gone ${took} ms after the client's close`);
      assert.equal(s.actorsActive, 0, 'the actor finished');
      assert.equal(s.sessionsActive, 0);
      assert.ok(took < 1000, `teardown took ${took} ms (close deadline 3000 ms)`);
      assert.equal(s.closeDeadlineMisses, 0);
      const deadlineOpen = Date.now() + 2000;
      while (server.open > 0 && Date.now() < deadlineOpen) await sleep(20);
      assert.equal(server.open, 0, 'the pod GET was dropped, not left hanging');
    });

    test('with a short kube timeout the client gets UpstreamUnavailable naming the wait', async (t) => {
      const server = await startHungServer(t, 'http');
      const gateway = await startGateway({
        host: '127.0.0.1',
        port: 0,
        workers,
        kube: { kind: 'kubeconfig', yaml: server.yaml, kubeTimeoutMs: 300 },
        tokens: [{ token: ADMIN_TOKEN, context: 'admin' }],
      });
      t.after(() => gateway.close());
      const cases: Array<Record<string, string>> = [{ namespace: 'default', pod: 'shell' }, { namespace: 'default', pod: 'shell', container: 'main' }];
      for (const params of cases) {
        const c = await TermClient.connect(gateway.url, params, { token: ADMIN_TOKEN });
        t.after(() => c.terminate());
        const [err, closed] = await Promise.all([c.failed, c.closed]);
        assert.deepEqual(err, { code: 'UpstreamUnavailable', message: 'The Kubernetes API server did not answer within 0.3 s.' });
        assert.equal(closed.code, 4502);
      }
      const started = Date.now();
      const pods = await fetch(`${gateway.url}/api/v1/namespaces/default/pods`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(pods.status, 502);
      assert.equal(((await pods.json()) as { code: string }).code, 'UpstreamUnavailable');
      assert.ok(Date.now() - started < 2000, 'the pod list gave up within the timeout');
    });
  });
}
