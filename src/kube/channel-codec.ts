/**
 * The client side of the Kubernetes remotecommand WebSocket channel protocols v5 and v4 (binary
 * framing, JSON Status on channel 3). Pure: no sockets here. The sandbox has the server side in
 * src/sandbox/channel-codec.ts; the two agree on the wire, not on code (the server also speaks
 * base64 and v1, which podterm never asks for).
 *
 * Framing: apimachinery/pkg/util/httpstream/wsstream/conn.go; stream ids:
 * apimachinery/pkg/util/remotecommand/constants.go (see docs/k8s-exec notes in K8S-EXEC.md).
 */
import type { KubeStatus } from './errors.js';

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4, close: 255 } as const;

/**
 * Offered in this order: the API server (1.30+) terminates v5 itself; older ones hand the socket to
 * the kubelet, which speaks v4. Both carry a JSON metav1.Status on channel 3; only v5 lets the
 * client close stdin.
 */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;
export type ExecProtocol = (typeof EXEC_PROTOCOLS)[number];

export function isExecProtocol(p: string): p is ExecProtocol {
  return (EXEC_PROTOCOLS as readonly string[]).includes(p);
}

/** `[channel][payload]`, one allocation. */
export function encodeFrame(channel: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(payload.byteLength + 1);
  out[0] = channel;
  out.set(payload, 1);
  return out;
}

/**
 * A resize on channel 4. Go decodes `TerminalSize{Width, Height uint16}` without JSON tags, so the
 * keys match case-insensitively; kubectl's spelling (with its newline) is used. Sizes are clamped
 * to uint16: a larger number would stop the server's resize decoder for the whole session.
 */
export function encodeResize(cols: number, rows: number): Buffer {
  const u16 = (n: number): number => Math.min(0xffff, Math.max(0, Math.trunc(n)));
  return encodeFrame(CHANNEL.resize, Buffer.from(`{"Width":${u16(cols)},"Height":${u16(rows)}}\n`));
}

/** v5 only: `[0xFF, 0]` closes stdin; the process sees EOF while output and status still follow. */
export function encodeCloseStdin(): Buffer {
  return Buffer.from([CHANNEL.close, CHANNEL.stdin]);
}

export type ServerFrame =
  /** Nothing to deliver: an empty message, or the empty message the server sends on open. */
  | { readonly kind: 'skip' }
  | { readonly kind: 'stdout' | 'stderr'; readonly data: Buffer }
  | { readonly kind: 'status'; readonly status: KubeStatus }
  /** A frame no v4/v5 server sends: the session fails (never thrown). */
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * Decodes one message from the server. A server writes only stdout, stderr and status; anything
 * else (stdin, resize, the client-only close signal, unknown ids, text messages, a status that is
 * not a JSON object) is a protocol violation. kubectl also treats non-binary messages as fatal.
 */
export function decodeServerFrame(data: Buffer, isBinary: boolean): ServerFrame {
  if (!isBinary) return { kind: 'invalid', reason: 'a text message' };
  if (data.length === 0) return { kind: 'skip' };
  const channel = data[0] as number;
  const payload = data.subarray(1);
  switch (channel) {
    case CHANNEL.stdout:
    case CHANNEL.stderr:
      if (payload.length === 0) return { kind: 'skip' };
      return { kind: channel === CHANNEL.stdout ? 'stdout' : 'stderr', data: payload };
    case CHANNEL.status: {
      const status = parseStatus(payload);
      return status ? { kind: 'status', status } : { kind: 'invalid', reason: 'a status that is not a JSON Status object' };
    }
    default:
      return { kind: 'invalid', reason: `a frame on channel ${channel}` };
  }
}

/** Channel-3 payload -> the Status fields we read; null when it is not a JSON object with a status. */
export function parseStatus(payload: Uint8Array): KubeStatus | null {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.status !== 'string') return null;
  const status: KubeStatus = { status: o.status };
  if (typeof o.message === 'string') status.message = o.message;
  if (typeof o.reason === 'string') status.reason = o.reason;
  if (typeof o.code === 'number') status.code = o.code;
  const causes = (o.details as { causes?: unknown } | undefined)?.causes;
  if (Array.isArray(causes)) {
    status.details = {
      causes: causes
        .filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null)
        .map((c) => ({
          ...(typeof c.reason === 'string' ? { reason: c.reason } : {}),
          ...(typeof c.message === 'string' ? { message: c.message } : {}),
        })),
    };
  }
  return status;
}
