/**
 * Download throughput and the gateway's memory bound for one large file through
 * `GET .../files` (src/server/file-routes.ts): the sandbox and the gateway run in this process
 * (`--workers 0` does not matter for files: transfers never touch the actors). The file is made in
 * the "pod" (a host shell: `head -c SIZE /dev/zero > FILE`), read by a client that consumes as fast
 * as it can, while RSS and heap are sampled. Usage:
 *   node dist/bench/tools/file-download.js [SIZE_MB=1024]
 * Prints one JSON line: {bytes, seconds, mbPerSecond, rssBeforeMb, rssPeakMb, heapPeakMb}.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '../../src/sandbox/index.js';
import { startGateway } from '../../src/server/gateway.js';

const sizeMb = Number(process.argv[2] ?? 1024);
const dir = mkdtempSync(join(tmpdir(), 'podterm-bench-files-'));
const file = join(dir, 'big');
execFileSync('sh', ['-c', `head -c ${sizeMb}M /dev/zero > ${file}`]);
const sandbox = await startSandbox({ host: '127.0.0.1', port: 0 });
const token = 'bench-token-0123456789abcdef';
const gateway = await startGateway({ host: '127.0.0.1', port: 0, kube: { kind: 'kubeconfig', yaml: sandbox.kubeconfigYaml() }, tokens: [{ token, context: 'admin' }], workers: 0, logLevel: 'warn' });
try {
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  let heapPeak = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    rssPeak = Math.max(rssPeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed + m.external);
  }, 50);
  const t0 = performance.now();
  const res = await fetch(`${gateway.url}/api/v1/namespaces/default/pods/shell/files?container=main&path=${encodeURIComponent(file)}`, { headers: { authorization: `Bearer ${token}` } });
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const mb = 1024 * 1024;
  console.log(JSON.stringify({ status: res.status, bytes, expected: sizeMb * mb, seconds: +seconds.toFixed(2), mbPerSecond: +(bytes / mb / seconds).toFixed(1), rssBeforeMb: +(rssBefore / mb).toFixed(1), rssPeakMb: +(rssPeak / mb).toFixed(1), heapPeakMb: +(heapPeak / mb).toFixed(1) }));
} finally {
  await gateway.close();
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
}
