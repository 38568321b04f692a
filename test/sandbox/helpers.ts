/** Shared helpers for the sandbox tests: a raw `ws` exec client and count assertions. */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';
import type { Sandbox } from '../../src/sandbox/index.js';

/** Polls until no exec stream and no process is left (they end asynchronously), then asserts it. */
export async function assertDrained(sb: Sandbox, withinMs = 5000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const s = sb.stats();
    if (s.execActive === 0 && s.processesActive === 0) return;
    await delay(20);
  }
  assert.deepEqual(sb.stats(), { execActive: 0, processesActive: 0 });
}

export interface ExecQuery {
  ns?: string;
  pod: string;
  container?: string;
  command?: string[];
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  tty?: boolean;
  /** Replaces the whole query string when given. */
  raw?: string;
  /** Default exec. */
  subresource?: 'exec' | 'attach';
}

export function execPath(q: ExecQuery): string {
  const base = `/api/v1/namespaces/${q.ns ?? 'default'}/pods/${q.pod}/${q.subresource ?? 'exec'}`;
  if (q.raw !== undefined) return `${base}?${q.raw}`;
  const p = new URLSearchParams();
  for (const c of q.command ?? []) p.append('command', c);
  if (q.container) p.set('container', q.container);
  for (const k of ['stdin', 'stdout', 'stderr', 'tty'] as const) p.set(k, String(q[k] ?? false));
  return `${base}?${p.toString()}`;
}

export interface Message {
  readonly data: Buffer;
  readonly binary: boolean;
}

export interface ExecClient {
  readonly ws: WebSocket;
  readonly messages: Message[];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves once a message satisfying `pred` has arrived (checks earlier ones too). */
  waitFor(pred: (msgs: Message[]) => boolean, ms?: number): Promise<void>;
}

/**
 * Opens a raw exec WebSocket. `protocols` null sends no Sec-WebSocket-Protocol header at all.
 * The socket is terminated in teardown if the test left it open.
 */
export function openExec(
  t: { after(fn: () => unknown): void },
  sb: Sandbox,
  q: ExecQuery,
  protocols: string[] | null = ['v5.channel.k8s.io'],
  token: string = sb.tokens.admin,
): ExecClient {
  const ws = new WebSocket(`${sb.url.replace('https', 'wss')}${execPath(q)}`, protocols ?? [], {
    ca: sb.caPem,
    headers: { Authorization: `Bearer ${token}` },
    perMessageDeflate: false,
  });
  t.after(() => ws.terminate());
  const messages: Message[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data, binary) => {
    messages.push({ data: Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer), binary });
    for (const w of waiters) w();
  });
  ws.on('error', () => {});
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected ${res.statusCode}`)));
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const waitFor = (pred: (msgs: Message[]) => boolean, ms = 5000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (pred(messages)) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        const seen = JSON.stringify(messages.slice(0, 20).map((m) => m.data.toString('latin1').slice(0, 200)));
        reject(new Error(`timed out after ${messages.length} messages; first: ${seen}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return { ws, messages, opened, closed, waitFor };
}

/** Per-channel view of binary-protocol messages (skipping none: the open frame shows as an empty payload). */
export function channels(messages: Message[], base64 = false): { channel: number; payload: Buffer }[] {
  return messages.map((m) =>
    base64
      ? { channel: (m.data[0] as number) - 0x30, payload: Buffer.from(m.data.subarray(1).toString('latin1'), 'base64') }
      : { channel: m.data[0] as number, payload: m.data.subarray(1) },
  );
}

export function channelText(messages: Message[], channel: number, base64 = false): string {
  return Buffer.concat(channels(messages, base64).filter((m) => m.channel === channel).map((m) => m.payload)).toString();
}

/** Expects the upgrade to be refused; returns the HTTP status and body. */
export function refusedUpgrade(
  sb: Sandbox,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<{ status: number; body: string; upgraded: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(`${sb.url}${path}`, { method, ca: sb.caPem, headers, agent: false });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), upgraded: false }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '', upgraded: true });
    });
    req.on('error', reject);
    req.end();
  });
}

export function wsUpgradeHeaders(token: string, protocols?: string): Record<string, string> {
  const h: Record<string, string> = {
    Authorization: `Bearer ${token}`,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
  };
  if (protocols !== undefined) h['Sec-WebSocket-Protocol'] = protocols;
  return h;
}

export function httpGet(sb: Sandbox, path: string, token?: string, accept?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    if (accept !== undefined) headers.Accept = accept;
    const req = request(`${sb.url}${path}`, { ca: sb.caPem, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** After sandbox.close(): nothing the sandbox started is left (execs, attaches, follows, watches, processes). */
export function assertStopped(sb: Sandbox): void {
  assert.deepEqual(sb.stats(), { execActive: 0, processesActive: 0 });
  assert.deepEqual(sb.toolStats(), { attachActive: 0, logStreamsActive: 0, watchesActive: 0, mainProcessesActive: 0, survivorsActive: 0 });
}
