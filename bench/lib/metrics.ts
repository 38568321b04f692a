/**
 * Prometheus text scraping for the gateway's and the sandbox's /metrics, and a heap-after-GC probe
 * through the V8 inspector (the gateway is started with --inspect=127.0.0.1:0 for that), so the
 * churn residue is read without asking the gateway to cooperate.
 */
import { type Agent, request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import WebSocket from 'ws';

export type MetricSet = Map<string, number>;

/** Parses the Prometheus text format into `name{labels}` -> value (and `name` -> sum over labels). */
export function parseMetrics(text: string): MetricSet {
  const out: MetricSet = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const name = m[1] as string;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    if (m[2]) {
      out.set(name + m[2], value);
      out.set(name, (out.get(name) ?? 0) + value);
    } else {
      out.set(name, value);
    }
  }
  return out;
}

/** GET a URL (http or https) and return the body; rejects on non-2xx or after timeoutMs. */
export function fetchText(url: string, tls: RequestOptions = {}, timeoutMs = 5000, agent: Agent | false = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { ...(u.protocol === 'https:' ? tls : {}), method: 'GET', timeout: timeoutMs, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) >= 300) reject(new Error(`GET ${u.pathname}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
          else resolve(body);
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${u.pathname}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Scrapes /metrics, retrying a few times: a gateway at its open-files limit cannot accept a new
 * connection, which is why callers pass a keep-alive agent whose socket was opened beforehand.
 */
export async function scrape(baseUrl: string, tls: RequestOptions = {}, agent: Agent | false = false): Promise<MetricSet> {
  let last: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      return parseMetrics(await fetchText(new URL('/metrics', baseUrl).href, tls, 10000, agent));
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
    }
  }
  throw new Error(`GET ${baseUrl}/metrics failed 4 times: ${(last as Error).message}`);
}

/** Reads a metric by exact key, else by bare name; NaN when absent. */
export function metric(set: MetricSet, key: string): number {
  return set.get(key) ?? NaN;
}

/**
 * Forces a full GC in the target's main thread via the inspector protocol and returns the V8 heap
 * in use afterwards (bytes). `HeapProfiler.collectGarbage` is the same call DevTools' bin icon makes.
 * With `workers`, every worker thread is collected too (Node's `NodeWorker` domain relays the same
 * calls into each worker's own inspector session) and the sum over all threads is returned.
 */
export async function heapAfterGc(inspectorUrl: string, timeoutMs = 15000, workers = false): Promise<number> {
  return (await heapUsageAfterGc(inspectorUrl, timeoutMs, workers)).used;
}

/** heapAfterGc's reading with V8's committed heap size beside the used size (bytes, all threads asked). */
export async function heapUsageAfterGc(inspectorUrl: string, timeoutMs = 15000, workers = false): Promise<{ used: number; total: number }> {
  const ws = new WebSocket(inspectorUrl, { perMessageDeflate: false });
  const timer = setTimeout(() => ws.terminate(), timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    let nextId = 1;
    const pending = new Map<string, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
    const attached: string[] = [];
    ws.on('message', (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString()) as { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: unknown };
      let reply = msg;
      let session = '';
      if (msg.method === 'NodeWorker.attachedToWorker') attached.push(String(msg.params?.sessionId));
      if (msg.method === 'NodeWorker.receivedMessageFromWorker') {
        session = String(msg.params?.sessionId);
        reply = JSON.parse(String(msg.params?.message)) as typeof msg;
      }
      const waiter = reply.id === undefined ? undefined : pending.get(`${session}/${reply.id}`);
      if (!waiter) return;
      pending.delete(`${session}/${reply.id}`);
      if (reply.error) waiter.reject(new Error(JSON.stringify(reply.error)));
      else waiter.resolve(reply.result ?? {});
    });
    ws.once('close', () => {
      for (const w of pending.values()) w.reject(new Error('inspector closed'));
      pending.clear();
    });
    /** A call on the main thread (`session` '') or relayed into a worker's session. */
    const call = (method: string, params: Record<string, unknown> = {}, session = ''): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(`${session}/${id}`, { resolve, reject });
        const inner = { id, method, params };
        ws.send(JSON.stringify(session ? { id: nextId++, method: 'NodeWorker.sendMessageToWorker', params: { sessionId: session, message: JSON.stringify(inner) } } : inner));
      });
    if (workers) {
      // attachedToWorker arrives for each running worker before enable's reply.
      await call('NodeWorker.enable', { waitForDebuggerOnStart: false });
    }
    let used = 0;
    let total = 0;
    for (const session of ['', ...attached]) {
      // Twice: the first pass runs finalizers that free more on the second.
      await call('HeapProfiler.collectGarbage', {}, session);
      await call('HeapProfiler.collectGarbage', {}, session);
      const usage = await call('Runtime.getHeapUsage', {}, session);
      used += Number(usage.usedSize);
      total += Number(usage.totalSize);
    }
    if (workers) await call('NodeWorker.disable');
    return { used, total };
  } finally {
    clearTimeout(timer);
    ws.close();
  }
}
