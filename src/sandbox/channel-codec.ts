/**
 * The Kubernetes remotecommand WebSocket subprotocols and their framing (K8S-EXEC.md, from
 * apimachinery/pkg/util/httpstream/wsstream/conn.go). Pure: no sockets here.
 */
export const STREAM = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

export type ExecProtocol =
  | 'v5.channel.k8s.io'
  | 'v4.channel.k8s.io'
  | 'v4.base64.channel.k8s.io'
  | 'channel.k8s.io'
  | 'base64.channel.k8s.io'
  /** No Sec-WebSocket-Protocol header at all: binary channel protocol v1, no protocol echoed. */
  | '';

export const SUPPORTED_PROTOCOLS: readonly ExecProtocol[] = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v4.base64.channel.k8s.io',
  'channel.k8s.io',
  'base64.channel.k8s.io',
];

/**
 * What a cluster before Kubernetes 1.30 accepts: the API server passes every WebSocket exec to the
 * kubelet, which speaks v4 and older but not v5 (so no client can close stdin). Newer API servers
 * with the TranslateStreamCloseWebsocketRequests feature gate off behave the same.
 */
export const PRE_V5_PROTOCOLS: readonly ExecProtocol[] = SUPPORTED_PROTOCOLS.filter((p) => p !== 'v5.channel.k8s.io');

/**
 * Picks the first protocol in the client's order that the server supports. `header` undefined means
 * no Sec-WebSocket-Protocol header: binary v1. Returns null when the client offered only protocols
 * we do not speak (v2/v3 are SPDY-only), which a real server answers with a bare 403.
 */
export function negotiateProtocol(header: string | undefined, supported: readonly ExecProtocol[] = SUPPORTED_PROTOCOLS): ExecProtocol | null {
  if (header === undefined) return '';
  for (const raw of header.split(',')) {
    const p = raw.trim();
    if ((supported as readonly string[]).includes(p)) return p as ExecProtocol;
  }
  return null;
}

export function isBase64(p: ExecProtocol): boolean {
  return p === 'v4.base64.channel.k8s.io' || p === 'base64.channel.k8s.io';
}

/** v4 and v5 send JSON metav1.Status on channel 3; the older ones send plain text (nothing on success). */
export function hasJsonStatus(p: ExecProtocol): boolean {
  return p === 'v5.channel.k8s.io' || p === 'v4.channel.k8s.io' || p === 'v4.base64.channel.k8s.io';
}

/** Only v5 understands the client's [0xFF, id] close-stream signal. */
export function hasCloseSignal(p: ExecProtocol): boolean {
  return p === 'v5.channel.k8s.io';
}

export interface OutgoingMessage {
  readonly data: Buffer | string;
  readonly binary: boolean;
}

/** Frames PAYLOAD for CHANNEL: binary `[channel][payload]`, or base64 text `'0'+channel` + base64. */
export function encodeMessage(p: ExecProtocol, channel: number, payload: Uint8Array): OutgoingMessage {
  if (isBase64(p)) {
    return { data: String.fromCharCode(0x30 + channel) + Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64'), binary: false };
  }
  const out = Buffer.allocUnsafe(payload.byteLength + 1);
  out[0] = channel;
  out.set(payload, 1);
  return { data: out, binary: true };
}

export type IncomingMessage =
  | { readonly kind: 'skip' }
  | { readonly kind: 'data'; readonly channel: number; readonly payload: Buffer }
  /** v5 only: the client closed one of its streams (0 = stdin). */
  | { readonly kind: 'close-stream'; readonly channel: number }
  /** v5 only: a malformed close signal; the connection must be torn down. */
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * Decodes one client message. Zero-length messages are skipped, like Go's reader; a base64 message
 * whose body does not decode is invalid. Go reads text and binary frames alike, so `isBinary` is
 * not checked for the binary protocols.
 */
export function decodeMessage(p: ExecProtocol, message: Buffer): IncomingMessage {
  if (message.length === 0) return { kind: 'skip' };
  if (isBase64(p)) {
    const channel = (message[0] as number) - 0x30;
    const body = message.subarray(1).toString('latin1');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) return { kind: 'invalid', reason: 'bad base64' };
    return { kind: 'data', channel, payload: Buffer.from(body, 'base64') };
  }
  const channel = message[0] as number;
  if (channel === STREAM.close && hasCloseSignal(p)) {
    if (message.length !== 2) return { kind: 'invalid', reason: `close signal of ${message.length} bytes` };
    const id = message[1] as number;
    if (id >= 5) return { kind: 'invalid', reason: `close signal for unknown stream ${id}` };
    return { kind: 'close-stream', channel: id };
  }
  return { kind: 'data', channel, payload: message.subarray(1) };
}
