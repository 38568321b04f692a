/**
 * Several real gateway processes (`podterm serve` through the CLI, spawn-cli.ts) on one machine,
 * peers of each other through `--peers`, all in front of one in-process sandbox cluster. Ports are
 * picked free by the OS first (a peer list needs them before the processes start).
 */
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Sandbox } from '../../src/sandbox/index.js';
import { runCli, type CliRun } from '../cli/spawn-cli.js';

export const TOKEN = 'cluster-test-token-0123456789';

export interface Replica {
  id: string;
  url: string;
  run: CliRun;
}

/** Free loopback ports, held until all are known so that no two are the same. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export interface ClusterFiles {
  kubeconfig: string;
  secretFile: string;
  secret: Buffer;
}

export async function clusterFiles(t: TestContext, sandbox: Sandbox): Promise<ClusterFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-cluster-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, sandbox.kubeconfigYaml(), { mode: 0o600 });
  const secret = randomBytes(32);
  const secretFile = join(dir, 'cluster-secret');
  await writeFile(secretFile, secret, { mode: 0o600 });
  return { kubeconfig, secretFile, secret };
}

/** Starts one replica per id, each listing every replica (itself included) as a peer. */
export async function startReplicas(t: TestContext, files: ClusterFiles, ids: string[], extra: string[] = []): Promise<Replica[]> {
  const ports = await freePorts(ids.length);
  const peers = ports.map((p) => `127.0.0.1:${p}`).join(',');
  const started = await Promise.allSettled(
    ids.map(async (id, i) => {
      const run = await runCli(t, [
        'serve', '--kubeconfig', files.kubeconfig, '--listen', `127.0.0.1:${ports[i]}`, '--workers', '0', '--token', TOKEN,
        '--detach-grace-ms', '30000', '--drain-grace-ms', '300', '--replica-id', id, '--log-level', 'warn',
        '--peers', peers, '--cluster-secret-file', files.secretFile, ...extra,
      ]);
      // A replica that dies on its own (not our SIGKILL, not a drained exit 0) says why, at once:
      // the test would otherwise only see a socket that never answers.
      void run.exited.then(({ code }) => {
        if (code !== 0 && code !== null) process.stderr.write(`replica ${id} exited with ${code}:\n${run.stderr()}\n`);
      });
      await run.waitFor(/podterm: open /);
      return { id, url: `http://127.0.0.1:${ports[i]}`, run };
    }),
  );
  const failed = started.find((r) => r.status === 'rejected');
  if (!failed) return started.map((r) => (r as PromiseFulfilledResult<Replica>).value);
  // Stop the ones that did start now, before the sandbox's teardown waits on them.
  for (const r of started) if (r.status === 'fulfilled') r.value.run.child.kill('SIGKILL');
  await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.run.exited : undefined)));
  throw failed.reason;
}

/** A number from the replica's /metrics (0 when the line is absent). */
export async function metric(r: Replica, name: string): Promise<number> {
  const text = await (await fetch(`${r.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
