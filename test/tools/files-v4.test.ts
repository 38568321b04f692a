/**
 * Uploads against a cluster without v5.channel.k8s.io (before Kubernetes 1.30, the kubelet answers
 * exec and speaks v4, which cannot close stdin). The upload tells the container its byte count
 * (`head -c N | tar`, `head -c N > PATH`), so the remote side ends without an EOF and its exit
 * status still decides the answer. Without that, tar waits for an EOF that never comes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import tar from 'tar-stream';
import WebSocket from 'ws';
import { startSandbox } from '../../src/sandbox/index.js';
import { startGatewayFor, type Stack } from '../helpers/gateway-stack.js';
import { api, assertNoToolResidue, filesPath } from './tool-stack.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** Well above a loaded machine's upload time; a hung upload (no EOF for tar) fails here. */
const UPLOAD_TIMEOUT_MS = 30_000;

async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-files-v4-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function v4Stack(t: TestContext, env?: Record<string, string>): Promise<Stack> {
  const sandbox = await startSandbox({ host: '127.0.0.1', port: 0, killGraceMs: 500, v5: false, ...(env ? { env } : {}) });
  t.after(() => sandbox.close());
  const gateway = await startGatewayFor(t, sandbox, { workers: 0 });
  return { sandbox, gateway, url: gateway.url };
}

function put(stack: Stack, path: string, body: Buffer, type = 'application/octet-stream'): Promise<Response> {
  return api(stack, filesPath('shell', 'main', path), { method: 'PUT', body, headers: { 'content-type': type }, signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS) });
}

