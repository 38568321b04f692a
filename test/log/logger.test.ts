/** The process logger: JSON lines, levels, child loggers, and secrets that never reach the output. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, logFn } from '../../src/log/logger.js';

function capture(): { stream: { write(s: string): void }; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: { write: (s: string) => void chunks.push(s) },
    text: () => chunks.join(''),
    lines: () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('a token, a cookie and an Authorization header given to the logger never appear in its output', () => {
  const out = capture();
  const logger = createLogger({ level: 'debug', destination: out.stream });
  const TOKEN = 'tok-SECRET-1a2b3c';
  const COOKIE = 'cookie-SECRET-4d5e6f';
  const BEARER = 'bearer-SECRET-7a8b9c';
  const http = logger.child({ component: 'http' });
  http.info({ token: TOKEN, headers: { authorization: `Bearer ${BEARER}`, cookie: `podterm_session=${COOKIE}` } }, 'request');
  http.info({ req: { headers: { Authorization: `Bearer ${BEARER}`, cookie: COOKIE, 'set-cookie': COOKIE } } }, 'nested');
  http.warn({ url: `/?token=${TOKEN}&x=1`, referer: `http://h/?a=1&token=${TOKEN}` }, `GET /?token=${TOKEN}`);
  http.error({ err: new Error(`upstream said Authorization: Bearer ${BEARER} for podterm_session=${COOKIE}`) }, 'failed');
  const log = logFn(logger.child({ component: 'supervisor' }));
  log('info', `session for Bearer ${BEARER}`, { authorization: `Bearer ${BEARER}`, cookie: COOKIE, detail: { token: TOKEN } });
  log('debug', 'no fields');

  const text = out.text();
  for (const secret of [TOKEN, COOKIE, BEARER]) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  const lines = out.lines();
  assert.equal(lines.length, 6);
  assert.deepEqual(lines.map((l) => l.component), ['http', 'http', 'http', 'http', 'supervisor', 'supervisor']);
  assert.deepEqual(lines.map((l) => l.level), ['info', 'info', 'warn', 'error', 'info', 'debug']);
  assert.equal(lines[2]?.url, '/?token=[redacted]&x=1');
  assert.equal(lines[0]?.token, '[redacted]');
  assert.equal(typeof lines[0]?.time, 'string');
  // What is not secret survives.
  assert.equal(lines[3] && (lines[3].err as { type: string }).type, 'Error');
  assert.equal(lines[5]?.msg, 'no fields');
});

test('levels filter, and an unknown level is refused', () => {
  const out = capture();
  const log = logFn(createLogger({ level: 'warn', destination: out.stream }));
  log('info', 'hidden');
  log('warn', 'shown');
  assert.deepEqual(out.lines().map((l) => l.msg), ['shown']);
  assert.throws(() => createLogger({ level: 'loud' as 'info' }), /log level/);
});
