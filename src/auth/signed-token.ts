/**
 * The one layout of podterm's signed tokens (resume tokens, share tokens):
 *
 *   v1.<base64url(JSON claims)>.<base64url(MAC)>
 *
 * MAC = HMAC-SHA256 (RFC 2104) over everything before the last dot, with a key derived from the
 * gateway secret for one purpose only (secrets.ts, HKDF): a token of one kind never verifies as
 * another. Every kind names the replica that holds its session in the claim `r`, which
 * tokenReplica() reads the same way for all of them.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Longer tokens are refused before any parsing (a session id, an owner and a replica fit easily). */
export const MAX_SIGNED_TOKEN = 1024;
const PREFIX = 'v1.';

/** Signs `claims` (a flat JSON object whose keys are the kind's short names). */
export function signToken(key: Uint8Array, claims: Record<string, unknown>): string {
  const body = PREFIX + Buffer.from(JSON.stringify(claims)).toString('base64url');
  // join() makes one flat string; concatenation would leave a tree of pieces, and a session keeps
  // its resume token for its whole life (issue 13: ~100 B per idle session).
  return [body, mac(key, body).toString('base64url')].join('.');
}

/**
 * The claims of a token signed with `key` whose expiry (claim `x`, unix seconds; every kind has one)
 * is after `nowMs`, or undefined (wrong MAC, malformed, too long, expired).
 */
export function openToken(key: Uint8Array, token: string, nowMs: number): (Record<string, unknown> & { x: number }) | undefined {
  const body = bodyOf(token);
  if (body === undefined) return undefined;
  const given = Buffer.from(token.slice(body.length + 1), 'base64url');
  const expected = mac(key, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const claims = parseBody(body);
  if (!claims || !Number.isSafeInteger(claims.x) || (claims.x as number) * 1000 <= nowMs) return undefined;
  return claims as Record<string, unknown> & { x: number };
}

/**
 * The replica a token names (its claim `r`), read WITHOUT checking the MAC: a routing hint only,
 * for a replica that must send a resume or observe to the one holding the session. The holder
 * verifies the token in full before it attaches anything.
 */
export function tokenReplica(token: string): string | undefined {
  const body = bodyOf(token);
  const r = body === undefined ? undefined : parseBody(body)?.r;
  return typeof r === 'string' ? r : undefined;
}

function bodyOf(token: string): string | undefined {
  if (token.length > MAX_SIGNED_TOKEN || !token.startsWith(PREFIX)) return undefined;
  const dot = token.lastIndexOf('.');
  return dot <= PREFIX.length ? undefined : token.slice(0, dot);
}

function parseBody(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(body.slice(PREFIX.length), 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function mac(key: Uint8Array, body: string): Buffer {
  return createHmac('sha256', key).update(body).digest();
}
