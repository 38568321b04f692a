import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { AUDIT_EVENTS, AuditLog, type AuditFields } from '../../src/audit/audit-log.js';
import { MAX_FIELD_CHARS, escapeText, isForbiddenCodePoint, unescapeText } from '../../src/audit/escape.js';
import { assertHandlesBack, handleCounts } from '../helpers/handles.js';

/** A small seeded PRNG (mulberry32), so a failing payload can be reproduced. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BIDI = [0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069];
const INVISIBLE = [0x00ad, 0x034f, 0x115f, 0x1160, 0x180e, 0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064,
  0x206a, 0x206f, 0x3164, 0xfe00, 0xfe0f, 0xfeff, 0xffa0, 0xfff9, 0xfffb, 0xe0001, 0xe0041, 0xe007f, 0x1d173];
const SEPARATORS = [0x2028, 0x2029, 0x0085];
const TERMINAL = [
  '\x1b[2J\x1b[H', '\x1b[31mred\x1b[0m', '\x1b]0;pwned\x07', '\x1b]52;c;ZWNobyBoaQ==\x07', '\x1b]8;;javascript:alert(1)\x1b\\click\x1b]8;;\x1b\\',
  '\x1bP+q544e\x1b\\', '\x9b31m', '\x9d0;title\x9c', '\x1b[6n', '\x1b[21t', '\x1b[?1049h', '\r\x1b[K', 'ok\rFAKE', 'line\nsplit', '\x08\x08\x08',
  '\x1bc', '\x1b[1A\x1b[2K', '\x00', '\x7f',
];
const NORMAL = ['a', 'Z', ' ', '/', '"', "'", '\\', '{', '}', ':', ',', 'é', 'ß', '日', '本', '한', '👩‍💻', '🇩🇪', '€', '½', '\\x1b', '\\u202e', '\\\\'];

function hostileCorpus(n: number): string[] {
  const r = rng(42);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const out: string[] = [];
  for (let c = 0; c <= 0x9f; c++) out.push(`a${String.fromCharCode(c)}b`);
  for (const c of [...BIDI, ...INVISIBLE, ...SEPARATORS]) out.push(`user${String.fromCodePoint(c)}name`);
  out.push(...TERMINAL);
  out.push('\ud800', 'a\udc00b', '\udfff\ud800', 'x\ud83d', '\ude00y', '\ud83d\ude00', ''.padEnd(50, '\ud800'));
  out.push('rm -rf / \u202e\u2066txt.exe\u2069', 'admin\u200b', 'alice\u00a0', '\u2028{"event":"auth.login"}');
  out.push('x'.repeat(MAX_FIELD_CHARS + 10), '\x1b'.repeat(MAX_FIELD_CHARS * 2), '\u202e'.repeat(10_000));
  while (out.length < n) {
    const len = 1 + Math.floor(r() * (r() < 0.05 ? 5000 : 120));
    let s = '';
    while (s.length < len) {
      const k = r();
      if (k < 0.3) s += pick(NORMAL);
      else if (k < 0.5) s += String.fromCharCode(Math.floor(r() * 0xa0));
      else if (k < 0.6) s += String.fromCodePoint(pick([...BIDI, ...INVISIBLE, ...SEPARATORS]));
      else if (k < 0.7) s += pick(TERMINAL);
      else if (k < 0.75) s += String.fromCharCode(0xd800 + Math.floor(r() * 0x800)); // a lone surrogate
      else s += String.fromCodePoint(Math.floor(r() * 0x30000));
    }
    out.push(s);
  }
  return out.slice(0, n);
}

const STRING_FIELDS = ['user', 'via', 'session', 'namespace', 'pod', 'container', 'replica', 'remoteAddress', 'userAgent', 'outcome',
  'recording', 'path', 'target', 'image', 'observer', 'expiresAt', 'reason'] as const;

/** The test's own list (not escape.ts's): controls, DEL, C1, and every special code point above. */
const OURS = new Set<number>([
  ...Array.from({ length: 0x20 }, (_, i) => i), ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i),
  ...BIDI, ...INVISIBLE, ...SEPARATORS,
]);

/** Every code point of a raw line (decoded strictly: the line must be valid UTF-8). */
function assertClean(line: Buffer, where: string): void {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(line);
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (isForbiddenCodePoint(cp) || OURS.has(cp)) assert.fail(`${where}: raw U+${cp.toString(16).padStart(4, '0')} in the line`);
  }
  // Belt and braces on the bytes themselves: ESC, C1 in UTF-8, U+2028/9, U+202E.
  for (const bad of [[0x1b], [0x0d], [0x00], [0xc2, 0x9b], [0xe2, 0x80, 0xa8], [0xe2, 0x80, 0xa9], [0xe2, 0x80, 0xae]]) {
    assert.equal(line.indexOf(Buffer.from(bad)), -1, `${where}: raw bytes ${Buffer.from(bad).toString('hex')}`);
  }
}

test('JSON.stringify alone leaves U+2028, bidi overrides, C1 and DEL raw (why escape.ts exists)', () => {
  const s = JSON.stringify('\u2028\u202e\x9b\x7f\u200b');
  for (const c of ['\u2028', '\u202e', '\x9b', '\x7f', '\u200b']) assert.ok(s.includes(c));
  assert.equal(escapeText('\u2028\u202e\x9b\x7f\u200b'), '\\u2028\\u202e\\x9b\\x7f\\u200b');
});

