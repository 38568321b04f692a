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
 */
export async function heapAfterGc(inspectorUrl: string, timeoutMs = 15000): Promise<number> {
  const ws = new WebSocket(inspectorUrl, { perMessageDeflate: false });
  const timer = setTimeout(() => ws.terminate(), timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    let nextId = 1;
    const call = (method: string): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const onMessage = (data: WebSocket.RawData): void => {
          const msg = JSON.parse(data.toString()) as { id?: number; result?: Record<string, unknown>; error?: unknown };
          if (msg.id !== id) return;
          ws.off('message', onMessage);
          if (msg.error) reject(new Error(`${method}: ${JSON.stringify(msg.error)}`));
          else resolve(msg.result ?? {});
        };
        ws.on('message', onMessage);
        ws.once('close', () => reject(new Error(`${method}: inspector closed`)));
        ws.send(JSON.stringify({ id, method }));
      });
    // Twice: the first pass runs finalizers that free more on the second.
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const usage = await call('Runtime.getHeapUsage');
    return Number(usage.usedSize);
  } finally {
    clearTimeout(timer);
    ws.close();
  }
}
