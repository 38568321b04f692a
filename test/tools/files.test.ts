/**
 * Files through the gateway into a sandbox pod (whose "container" is a host shell, so the paths
 * are host paths in a scratch folder): upload then download a file and a directory tree with equal
 * SHA-256, a tar that climbs out with `../` refused, errors before the first byte as JSON.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import tar from 'tar-stream';
import { api, assertNoToolResidue, filesPath, toolStack } from './tool-stack.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function scratch(t: { after(f: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-files-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A tar of `entries` built in memory (small archives only). */
async function tarOf(entries: Array<{ name: string; type?: 'file' | 'directory' | 'symlink'; body?: Buffer; linkname?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory' });
    else if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: e.linkname ?? '' });
    else pack.entry({ name: e.name }, e.body ?? Buffer.alloc(0));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Entries of a tar as name -> sha256 (files) or type. */
async function tarListing(body: Buffer): Promise<Record<string, string>> {
  const ex = tar.extract();
  const out: Record<string, string> = {};
  Readable.from([body]).pipe(ex as unknown as NodeJS.WritableStream);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out[e.header.name.replace(/\/$/, '')] = e.header.type === 'file' ? sha(Buffer.concat(chunks)) : e.header.type;
  }
  return out;
}

test('upload then download a 100 MB file: same SHA-256, Content-Length known, no residue', async (t) => {
  const stack = await toolStack(t);
  const dir = await scratch(t);
  const data = randomBytes(100 * 1024 * 1024);
  const target = join(dir, 'big.bin');
  const up = await api(stack, filesPath('shell', 'main', target), { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(up.status, 200, await up.clone().text());
  assert.deepEqual(await up.json(), { path: target, bytes: data.length, via: 'tar' });
  assert.equal(sha(await readFile(target)), sha(data));

  const down = await api(stack, filesPath('shell', 'main', target));
  assert.equal(down.status, 200);
  assert.equal(down.headers.get('content-length'), String(data.length));
  assert.equal(down.headers.get('x-podterm-kind'), 'file');
  assert.match(down.headers.get('content-disposition') ?? '', /filename="big.bin"/);
  assert.equal(sha(Buffer.from(await down.arrayBuffer())), sha(data));
  await assertNoToolResidue(stack);
});

test('upload a directory tree as a tar, download it back as a tar: same files', async (t) => {
  const stack = await toolStack(t);
  const dir = await scratch(t);
  const files = { 'a.txt': randomBytes(1000), 'sub/b.bin': randomBytes(300_000), 'sub/deeper/c': Buffer.from('c\n') };
  const archive = await tarOf([
    { name: 'sub', type: 'directory' },
    { name: 'sub/deeper', type: 'directory' },
    ...Object.entries(files).map(([name, body]) => ({ name, body })),
    { name: 'sub/link', type: 'symlink', linkname: '../a.txt' },
  ]);
  await mkdir(join(dir, 'tree'));
  const up = await api(stack, filesPath('shell', 'main', join(dir, 'tree')), { method: 'PUT', body: archive, headers: { 'content-type': 'application/x-tar' } });
  assert.equal(up.status, 200, await up.clone().text());
  for (const [name, body] of Object.entries(files)) assert.equal(sha(await readFile(join(dir, 'tree', name))), sha(body), name);

  const down = await api(stack, filesPath('shell', 'main', join(dir, 'tree')));
  assert.equal(down.status, 200);
  assert.equal(down.headers.get('content-type'), 'application/x-tar');
  assert.match(down.headers.get('content-disposition') ?? '', /filename="tree.tar"/);
  const listing = await tarListing(Buffer.from(await down.arrayBuffer()));
  for (const [name, body] of Object.entries(files)) assert.equal(listing[`tree/${name}`], sha(body), name);
  assert.equal(listing['tree/sub/link'], 'symlink');
  await assertNoToolResidue(stack);
});

test('a tar with ../, an absolute name or a symlink out is refused; nothing lands outside', async (t) => {
  const stack = await toolStack(t);
  const dir = await scratch(t);
  await mkdir(join(dir, 'in'));
  const cases = [
    [{ name: '../escaped.txt', body: Buffer.from('x') }],
    [{ name: `${dir}/abs.txt`, body: Buffer.from('x') }],
    [{ name: 'out', type: 'symlink' as const, linkname: '../../etc' }],
    [{ name: 'sub/../../x', body: Buffer.from('x') }],
  ];
  for (const entries of cases) {
    const res = await api(stack, filesPath('shell', 'main', join(dir, 'in')), { method: 'PUT', body: await tarOf(entries), headers: { 'content-type': 'application/x-tar' } });
    assert.equal(res.status, 400, entries[0]!.name);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, 'BadRequest');
    assert.match(body.message, /outside the target directory/);
  }
  await assert.rejects(readFile(join(dir, 'escaped.txt')));
  await assert.rejects(readFile(join(dir, 'abs.txt')));
  await assertNoToolResidue(stack);
});

test('errors before the first byte are JSON: no such file, bad path, too large, no container', async (t) => {
  const stack = await toolStack(t, { maxUploadBytes: 1024 });
  const dir = await scratch(t);
  const missing = await api(stack, filesPath('shell', 'main', join(dir, 'nope')));
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { code: 'NotFound', message: `No such file or directory: ${join(dir, 'nope')}` });

  const relative = await api(stack, filesPath('shell', 'main', 'etc/passwd'));
  assert.equal(relative.status, 400);
  const noContainer = await api(stack, `/api/v1/namespaces/default/pods/shell/files?path=/tmp`);
  assert.equal(noContainer.status, 400);

  const big = await api(stack, filesPath('shell', 'main', join(dir, 'big')), { method: 'PUT', body: randomBytes(4096) });
  assert.equal(big.status, 413);
  assert.equal(((await big.json()) as { code: string }).code, 'MessageTooBig');
  const anon = await fetch(stack.url + filesPath('shell', 'main', join(dir, 'x')));
  assert.equal(anon.status, 401);

  // Upload into a directory that does not exist: tar's own words, mapped.
  const noDir = await api(stack, filesPath('shell', 'main', join(dir, 'no/such/dir/f')), { method: 'PUT', body: Buffer.from('hi') });
  assert.equal(noDir.status, 404);
  await assertNoToolResidue(stack);
});

