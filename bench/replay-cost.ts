/**
 * What the replay buffer costs (issue 10, "Replay buffer per session"), side by side with the
 * alternative of a headless xterm, in one run:
 * - memory per idle session (1,000 sessions that printed a prompt; 1,000 with a full ring):
 *   (a) ReplayBuffer; (b) ring at rest + a headless xterm built at resume; and, for scale, a
 *   headless xterm kept per session (the design the issue rejected);
 * - append cost in ns/byte for a flood at the cap (plain text and escape-heavy text), next to the
 *   stdout frame encoding (encodeOutputFrame) of the same bytes;
 * - time to produce the replay of a full 256 KiB ring: (a) restore(); (b) a headless xterm fed the
 *   ring and its screen read back (without @xterm/addon-serialize, which is not installed: a lower
 *   bound for (b)).
 *
 * Usage: node dist/bench/replay-cost.js [--sessions 1000] [--flood-mb 200] [--out FILE]
 */
import { writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import xterm from '@xterm/headless';
import { ReplayBuffer, DEFAULT_REPLAY_BYTES } from '../src/actor/replay-buffer.js';
import { encodeOutputFrame, ServerOp } from '../src/protocol/index.js';

const { Terminal } = xterm;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const SESSIONS = arg('sessions', 1000);
const FLOOD = arg('flood-mb', 200) * 1e6;

function memory(): number {
  gc(); gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function perSession<T>(n: number, make: () => T | Promise<T>, free: (x: T) => void): Promise<number> {
  const before = memory();
  const held: T[] = [];
  for (let i = 0; i < n; i++) held.push(await make());
  const after = memory();
  for (const x of held) free(x);
  held.length = 0;
  return (after - before) / n;
}

const PROMPT = Buffer.from('\x1b[?2004h\x1b]0;root@web-7d4b9c-x2x9q: /\x07\x1b[01;32mroot@web-7d4b9c-x2x9q\x1b[00m:\x1b[01;34m/\x1b[00m# ');

/** `ls -l --color`-like lines: an SGR every ~40 bytes. */
function colouredText(bytes: number): Buffer {
  let s = '';
  for (let i = 0; s.length < bytes; i++) s += `-rw-r--r-- 1 root root ${(i * 7919) % 100000} Nov 30 12:00 \x1b[01;32mfile-${i}.txt\x1b[0m\r\n`;
  return Buffer.from(s).subarray(0, bytes);
}
/** top-like: SGR and cursor moves every few bytes. */
function escapeHeavy(bytes: number): Buffer {
  let s = '';
  for (let i = 0; s.length < bytes; i++) s += `\x1b[${(i % 24) + 1};1H\x1b(B\x1b[m\x1b[1m${i % 100}\x1b(B\x1b[m \x1b[7m  \x1b[K\r\n`;
  return Buffer.from(s).subarray(0, bytes);
}
const plain = (bytes: number): Buffer => Buffer.alloc(bytes, 'The quick brown fox jumps over the lazy dog. ');

function chunks(data: Buffer, size = 16_000): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

function nsPerByte(data: Buffer[], total: number, op: (c: Buffer) => void): number {
  for (const c of data) op(c); // warm up
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  while (bytes < total) for (const c of data) { op(c); bytes += c.length; }
  return Number(process.hrtime.bigint() - t0) / bytes;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

function writeAll(term: InstanceType<typeof Terminal>, data: Uint8Array[]): Promise<void> {
  for (const d of data) term.write(d);
  return new Promise((r) => term.write('', r));
}

const results: Record<string, number> = {};
const full = colouredText(DEFAULT_REPLAY_BYTES * 2);

// Memory per session.
results.a_idle_bytes = await perSession(SESSIONS, () => { const r = new ReplayBuffer(); r.append(PROMPT); return r; }, (r) => r.close());
results.a_full_bytes = await perSession(SESSIONS, () => { const r = new ReplayBuffer(); for (const c of chunks(full)) r.append(c); return r; }, (r) => r.close());
results.xterm_idle_bytes = await perSession(SESSIONS, async () => {
  const t = new Terminal({ cols: 80, rows: 24, scrollback: 1000, allowProposedApi: true });
  await writeAll(t, [PROMPT]);
  return t;
}, (t) => t.dispose());
const fullTerms = Math.min(SESSIONS, 100);
results.xterm_full_bytes = await perSession(fullTerms, async () => {
  const t = new Terminal({ cols: 80, rows: 24, scrollback: 1000, allowProposedApi: true });
  await writeAll(t, chunks(full));
  return t;
}, (t) => t.dispose());

// Append cost at the cap (steady state: copy in, parse what drops out), and the frame encoding.
for (const [name, data] of [['plain', plain(4e6)], ['coloured', colouredText(4e6)], ['escape_heavy', escapeHeavy(4e6)]] as const) {
  const rb = new ReplayBuffer();
  const cs = chunks(data);
  results[`append_${name}_ns_per_byte`] = nsPerByte(cs, FLOOD, (c) => rb.append(c));
  rb.close();
  results[`encode_frame_${name}_ns_per_byte`] = nsPerByte(cs, FLOOD, (c) => { encodeOutputFrame(ServerOp.Stdout, c); });
}

// Replay of a full ring.
{
  const rb = new ReplayBuffer();
  const vimLike = Buffer.concat([Buffer.from('\x1b[?1049h\x1b[?1h\x1b=\x1b[?2004h\x1b[?1000h\x1b[?1006h'), escapeHeavy(DEFAULT_REPLAY_BYTES * 2)]);
  for (const c of chunks(vimLike)) rb.append(c);
  const a: number[] = [];
  let frames: Uint8Array[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = process.hrtime.bigint();
    frames = rb.restore();
    a.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  results.a_restore_ms = median(a);
  results.a_restore_bytes = frames.reduce((n, f) => n + f.length, 0);
  results.a_restore_frames = frames.length;
  const b: number[] = [];
  let screenBytes = 0;
  for (let i = 0; i < 10; i++) {
    const t0 = process.hrtime.bigint();
    const t = new Terminal({ cols: 80, rows: 24, scrollback: 1000, allowProposedApi: true });
    await writeAll(t, frames);
    const buf = t.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < buf.length; y++) lines.push(buf.getLine(y)?.translateToString(true) ?? '');
    screenBytes = Buffer.byteLength(lines.join('\r\n'));
    t.dispose();
    b.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  results.b_restore_ms_lower_bound = median(b);
  results.b_restore_text_bytes = screenBytes;
  rb.close();
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
const rows: [string, string][] = [
  ['(a) ReplayBuffer, idle session with a prompt', kib(results.a_idle_bytes)],
  ['(a) ReplayBuffer, full 256 KiB ring', kib(results.a_full_bytes)],
  ['(b) at rest (the same ring, no parsing at all)', `~${kib(results.a_idle_bytes)} / ~${kib(results.a_full_bytes)}`],
  ['headless xterm kept per session, idle with a prompt', kib(results.xterm_idle_bytes)],
  [`headless xterm kept per session, full 1,000-line scrollback (${fullTerms} terminals)`, kib(results.xterm_full_bytes)],
  ['append at the cap, plain text', `${results.append_plain_ns_per_byte!.toFixed(3)} ns/byte (frame encoding ${results.encode_frame_plain_ns_per_byte!.toFixed(3)})`],
  ['append at the cap, coloured ls', `${results.append_coloured_ns_per_byte!.toFixed(3)} ns/byte (frame encoding ${results.encode_frame_coloured_ns_per_byte!.toFixed(3)})`],
  ['append at the cap, escape-heavy (top-like)', `${results.append_escape_heavy_ns_per_byte!.toFixed(3)} ns/byte (frame encoding ${results.encode_frame_escape_heavy_ns_per_byte!.toFixed(3)})`],
  ['(a) restore() of a full ring', `${results.a_restore_ms!.toFixed(2)} ms, ${results.a_restore_frames} frames, ${kib(results.a_restore_bytes!)}`],
  ['(b) headless xterm fed the ring + screen read (lower bound, no serialize)', `${results.b_restore_ms_lower_bound!.toFixed(2)} ms`],
];
const w = Math.max(...rows.map((r) => r[0].length));
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
const out = process.argv.indexOf('--out');
if (out >= 0) writeFileSync(process.argv[out + 1] as string, JSON.stringify({ node: process.version, sessions: SESSIONS, results }, null, 2) + '\n');
