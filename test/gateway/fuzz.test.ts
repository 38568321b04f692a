/**
 * Issue 8 item 1: 10,000 random requests (paths, queries, headers, methods; valid and invalid
 * credentials; percent garbage, raw high bytes, long values, a few broken request lines) against a
 * real gateway on keep-alive connections. Afterwards the process saw no uncaught exception or
 * unhandled rejection, the gateway still serves, and every answer was a sane status with a JSON
 * `{code, message}` body (or the page, plain text, or the static file it asked for).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN_TOKEN, RESTRICTED_TOKEN, startStack, assertNoResidue } from '../helpers/gateway-stack.js';
import { RawConnection, type NoResponse, type RawResponse } from '../helpers/raw-http.js';

const REQUESTS = 10_000;
const CONNECTIONS = 16;

/** mulberry32: a small seeded PRNG, so a failure can be replayed with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Fuzzer {
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

function fuzzer(seed: number): Fuzzer {
  const r = prng(seed);
  return {
    int: (n) => Math.floor(r() * n),
    pick: (xs) => xs[Math.floor(r() * xs.length)] as (typeof xs)[number],
    chance: (p) => r() < p,
  };
}

// Bytes that may appear raw in a request target without breaking the request line (no SP, CR, LF).
const URL_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/%?#[]{}|\\^`\"<>";

function randomChars(f: Fuzzer, alphabet: string, max: number): string {
  let s = '';
  for (let i = f.int(max) + 1; i > 0; i--) s += alphabet[f.int(alphabet.length)];
  return s;
}

function highBytes(f: Fuzzer, max: number): string {
  let s = '';
  for (let i = f.int(max) + 1; i > 0; i--) s += String.fromCharCode(0x80 + f.int(0x80));
  return s;
}

function segment(f: Fuzzer): string {
  switch (f.int(9)) {
    case 0: return f.pick(['default', 'load', 'kube-system', 'nope', 'shell']);
    case 1: return f.pick(['%ff', '%E0%A4%A', '%', '%%', '%zz', '%00', '%2e%2e', '%2F', '%c0%af', '%ed%a0%80']);
    case 2: return randomChars(f, URL_CHARS.replace(/[?#]/g, ''), 20);
    case 3: return highBytes(f, 10);
    case 4: return 'a'.repeat(500 + f.int(3000));
    case 5: return f.pick(['..', '.', '.env', 'index.html', 'main.js', 'favicon.svg', 'styles.css']);
    case 6: return encodeURIComponent(randomChars(f, URL_CHARS, 10));
    case 7: return '';
    default: return randomChars(f, 'abcdefghijklmnopqrstuvwxyz0123456789-', 70);
  }
}

function path(f: Fuzzer): string {
  const s = (): string => segment(f);
  switch (f.int(10)) {
    case 0: return '/';
    case 1: return f.pick(['/healthz', '/readyz', '/metrics', '/api/v1/namespaces', '/ws/exec']);
    case 2: case 3: return `/api/v1/namespaces/${s()}/pods`;
    case 4: return `/${s()}`;
    case 5: return `/api/v1/namespaces/${s()}`;
    case 6: return `/api/v1/${s()}/${s()}/${s()}`;
    case 7: return `/${s()}/${s()}`;
    case 8: return `//${s()}`;
    default: return `/${randomChars(f, URL_CHARS.replace(/[?#]/g, ''), 60)}`;
  }
}

function query(f: Fuzzer): string {
  if (f.chance(0.5)) return '';
  const parts: string[] = [];
  for (let i = f.int(5); i >= 0; i--) {
    const k = f.pick(['token', 'namespace', 'pod', 'container', 'cols', 'rows', 'command', randomChars(f, URL_CHARS, 8)]);
    const v = f.pick([segment(f), ADMIN_TOKEN, String(f.int(100_000)), '-1', '1e3', '%ff', '']);
    parts.push(f.chance(0.1) ? k : `${k}=${v}`);
  }
  return `?${parts.join('&')}`;
}

function headerValue(f: Fuzzer): string {
  switch (f.int(5)) {
    case 0: return randomChars(f, URL_CHARS + ' ', 40);
    case 1: return highBytes(f, 30);
    case 2: return 'v'.repeat(1000 + f.int(4000));
    case 3: return '';
    default: return String(f.int(1_000_000));
  }
}

interface Built {
  bytes: string;
  head: boolean;
  /** Malformed on purpose: uWS itself may drop the connection without an answer. */
  broken: boolean;
}