test('a file with an empty body and a symlinked directory download', async (t) => {
  const stack = await toolStack(t);
  const dir = await scratch(t);
  const up = await api(stack, filesPath('shell', 'main', join(dir, 'empty')), { method: 'PUT', body: Buffer.alloc(0) });
  assert.equal(up.status, 200);
  const down = await api(stack, filesPath('shell', 'main', join(dir, 'empty')));
  assert.equal(down.status, 200);
  assert.equal((await down.arrayBuffer()).byteLength, 0);
  // A symlink pointing out of the downloaded directory is left out, as kubectl cp does.
  await mkdir(join(dir, 'd'));
  await writeFile(join(dir, 'd', 'f'), 'f');
  await symlink('/etc/hostname', join(dir, 'd', 'out'));
  const listing = await tarListing(Buffer.from(await (await api(stack, filesPath('shell', 'main', join(dir, 'd')))).arrayBuffer()));
  assert.deepEqual(Object.keys(listing).sort(), ['d', 'd/f']);
  await assertNoToolResidue(stack);
});

test('a 1 GiB download streams with bounded memory (the gateway never holds the file)', async (t) => {
  const stack = await toolStack(t);
  const dir = await scratch(t);
  const big = join(dir, 'big');
  // Made "in the pod": the sandbox's containers are host shells, so this is the pod's file.
  execFileSync('sh', ['-c', `head -c 1G /dev/zero > '${big}'`]);
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
  t.after(() => clearInterval(sampler));
  const res = await api(stack, filesPath('shell', 'main', big));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(1 << 30));
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.byteLength;
    hash.update(chunk);
  }
  clearInterval(sampler);
  assert.equal(bytes, 1 << 30);
  assert.equal(hash.digest('hex'), execFileSync('sh', ['-c', `sha256sum '${big}' | cut -d' ' -f1`]).toString().trim());
  // Sandbox, gateway and client share this process; 1 GiB through it must not grow it by much.
  assert.ok(rssPeak - rssBefore < 300 * 1024 * 1024, `RSS grew by ${Math.round((rssPeak - rssBefore) / 1048576)} MiB`);
  await assertNoToolResidue(stack);
});