test('escapeText: visible escapes, exactly reversible, ordinary text untouched, long strings cut visibly', () => {
  assert.equal(escapeText('\x1b[31mred'), '\\x1b[31mred');
  assert.equal(escapeText('a\\x1b'), 'a\\\\x1b', 'a literal backslash is doubled, so the escapes stay unambiguous');
  assert.equal(escapeText('\ud800x'), '\\ud800x');
  assert.equal(escapeText('tag\u{e0041}'), 'tag\\u{e0041}');
  assert.equal(escapeText('héllo 日本語 한국어 €½ "q"'), 'héllo 日本語 한국어 €½ "q"');
  assert.equal(escapeText('👩‍💻'), '👩\\u200d💻', 'a zero-width joiner is shown');
  for (const s of ['\\', '\\\\x00', '\x00\\', 'a\\u{e0041}b', '\u{e0041}', '\udfff\ud800']) assert.equal(unescapeText(escapeText(s)), s, JSON.stringify(s));
  const long = escapeText('y'.repeat(MAX_FIELD_CHARS + 5));
  assert.ok(long.endsWith('…[+5 chars]'));
  assert.equal(long.length, MAX_FIELD_CHARS + '…[+5 chars]'.length);
});

test('1,000 hostile payloads through every field: each line is one JSON object, no forbidden code point raw, values reversible', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-audit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const baseline = handleCounts();
  const file = join(dir, 'audit.log');
  const corpus = hostileCorpus(1000);
  assert.equal(corpus.length, 1000);
  const log = await AuditLog.open({ dest: file, base: { replica: 'podterm-\x1b[0' } });
  for (const [i, p] of corpus.entries()) {
    const f: AuditFields = { groups: [p, 'ok', p], command: ['sh', '-c', p], exitCode: i, bytesIn: i * 2, durationMs: Number.NaN };
    for (const k of STRING_FIELDS) (f as Record<string, unknown>)[k] = p;
    (f as Record<string, unknown>).token = 'secret-token'; // not a field: never logged
    log.write(AUDIT_EVENTS[i % AUDIT_EVENTS.length]!, f);
  }
  await log.close();
  await log.close();
  assert.equal(log.state, 'closed');
  assert.deepEqual(log.counts, { written: 1000, errors: 0 });
  log.write('auth.login', { user: 'after close' });

  const raw = await readFile(file);
  assert.equal(raw.at(-1), 0x0a);
  const lines: Buffer[] = [];
  for (let s = 0, e = raw.indexOf(0x0a); e !== -1; s = e + 1, e = raw.indexOf(0x0a, s)) lines.push(raw.subarray(s, e));
  assert.equal(lines.length, 1000, 'one line per event: no payload broke a line');
  for (const [i, line] of lines.entries()) {
    const p = corpus[i]!;
    const where = `payload ${i} ${JSON.stringify(p.slice(0, 40))}`;
    assertClean(line, where);
    const o = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
    assert.equal(o.event, AUDIT_EVENTS[i % AUDIT_EVENTS.length], where);
    assert.ok(!Number.isNaN(Date.parse(o.time as string)), where);
    assert.equal(line.toString().split('"replica":').length, 2, 'no key twice');
    assert.equal(o.token, undefined, 'unknown keys are dropped');
    assert.equal(o.exitCode, i);
    assert.equal(o.durationMs, null);
    assert.deepEqual(Object.keys(o).slice(0, 2), ['time', 'event']);
    const expected = p.length > MAX_FIELD_CHARS ? null : p;
    for (const k of [...STRING_FIELDS, 'groups', 'command'] as const) {
      const v = k === 'groups' ? (o.groups as string[])[0] : k === 'command' ? (o.command as string[])[2] : o[k];
      assert.equal(typeof v, 'string', `${where} ${k}`);
      if (expected !== null) assert.equal(unescapeText(v as string), expected, `${where} ${k} reverses`);
      else assert.match(v as string, /…\[\+\d+ chars\]$/, `${where} ${k} is cut visibly`);
    }
  }
  await assertHandlesBack(baseline);
});

test('`-` writes to stdout (flushed at close, stdout stays open); a file that cannot be opened fails at open', async () => {
  const mod = fileURLToPath(new URL('../../src/audit/audit-log.js', import.meta.url));
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    const { AuditLog } = await import(${JSON.stringify(mod)});
    const log = await AuditLog.open({ dest: '-', base: { replica: 'r\\u202e0' } });
    for (let i = 0; i < 3; i++) log.write('auth.failed', { reason: 'Unauthorized', remoteAddress: '127.0.0.1', userAgent: 'x\\u001b[2J' });
    await log.close();
    process.stdout.write('after\\n');
  `], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 4);
  assert.equal((JSON.parse(lines[0]!) as { userAgent: string }).userAgent, 'x\\x1b[2J');
  assert.equal((JSON.parse(lines[0]!) as { replica: string }).replica, 'r\\u202e0', 'base fields are escaped too');
  assert.equal(lines[3], 'after');
  await assert.rejects(AuditLog.open({ dest: '/etc/passwd/audit.log' }), { code: 'ENOTDIR' });
  await assert.rejects(AuditLog.open({ dest: join(tmpdir(), 'no-such-dir-podterm', 'a.log') }), { code: 'ENOENT' });
});