function build(f: Fuzzer, cookie: string): Built {
  const method = f.pick(['GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'HEAD', 'TRACE', 'FOO']);
  const headers: string[] = ['Host: 127.0.0.1'];
  switch (f.int(7)) {
    case 0: headers.push(`Authorization: Bearer ${ADMIN_TOKEN}`); break;
    case 1: headers.push(`Authorization: Bearer ${RESTRICTED_TOKEN}`); break;
    case 2: headers.push(`Authorization: ${f.pick(['Bearer', 'Basic', 'bearer', 'Bearer  ', 'Token'])} ${headerValue(f)}`); break;
    case 3: headers.push(`Cookie: ${cookie}`); break;
    case 4: headers.push(`Cookie: ${f.pick(['podterm_session=', 'a=b; podterm_session=', ''])}${headerValue(f)}`); break;
    default: break;
  }
  for (let i = f.int(4); i > 0; i--) {
    const name = f.pick(['X-Forwarded-Proto', 'Origin', 'Accept', 'Sec-WebSocket-Version', 'Sec-WebSocket-Protocol', 'Sec-WebSocket-Key', 'Cookie', 'Authorization', randomChars(f, 'abcdefghijklmnopqrstuvwxyz-', 20)]);
    headers.push(`${name}: ${headerValue(f)}`);
  }
  let body = '';
  if (f.chance(0.05)) {
    // Conflicting lengths: answered with 400 and the connection closed.
    headers.push('Content-Length: 1', 'Content-Length: 2');
    body = 'xy';
  } else if (method !== 'GET' && method !== 'HEAD' && f.chance(0.3)) {
    body = randomChars(f, URL_CHARS, 200);
    headers.push(`Content-Length: ${body.length}`);
  }
  let target = path(f) + query(f);
  if (f.chance(0.1)) {
    // A WebSocket upgrade attempt, mostly well-formed, so the upgrade handler sees every branch.
    target = `/ws/exec${f.chance(0.5) ? `?namespace=${f.pick(['default', 'load', '%ff', segment(f)])}&pod=${f.pick(['shell', 'nope', segment(f)])}` : query(f)}`;
    headers.push('Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${f.pick(['dGhlIHNhbXBsZSBub25jZQ==', headerValue(f)])}`);
    headers.push(`Sec-WebSocket-Version: ${f.pick(['13', '13', '13', '8', headerValue(f)])}`);
    if (f.chance(0.8)) headers.push(`Sec-WebSocket-Protocol: ${f.pick(['podterm.v1', 'x, podterm.v1', headerValue(f)])}`);
    if (f.chance(0.3)) headers.push(`Origin: ${f.pick(['http://127.0.0.1', 'http://evil.example', headerValue(f)])}`);
  }
  if (f.chance(0.02)) {
    // Broken on purpose: bare LF, a NUL, a space in the target, or no version.
    const bytes = f.pick([`GET ${target} HTTP/1.1\nHost: x\n\n`, `GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n`, `GET /a b HTTP/1.1\r\n\r\n`, `GET /\r\n\r\n`]);
    return { bytes, head: false, broken: true };
  }
  // uWS's parser drops a connection with a method it does not know (FOO) before any handler runs.
  return { bytes: `${method} ${target} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n${body}`, head: method === 'HEAD', broken: method === 'FOO' };
}

/** Returns a complaint about this answer, or undefined when it is sane. */
function complaint(b: Built, r: RawResponse | NoResponse): string | undefined {
  // A malformed request may get no answer: uWS drops it, or waits for a header end that never comes.
  if (r.kind === 'none') return b.broken ? undefined : `no answer (${r.reason})`;
  if (r.status >= 500) return `status ${r.status}`;
  if (r.status === 101) return undefined;
  const type = r.headers.get('content-type')?.[0] ?? '';
  if (type.startsWith('application/json')) {
    if (b.head) return undefined;
    try {
      const v = JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
      if (r.status >= 400 && (typeof v.code !== 'string' || typeof v.message !== 'string')) return `JSON without {code, message}: ${r.body.toString()}`;
    } catch {
      return `invalid JSON: ${r.body.toString().slice(0, 200)}`;
    }
    return undefined;
  }
  // Not JSON: the page (200, or 401 asking for the token), plain text answers, or a static file.
  if (r.status === 401 && type.startsWith('text/html')) return undefined;
  if (r.status < 400 && type !== '') return undefined;
  return `status ${r.status} with content type ${JSON.stringify(type)}`;
}

test('10,000 random requests: the gateway stays up and every answer is sane', async (t) => {
  const failures: unknown[] = [];
  const onFailure = (err: unknown): void => {
    failures.push(err);
  };
  process.on('uncaughtException', onFailure);
  process.on('unhandledRejection', onFailure);
  t.after(() => {
    process.off('uncaughtException', onFailure);
    process.off('unhandledRejection', onFailure);
  });

  const stack = await startStack(t, { workers: 0 });
  const login = await fetch(`${stack.url}/?token=${ADMIN_TOKEN}`, { redirect: 'manual' });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const seed = Number(process.env.PODTERM_FUZZ_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`seed ${seed} (PODTERM_FUZZ_SEED replays it)`);

  const statuses = new Map<string, number>();
  const bad: string[] = [];
  const started = Date.now();
  let next = 0;
  const lane = async (id: number): Promise<void> => {
    const f = fuzzer(seed * 1000 + id);
    let conn = await RawConnection.open(stack.gateway.port);
    try {
      while (next < REQUESTS) {
        next++;
        const b = build(f, cookie);
        const r = await conn.request(b.bytes, { head: b.head, timeoutMs: b.broken ? 300 : 10_000 });
        const key = r.kind === 'none' ? `none-${r.reason}` : String(r.status);
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        const why = complaint(b, r);
        if (why && bad.length < 20) bad.push(`${why} for ${JSON.stringify(b.bytes.slice(0, 300))}`);
        if (r.kind === 'none' || r.status === 101 || r.closedAfter || conn.closed) {
          conn.close();
          conn = await RawConnection.open(stack.gateway.port);
        }
      }
    } finally {
      conn.close();
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => lane(i)));
  t.diagnostic(`${REQUESTS} requests in ${Date.now() - started} ms; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);

  assert.deepEqual(bad, [], 'every answer sane');
  assert.deepEqual(failures, [], 'no uncaught exception or unhandled rejection');
  assert.equal((await fetch(`${stack.url}/healthz`)).status, 200);
  await assertNoResidue(stack);
});