/** The exec protocol a client offering `offered` gets from the sandbox, or the HTTP status that refused it. */
function negotiated(stack: Stack, offered: string[]): Promise<string> {
  const url = new URL('/api/v1/namespaces/default/pods/shell/exec?command=true&stdout=true', stack.sandbox.url.replace(/^http/, 'ws'));
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, offered, { headers: { authorization: `Bearer ${stack.sandbox.tokens.admin}` }, rejectUnauthorized: false });
    ws.once('open', () => {
      resolve(ws.protocol);
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(`HTTP ${res.statusCode}`);
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

test('the sandbox with v5: false refuses v5 and speaks v4, as a cluster before 1.30', async (t) => {
  const stack = await v4Stack(t);
  assert.equal(await negotiated(stack, ['v5.channel.k8s.io']), 'HTTP 403');
  assert.equal(await negotiated(stack, ['v5.channel.k8s.io', 'v4.channel.k8s.io']), 'v4.channel.k8s.io');
  await assertNoToolResidue(stack);
});

test('v4: a file goes in through `head -c N | tar`: same SHA-256, and tar\'s exit status is checked', async (t) => {
  const stack = await v4Stack(t);
  const dir = await scratch(t);
  for (const size of [0, 1, 511, 512, 5 * 1024 * 1024 + 7]) {
    const data = randomBytes(size);
    const target = join(dir, `f-${size}.bin`);
    const started = Date.now();
    const up = await put(stack, target, data);
    assert.equal(up.status, 200, await up.clone().text());
    assert.deepEqual(await up.json(), { path: target, bytes: size, via: 'tar' });
    assert.equal(sha(await readFile(target)), sha(data), `${size} bytes`);
    t.diagnostic(`${size} bytes over v4 in ${Date.now() - started} ms`);
  }
  // And back out over v4 (a download needs no stdin close): the same bytes.
  const big = join(dir, `f-${5 * 1024 * 1024 + 7}.bin`);
  const down = await api(stack, filesPath('shell', 'main', big), { signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS) });
  assert.equal(down.status, 200);
  assert.equal(sha(Buffer.from(await down.arrayBuffer())), sha(await readFile(big)));
  // A name long enough for a pax header: the announced size must still be exact.
  const long = join(dir, 'n'.repeat(150));
  assert.equal((await put(stack, long, Buffer.from('long name\n'))).status, 200);
  assert.equal(await readFile(long, 'utf8'), 'long name\n');
  // The exit status still decides: tar cannot enter a missing directory.
  const noDir = await put(stack, join(dir, 'no/such/dir/f'), Buffer.from('hi'));
  assert.equal(noDir.status, 404);
  assert.equal(((await noDir.json()) as { code: string }).code, 'NotFound');
  await assertNoToolResidue(stack);
});

test('v4: a directory tree as a tar (Content-Length known) is extracted whole; without a length it is refused', async (t) => {
  const stack = await v4Stack(t);
  const dir = await scratch(t);
  const files: Record<string, Buffer> = { 'a.txt': randomBytes(1000), 'sub/b.bin': randomBytes(300_000), [`sub/${'l'.repeat(120)}`]: Buffer.from('c\n') };
  const pack = tar.pack();
  pack.entry({ name: 'sub', type: 'directory' });
  for (const [name, body] of Object.entries(files)) pack.entry({ name }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const archive = Buffer.concat(chunks);
  await mkdir(join(dir, 'tree'));
  const up = await put(stack, join(dir, 'tree'), archive, 'application/x-tar');
  assert.equal(up.status, 200, await up.clone().text());
  for (const [name, body] of Object.entries(files)) assert.equal(sha(await readFile(join(dir, 'tree', name))), sha(body), name);

  // An archive made by GNU tar (10 KiB records, GNU long names): repacked and padded, same files.
  const src = join(dir, 'src');
  await mkdir(join(src, 'deep'), { recursive: true });
  const gnuFiles: Record<string, Buffer> = { [`deep/${'g'.repeat(180)}`]: randomBytes(70_000), 'top.txt': Buffer.from('top\n') };
  for (const [name, body] of Object.entries(gnuFiles)) await writeFile(join(src, name), body);
  execFileSync('tar', ['--format=gnu', '-cf', join(dir, 'gnu.tar'), '-C', src, '.']);
  await mkdir(join(dir, 'gnu'));
  const gnu = await put(stack, join(dir, 'gnu'), await readFile(join(dir, 'gnu.tar')), 'application/x-tar');
  assert.equal(gnu.status, 200, await gnu.clone().text());
  for (const [name, body] of Object.entries(gnuFiles)) assert.equal(sha(await readFile(join(dir, 'gnu', name))), sha(body), name);

  // A streamed archive (no Content-Length) cannot be bounded: a clear error, no exec left behind.
  const streamed = await api(stack, filesPath('shell', 'main', join(dir, 'tree')), {
    method: 'PUT',
    body: new ReadableStream({ start: (c) => (c.enqueue(archive), c.close()) }),
    headers: { 'content-type': 'application/x-tar' },
    signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS),
  });
  assert.equal(streamed.status, 400);
  assert.match(((await streamed.json()) as { message: string }).message, /Content-Length/);
  await assertNoToolResidue(stack);
});

test('v4 without tar in the image: `head -c N > PATH` writes the file, same SHA-256', async (t) => {
  // A "container" whose PATH has sh, head and cat but no tar.
  const bin = await scratch(t);
  await symlink('/bin/sh', join(bin, 'sh'));
  await symlink('/usr/bin/head', join(bin, 'head'));
  await symlink('/bin/cat', join(bin, 'cat'));
  const stack = await v4Stack(t, { PATH: bin, LANG: 'C.UTF-8' });
  const dir = await scratch(t);
  const data = randomBytes(2 * 1024 * 1024 + 3);
  const up = await put(stack, join(dir, 'plain.bin'), data);
  assert.equal(up.status, 200, await up.clone().text());
  assert.deepEqual(await up.json(), { path: join(dir, 'plain.bin'), bytes: data.length, via: 'cat' });
  assert.equal(sha(await readFile(join(dir, 'plain.bin'))), sha(data));
  await assertNoToolResidue(stack);
});
