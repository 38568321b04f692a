/**
 * What the internal hop between replicas adds to a keystroke (issue 10, "Cost": the forwarding hop
 * adds <= 1 ms to keystroke p50). In one run, as separate processes: the sandbox, replica A (holds
 * the sessions) and replica B (forwards), peers of each other; this process is the client.
 *   direct:    a session on A, typed into through A;
 *   forwarded: another session on A, dropped and resumed through B (browser -> B -> A -> B -> browser).
 * One key at a time, alternating direct and forwarded so both see the same machine load; the time
 * is from sending a key to the arrival of its echo (`load/echo`, the sandbox's in-process echo, so
 * the pod adds nothing but the exec stream).
 *
 * Usage: node dist/bench/hop-latency.js [--keys 2000] [--workers 2] [--out FILE]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ClientOp, decodeServerFrame, encode, ServerOp, SUBPROTOCOL } from '../src/protocol/index.js';
import { ChildSet } from './lib/children.js';
import { startGateway, startSandbox } from './lib/cluster.js';
import { round, summarize } from './lib/stats.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const KEYS = arg('keys', 2000);
const WORKERS = arg('workers', 2);
const WARMUP = 200;
const outIndex = process.argv.indexOf('--out');
const OUT = outIndex >= 0 ? process.argv[outIndex + 1] : undefined;

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => r(s));
  })));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** A minimal podterm.v1 client: open, the Started frame, one key and its echo. */
class Typist {
  readonly ws: WebSocket;
  readonly started: Promise<{ resumeToken: string; session: string }>;
  #waiting: ((at: bigint) => void) | undefined;
  #want = 0;

  constructor(url: string, token: string) {
    this.ws = new WebSocket(url, SUBPROTOCOL, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    this.ws.on('error', () => undefined);
    let onStarted!: (v: { resumeToken: string; session: string }) => void;
    this.started = new Promise((r) => (onStarted = r));
    this.ws.on('message', (data: Buffer) => {
      const at = process.hrtime.bigint();
      const f = decodeServerFrame(new Uint8Array(data));
      if (f[0] === ServerOp.Started) onStarted({ resumeToken: f[1].resumeToken as string, session: f[1].session });
      else if (f[0] === ServerOp.Stdout && this.#waiting && f[1].includes(this.#want)) {
        const done = this.#waiting;
        this.#waiting = undefined;
        done(at);
      }
    });
  }

  /** Milliseconds from sending `key` to the arrival of its echo. */
  key(key: number): Promise<number> {
    this.#want = key;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no echo within 5 s')), 5000);
      const t0 = process.hrtime.bigint();
      this.#waiting = (at) => {
        clearTimeout(timer);
        resolve(Number(at - t0) / 1e6);
      };
      this.ws.send(encode([ClientOp.Stdin, Uint8Array.of(key)]));
    });
  }

  close(code = 1000): Promise<void> {
    return new Promise((r) => {
      this.ws.once('close', () => r());
      this.ws.close(code);
    });
  }
}

async function main(): Promise<void> {
  const children = new ChildSet();
  process.once('exit', () => children.killNow());
  const dir = mkdtempSync(join(tmpdir(), 'podterm-hop-bench-'));
  try {
    const secretFile = join(dir, 'secret');
    writeFileSync(secretFile, randomBytes(32));
    const sandbox = await startSandbox(children);
    const [pa, pb] = (await freePorts(2)) as [number, number];
    const peers = `127.0.0.1:${pa},127.0.0.1:${pb}`;
    const token = `hop-bench-${process.pid}`;
    const replica = (id: string, port: number) => startGateway(children, {
      kubeconfig: sandbox.kubeconfig, workers: WORKERS, token,
      extraArgs: ['--listen', `127.0.0.1:${port}`, '--detach-grace-ms', '60000', '--peers', peers, '--cluster-secret-file', secretFile, '--replica-id', id, '--log-level', 'warn'],
    });
    const [a, b] = await Promise.all([replica('a', pa), replica('b', pb)]);
    const echo = `namespace=load&pod=echo&container=main&cols=80&rows=24`;
    const direct = new Typist(`${a.wsUrl}/ws/exec?${echo}`, token);
    await direct.started;
    const first = new Typist(`${a.wsUrl}/ws/exec?${echo}`, token);
    const { resumeToken } = await first.started;
    await first.close(4000); // a drop: the session detaches on A
    const forwarded = new Typist(`${b.wsUrl}/ws/exec?resume=${encodeURIComponent(resumeToken)}`, token);
    await forwarded.started;

    const d: number[] = [];
    const f: number[] = [];
    for (let i = 0; i < WARMUP + KEYS; i++) {
      const key = 97 + (i % 26);
      // Alternate which goes first, so neither always follows the other's work.
      let x: number;
      let y: number;
      if (i % 2 === 0) {
        x = await direct.key(key);
        y = await forwarded.key(key);
      } else {
        y = await forwarded.key(key);
        x = await direct.key(key);
      }
      if (i >= WARMUP) {
        d.push(x);
        f.push(y);
      }
    }
    await Promise.all([direct.close(), forwarded.close()]);
    const sd = summarize(d);
    const sf = summarize(f);
    const row = (name: string, s: typeof sd) => ({ variant: name, keys: s.count, p50: round(s.p50, 3), p99: round(s.p99, 3), p999: round(s.p999, 3), mean: round(s.mean, 3) });
    const result = {
      scenario: 'hop-latency',
      at: new Date().toISOString(),
      workers: WORKERS,
      rows: [row('direct (A)', sd), row('forwarded (B -> A)', sf)],
      addedP50Ms: round(sf.p50 - sd.p50, 3),
      addedP99Ms: round(sf.p99 - sd.p99, 3),
      target: 'forwarded p50 - direct p50 <= 1 ms',
      met: sf.p50 - sd.p50 <= 1,
      node: process.version,
    };
    console.log('| variant | keys | p50 ms | p99 ms | p99.9 ms | mean ms |\n|---|---|---|---|---|---|');
    for (const r of result.rows) console.log(`| ${r.variant} | ${r.keys} | ${r.p50} | ${r.p99} | ${r.p999} | ${r.mean} |`);
    console.log(`added by the hop: p50 ${result.addedP50Ms} ms, p99 ${result.addedP99Ms} ms (target <= 1 ms at p50: ${result.met ? 'met' : 'not met'})`);
    if (OUT) writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  } finally {
    await children.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
