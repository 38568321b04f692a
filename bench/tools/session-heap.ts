/**
 * JS heap per idle session, by constructor (issue 13): the sandbox and a gateway (`--workers 0`, so
 * every actor's heap is the main thread's, reachable by the inspector) as child processes the way
 * bench/ starts them, one load agent, a warm-up, then a heap snapshot with no session and one with
 * N idle sessions open (each echoed its prompt). The difference / N, per constructor, is printed as a
 * table and one JSON line. Deterministic in what it counts (objects, bytes), unlike RSS or timings.
 * Usage (after a build):
 *   node dist/bench/tools/session-heap.js [--sessions 1000] [--top 40] [--detail DEPTH] [--workers N] [--gateway-arg ARG]...
 * `--workers N` (default 0) snapshots the main thread only: its share of each session with workers;
 * `--thread worker` snapshots the first worker thread instead (through the inspector's NodeWorker
 * domain), so both halves of a session with workers can be told apart.
 * `--detail` splits closures, plain objects, contexts, promises, timers and strings by their first
 * retainers (`Holder.edge`, DEPTH of them).
 */
import WebSocket from 'ws';
import { sleep } from '../scenarios/context.js';
import { openSpread } from '../scenarios/capacity.js';
import { withToolStack } from './tool-stack.js';

interface Options {
  sessions: number;
  top: number;
  gatewayArgs: string[];
  /** Retainer path depth for the detailed keys; 0 = none. */
  detail: number;
  /** 0: every actor on the main thread (the whole session); N: the main thread's share only. */
  workers: number;
  /** Which thread's heap: the main thread, or the first worker (needs --workers >= 1). */
  thread: 'main' | 'worker';
}

function parse(argv: readonly string[]): Options {
  const o: Options = { sessions: 1000, top: 40, gatewayArgs: [], detail: 0, workers: 0, thread: 'main' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--sessions' && v) o.sessions = Number(v), i++;
    else if (a === '--top' && v) o.top = Number(v), i++;
    else if (a === '--detail' && v) o.detail = Number(v), i++;
    else if (a === '--workers' && v) o.workers = Number(v), i++;
    else if (a === '--gateway-arg' && v) o.gatewayArgs.push(v), i++;
    else if (a === '--thread' && (v === 'main' || v === 'worker')) o.thread = v, i++;
    else throw new Error(`session-heap: unknown argument ${a}`);
  }
  if (o.thread === 'worker' && o.workers < 1) throw new Error('session-heap: --thread worker needs --workers 1 or more');
  return o;
}

/** A minimal inspector client: one socket, calls by id, HeapProfiler chunks gathered. */
class Inspector {
  readonly #ws: WebSocket;
  #next = 1;
  readonly #pending = new Map<number, (r: { result?: Record<string, unknown>; error?: unknown }) => void>();
  #chunks: string[] = [];
  /** The NodeWorker session every call is relayed into; '' = the main thread. */
  #session = '';
  readonly #workers: string[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: WebSocket.RawData) => {
      type Msg = { id?: number; method?: string; params?: { chunk?: string; sessionId?: string; message?: string }; result?: Record<string, unknown>; error?: unknown };
      let msg = JSON.parse(data.toString()) as Msg;
      if (msg.method === 'NodeWorker.attachedToWorker') this.#workers.push(String(msg.params?.sessionId));
      // A worker's replies and events come wrapped; its ids are our inner ids.
      if (msg.method === 'NodeWorker.receivedMessageFromWorker') msg = JSON.parse(String(msg.params?.message)) as Msg;
      if (msg.method === 'HeapProfiler.addHeapSnapshotChunk') this.#chunks.push(msg.params?.chunk ?? '');
      else if (msg.id !== undefined) this.#pending.get(msg.id)?.(msg);
    });
  }

  /** Relays every later call into the first worker thread's inspector session. */
  async useFirstWorker(): Promise<void> {
    await this.call('NodeWorker.enable', { waitForDebuggerOnStart: false });
    const first = this.#workers[0];
    if (!first) throw new Error('session-heap: the gateway has no worker thread');
    this.#session = first;
  }

  static async connect(url: string): Promise<Inspector> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Inspector(ws);
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (m) => {
        this.#pending.delete(id);
        if (m.error) reject(new Error(`${method}: ${JSON.stringify(m.error)}`));
        else resolve(m.result ?? {});
      });
      const inner = { id, method, params };
      // The wrapper's own reply has an id of its own (negative, never awaited).
      this.#ws.send(JSON.stringify(this.#session ? { id: -id, method: 'NodeWorker.sendMessageToWorker', params: { sessionId: this.#session, message: JSON.stringify(inner) } } : inner));
    });
  }

  async snapshot(): Promise<string> {
    this.#chunks = [];
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    const text = this.#chunks.join('');
    this.#chunks = [];
    return text;
  }

  close(): void {
    this.#ws.close();
  }
}

interface Census {
  /** key -> [count, self bytes] */
  byKey: Map<string, [number, number]>;
  total: number;
  usedSize: number;
}

/** Counts a snapshot's nodes by type and name (objects by constructor; closures, strings... by type). */
const DETAILED = new Set(['closure', 'object:Object', 'object:system / Context', 'object:Promise', 'object:Timeout', 'object:Array', 'string', 'array:', 'array:(object properties)', 'hidden:system / PropertyArray']);

