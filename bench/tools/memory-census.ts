/**
 * Where the RSS of idle sessions goes (issue 11): the sandbox and a gateway as the bench starts them,
 * a warm-up, then two batches of N idle sessions (load/echo). Before and after each batch, every
 * thread's heap is collected (inspector) and the gateway is read three ways:
 * - its mappings (/proc/PID/smaps): glibc's thread arenas (64 MiB-aligned anonymous mappings), other
 *   anonymous memory (V8's heap pages, large mallocs, the escaper's WebAssembly memory), files;
 * - glibc's own count of bytes in use and bytes held (`malloc_stats()`, called in the gateway by gdb
 *   attached for a moment; it prints to the gateway's stderr);
 * - V8's heap used and committed, summed over the threads.
 * What a batch adds, divided by its sessions, tells a feature's real allocations (in use: the same
 * every run) from allocator and heap slack (held but free: it moves from run to run).
 * Usage (after a build; needs gdb and ptrace rights over the gateway, as root here):
 *   node dist/bench/tools/memory-census.js [--sessions 2000] [--workers 1] [--gateway-arg ARG]...
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { GatewayHandle } from '../lib/cluster.js';
import { heapUsageAfterGc } from '../lib/metrics.js';
import { gatewaySettled, sleep } from '../scenarios/context.js';
import { openSpread } from '../scenarios/capacity.js';
import { withToolStack } from './tool-stack.js';

interface Options {
  sessions: number;
  workers: number;
  gatewayArgs: string[];
}

function parse(argv: readonly string[]): Options {
  const o: Options = { sessions: 2000, workers: 1, gatewayArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--sessions' && v) o.sessions = Number(v), i++;
    else if (a === '--workers' && v) o.workers = Number(v), i++;
    else if (a === '--gateway-arg' && v) o.gatewayArgs.push(v), i++;
    else if (a?.startsWith('--gateway-arg=')) o.gatewayArgs.push(a.slice('--gateway-arg='.length));
    else throw new Error(`memory-census: unknown argument ${a}`);
  }
  return o;
}

const ARENA_ALIGN = 64n << 20n; // glibc HEAP_MAX_SIZE on 64-bit: thread arenas start on this boundary

interface Reading {
  /** RSS by kind of mapping, bytes. */
  rss: { arena: number; heap: number; anon: number; file: number; total: number };
  /** glibc malloc_stats() totals, bytes. */
  mallocInUse: number;
  mallocHeld: number;
  v8Used: number;
  v8Committed: number;
}

function mappings(pid: number): Reading['rss'] {
  const out = { arena: 0, heap: 0, anon: 0, file: 0, total: 0 };
  let kind: keyof typeof out | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (m) {
      const [start, end, name] = [BigInt(`0x${m[1]}`), BigInt(`0x${m[2]}`), m[3] ?? ''];
      if (name === '[heap]') kind = 'heap';
      else if (name.startsWith('[')) kind = 'anon';
      else if (name) kind = 'file';
      else kind = start % ARENA_ALIGN === 0n && end - start <= ARENA_ALIGN ? 'arena' : 'anon';
      continue;
    }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r && kind) {
      out[kind] += Number(r[1]) * 1024;
      out.total += Number(r[1]) * 1024;
    }
  }
  return out;
}

/** glibc's totals, printed by malloc_stats() into the gateway's stderr (gdb stops it for a moment). */
async function mallocStats(gw: GatewayHandle): Promise<{ inUse: number; held: number }> {
  await new Promise<void>((resolve, reject) => {
    const gdb = spawn('gdb', ['-p', String(gw.pid), '-batch', '-ex', 'call (void)malloc_stats()'], { stdio: 'ignore' });
    gdb.once('error', reject);
    // gdb exits 1 here after the call ("Couldn't write extended state status"); the output is what counts.
    gdb.once('exit', () => resolve());
  });
  await sleep(500); // the stderr pipe
  const tail = gw.child.stderrTail();
  const m = /Total \(incl\. mmap\):\s*system bytes\s*=\s*(\d+)\s*in use bytes\s*=\s*(\d+)/.exec(tail.slice(tail.lastIndexOf('Total (incl. mmap)')));
  if (!m) throw new Error('memory-census: no malloc_stats() output from the gateway (is gdb allowed to attach?)');
  return { held: Number(m[1]), inUse: Number(m[2]) };
}

async function read(gw: GatewayHandle): Promise<Reading> {
  const v8 = await heapUsageAfterGc(gw.inspectorUrl as string, 30000, true);
  const rss = mappings(gw.pid);
  const m = await mallocStats(gw);
  return { rss, mallocInUse: m.inUse, mallocHeld: m.held, v8Used: v8.used, v8Committed: v8.total };
}

function perSession(a: Reading, b: Reading, n: number): Record<string, number> {
  const k = (x: number): number => Math.round((x / n / 1024) * 100) / 100;
  return {
    rssTotal: k(b.rss.total - a.rss.total),
    rssArenas: k(b.rss.arena - a.rss.arena),
    rssOtherAnon: k(b.rss.anon - a.rss.anon),
    mallocInUse: k(b.mallocInUse - a.mallocInUse),
    mallocHeld: k(b.mallocHeld - a.mallocHeld),
    v8Used: k(b.v8Used - a.v8Used),
    v8Committed: k(b.v8Committed - a.v8Committed),
  };
}

async function run(o: Options): Promise<void> {
  await withToolStack('memory-census', { workers: o.workers, gatewayArgs: o.gatewayArgs, warmups: 4 }, async ({ gw, agent, conn }) => {
    await sleep(1000);
    const readings = [await read(gw)];
    for (const batch of [1, 2]) {
      const opened = await openSpread([agent], conn, o.sessions, 100);
      await sleep(3000);
      readings.push(await read(gw));
      const row = { batch, opened: opened.opened, failed: opened.failed, kibPerSession: perSession(readings[batch - 1] as Reading, readings[batch] as Reading, Math.max(1, opened.opened)) };
      console.log(JSON.stringify(row));
    }
    await agent.call('close', { timeoutMs: 60000 }, 90000);
    await gatewaySettled(gw, 60000);
  });
}

await run(parse(process.argv.slice(2)));