/** node index -> "Holder.edge" for its first retainer that is not a system node. */
function retainers(snap: { snapshot: { meta: { node_fields: string[]; edge_fields: string[]; edge_types: [string[]] } }; nodes: number[]; edges: number[]; strings: string[] }, width: number, depth: number): Map<number, string> {
  const nf = snap.snapshot.meta.node_fields;
  const ef = snap.snapshot.meta.edge_fields;
  const etypes = snap.snapshot.meta.edge_types[0];
  const fName = nf.indexOf('name');
  const fEdges = nf.indexOf('edge_count');
  const ew = ef.length;
  const eType = ef.indexOf('type');
  const eName = ef.indexOf('name_or_index');
  const eTo = ef.indexOf('to_node');
  const parent = new Map<number, [number, string]>();
  let e = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const count = snap.nodes[i + fEdges] as number;
    for (let k = 0; k < count; k++, e += ew) {
      const t = etypes[snap.edges[e + eType] as number];
      if (t === 'weak' || t === 'shortcut') continue;
      const to = (snap.edges[e + eTo] as number) / width;
      if (parent.has(to)) continue;
      const raw = snap.edges[e + eName] as number;
      const edge = t === 'element' || t === 'hidden' ? `[${t}]` : snap.strings[raw] ?? '?';
      parent.set(to, [i / width, edge]);
    }
  }
  const nameOf = (n: number): string => (snap.strings[snap.nodes[n * width + fName] as number] ?? '?').slice(0, 40);
  const out = new Map<number, string>();
  for (const [node, [p, edge]] of parent) {
    // Up to three holders: `Session.#sockets <- ...` reads from the object outwards.
    let path = `${nameOf(p)}.${edge}`;
    let cur = p;
    for (let d = 0; d < depth - 1; d++) {
      const up = parent.get(cur);
      if (!up) break;
      path = `${nameOf(up[0])}.${up[1]} > ${path}`;
      cur = up[0];
    }
    out.set(node, path);
  }
  return out;
}

function census(text: string, usedSize: number, detail = 0): Census {
  const snap = JSON.parse(text) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } }; nodes: number[]; edges: number[]; strings: string[] };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const fType = fields.indexOf('type');
  const fName = fields.indexOf('name');
  const fSize = fields.indexOf('self_size');
  const byKey = new Map<string, [number, number]>();
  let total = 0;
  // With --detail: who holds each small object (its first retainer's name and edge), so a closure or
  // a plain object is told apart by where it hangs, not only by its type.
  const holder = detail ? retainers(snap, width, detail) : undefined;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + fType] as number] as string;
    const name = snap.strings[snap.nodes[i + fName] as number] as string;
    const size = snap.nodes[i + fSize] as number;
    let key: string;
    if (type === 'object' || type === 'native') key = `${type}:${name}`;
    else if (type === 'closure') key = 'closure';
    else if (type.includes('string')) key = 'string';
    else if (type === 'hidden' || type === 'array' || type === 'code' || type === 'object shape') key = `${type}:${name.startsWith('system /') ? name : name.length > 30 ? '(other)' : name}`;
    else key = type;
    if (holder && DETAILED.has(key)) key = `${key} <- ${holder.get(i / width) ?? '?'}`;
    const e = byKey.get(key) ?? [0, 0];
    e[0]++;
    e[1] += size;
    byKey.set(key, e);
    total += size;
  }
  return { byKey, total, usedSize };
}

async function measure(inspector: Inspector, detail: number): Promise<Census> {
  const text = await inspector.snapshot();
  const usage = await inspector.call('Runtime.getHeapUsage');
  return census(text, Number(usage.usedSize), detail);
}

async function run(o: Options): Promise<void> {
  await withToolStack('session-heap', { workers: o.workers, gatewayArgs: o.gatewayArgs, warmups: 20 }, async ({ inspectorUrl, agent, conn }) => {
    const inspector = await Inspector.connect(inspectorUrl);
    try {
      if (o.thread === 'worker') await inspector.useFirstWorker();
      const before = await measure(inspector, o.detail);
      const opened = await openSpread([agent], conn, o.sessions, 50);
      await sleep(2000);
      const after = await measure(inspector, o.detail);
      const n = Math.max(1, opened.opened);
      const rows = [...new Set([...before.byKey.keys(), ...after.byKey.keys()])].map((k) => {
        const [c0, s0] = before.byKey.get(k) ?? [0, 0];
        const [c1, s1] = after.byKey.get(k) ?? [0, 0];
        return { key: k, count: (c1 - c0) / n, bytes: (s1 - s0) / n };
      });
      rows.sort((a, b) => b.bytes - a.bytes);
      const perSession = (after.total - before.total) / n;
      const usedPerSession = (after.usedSize - before.usedSize) / n;
      console.log(`sessions opened ${opened.opened} (failed ${opened.failed}); heap used per session ${usedPerSession.toFixed(0)} B; snapshot self sizes per session ${perSession.toFixed(0)} B`);
      console.log('per session: count   bytes  key');
      for (const r of rows.slice(0, o.top)) console.log(`${r.count.toFixed(2).padStart(12)} ${r.bytes.toFixed(0).padStart(7)}  ${r.key}`);
      console.log(JSON.stringify({ sessions: opened.opened, failed: opened.failed, heapUsedPerSession: usedPerSession, snapshotPerSession: perSession, rows: rows.filter((r) => Math.abs(r.count) >= 0.5 || Math.abs(r.bytes) >= 8) }));
      await agent.call('close', { timeoutMs: 60000 }, 90000);
    } finally {
      inspector.close();
    }
  });
}

await run(parse(process.argv.slice(2)));
