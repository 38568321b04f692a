/**
 * The podterm.v1 wire contract (docs/protocol.md). Imported by the browser page, the gateway's
 * main thread, the session actors and the bench load generator: the one definition of the frames.
 *
 * Every WebSocket message is binary: one msgpack array whose first element is the opcode.
 *
 * | op | direction        | array                                                   | meaning                 |
 * |----|------------------|---------------------------------------------------------|-------------------------|
 * | 0  | client -> server | [0, bytes]                                              | stdin                   |
 * | 1  | client -> server | [1, cols, rows]                                         | resize (1..1000)        |
 * | 2  | client -> server | [2]                                                     | pause output            |
 * | 3  | client -> server | [3]                                                     | resume output           |
 * | 0  | server -> client | [0, bytes]                                              | stdout (+stderr w/ TTY) |
 * | 1  | server -> client | [1, bytes]                                              | stderr (no TTY only)    |
 * | 2  | server -> client | [2, {session, namespace, pod, container, command}]      | exec established        |
 * | 3  | server -> client | [3, {exitCode, message}]                                | process ended, then 1000|
 * | 4  | server -> client | [4, {code, message}]                                    | session failed, then cc |
 * | 5  | server -> client | [5, cols, rows]                                         | size changed (Additions)|
 * | 6  | server -> client | [6, {viewers: [{user, role}]}]                          | who is attached         |
 * | 7  | server -> client | [7, n]                                                  | input credit: n bytes   |
 */
import { Packr } from 'msgpackr';
import type { ErrorCode } from './errors.js';

export const SUBPROTOCOL = 'podterm.v1';

export const ClientOp = { Stdin: 0, Resize: 1, Pause: 2, Resume: 3 } as const;
export const ServerOp = { Stdout: 0, Stderr: 1, Started: 2, Exited: 3, Error: 4, Size: 5, Viewers: 6, InputCredit: 7 } as const;

/** docs/protocol.md: without `command`, one exec that picks bash when present. */
export const SHELL_COMMAND: readonly string[] = ['/bin/sh', '-c', 'export LANG=C.UTF-8; command -v bash >/dev/null && exec bash || exec sh'];

/** Resize bounds, inclusive (PROTOCOL.md: integers 1..1000). */
export const MIN_DIMENSION = 1;
export const MAX_DIMENSION = 1000;

export interface StartedInfo {
  session: string;
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  /**
   * Additions: bytes of stdin a client may have sent and not yet had credited by op 7. Absent from
   * old servers: such a client sends without pacing.
   */
  inputWindow?: number;
  resumeToken?: string;
  role?: 'owner' | 'observer';
  resumed?: boolean;
  cols?: number;
  rows?: number;
}
export interface Viewer {
  user: string;
  role: 'owner' | 'observer';
}
export interface ExitInfo {
  exitCode: number | null;
  message: string;
}
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

export type ClientFrame =
  | readonly [typeof ClientOp.Stdin, Uint8Array]
  | readonly [typeof ClientOp.Resize, number, number]
  | readonly [typeof ClientOp.Pause]
  | readonly [typeof ClientOp.Resume];

export type ServerFrame =
  | readonly [typeof ServerOp.Stdout, Uint8Array]
  | readonly [typeof ServerOp.Stderr, Uint8Array]
  | readonly [typeof ServerOp.Started, StartedInfo]
  | readonly [typeof ServerOp.Exited, ExitInfo]
  | readonly [typeof ServerOp.Error, ErrorInfo]
  | readonly [typeof ServerOp.Size, number, number]
  | readonly [typeof ServerOp.Viewers, { viewers: Viewer[] }]
  | readonly [typeof ServerOp.InputCredit, number];

// Plain msgpack (no records, no structured-clone extensions) so any msgpack library can speak it.
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false, mapsAsObjects: true });

export function encode(frame: ClientFrame | ServerFrame): Uint8Array {
  return packr.pack(frame);
}

/**
 * Encodes an output frame (`[0, bytes]` or `[1, bytes]`) into a fresh ArrayBuffer of exactly its
 * size, copying the payload once. Byte-identical to `encode` (msgpack's smallest bin header), but
 * made for the actor's hot path: `encode` writes into msgpackr's shared buffer, and a frame that is
 * transferred to another thread then needs a buffer of its own, a second copy of every byte.
 */
export function encodeOutputFrame(op: typeof ServerOp.Stdout | typeof ServerOp.Stderr, payload: Uint8Array): ArrayBuffer {
  const n = payload.byteLength;
  const header = n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
  const ab = new ArrayBuffer(2 + header + n);
  const out = new Uint8Array(ab);
  out[0] = 0x92; // fixarray of 2
  out[1] = op; // positive fixint
  if (header === 2) {
    out[2] = 0xc4; // bin 8
    out[3] = n;
  } else if (header === 3) {
    out[2] = 0xc5; // bin 16, big-endian length
    out[3] = n >>> 8;
    out[4] = n & 0xff;
  } else {
    out[2] = 0xc6; // bin 32
    new DataView(ab).setUint32(3, n);
  }
  out.set(payload, 2 + header);
  return ab;
}

/** A frame as a fresh ArrayBuffer of its own (uWS sends and transfers to another thread need one). */
export function encodeToArrayBuffer(frame: ClientFrame | ServerFrame): ArrayBuffer {
  return toArrayBuffer(encode(frame));
}

/** The error frame `[4, {code, message}]` that precedes every failure close. */
export function errorFrame(code: ErrorCode, message: string): ArrayBuffer {
  return encodeToArrayBuffer([ServerOp.Error, { code, message }]);
}

export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Thrown for anything that is not a valid frame; the server maps it to BadFrame (4400). */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

function unpack(data: Uint8Array): unknown {
  try {
    return packr.unpack(data);
  } catch {
    throw new FrameError('undecodable msgpack');
  }
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function isDimension(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= MIN_DIMENSION && (v as number) <= MAX_DIMENSION;
}

/** Decodes and validates one client -> server message. */
export function decodeClientFrame(data: Uint8Array): ClientFrame {
  const stdin = stdinPayload(data);
  if (stdin) return [ClientOp.Stdin, stdin];
  const value = unpack(data);
  if (!Array.isArray(value) || value.length === 0) throw new FrameError('a frame is a non-empty array');
  const op: unknown = value[0];
  switch (op) {
    case ClientOp.Stdin:
      if (value.length !== 2 || !isBytes(value[1])) throw new FrameError('stdin is [0, bytes]');
      return [ClientOp.Stdin, value[1]];
    case ClientOp.Resize:
      if (value.length !== 3 || !isDimension(value[1]) || !isDimension(value[2])) {
        throw new FrameError(`resize is [1, cols, rows] with integers ${MIN_DIMENSION}..${MAX_DIMENSION}`);
      }
      return [ClientOp.Resize, value[1], value[2]];
    case ClientOp.Pause:
    case ClientOp.Resume:
      if (value.length !== 1) throw new FrameError('pause and resume take no arguments');
      return [op] as ClientFrame;
    default:
      throw new FrameError('unknown opcode');
  }
}

/**
 * The payload of a stdin frame `[0, bin]` read straight from its bytes (fixarray 2, fixint 0, bin 8,
 * 16 or 32 whose length ends the message exactly), as a view of the message like msgpackr's; or
 * undefined, and the general decoder decides. Every keystroke is such a frame: msgpackr's decoder
 * allocated ~350 B per key on the actor's thread.
 */
function stdinPayload(d: Uint8Array): Uint8Array | undefined {
  if (d.byteLength < 4 || d[0] !== 0x92 || d[1] !== ClientOp.Stdin) return undefined;
  let start: number;
  let n: number;
  if (d[2] === 0xc4) {
    start = 4;
    n = d[3] as number;
  } else if (d[2] === 0xc5 && d.byteLength >= 5) {
    start = 5;
    n = ((d[3] as number) << 8) | (d[4] as number);
  } else if (d[2] === 0xc6 && d.byteLength >= 7) {
    start = 7;
    n = (((d[3] as number) << 24) >>> 0) + (((d[4] as number) << 16) | ((d[5] as number) << 8) | (d[6] as number));
  } else {
    return undefined;
  }
  return start + n === d.byteLength ? d.subarray(start) : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isBytes(v);
}

/** Decodes and validates one server -> client message (browser, bench and tests). */
export function decodeServerFrame(data: Uint8Array): ServerFrame {
  const value = unpack(data);
  if (Array.isArray(value) && value[0] === ServerOp.Size) {
    if (value.length !== 3 || !isDimension(value[1]) || !isDimension(value[2])) throw new FrameError('bad size frame');
    return [ServerOp.Size, value[1], value[2]];
  }
  if (!Array.isArray(value) || value.length !== 2) throw new FrameError('a server frame is [op, payload]');
  const [op, payload] = value as [unknown, unknown];
  switch (op) {
    case ServerOp.InputCredit:
      if (!Number.isSafeInteger(payload) || (payload as number) < 0) throw new FrameError('input credit is [7, n] with n >= 0');
      return [op, payload as number];
    case ServerOp.Viewers:
      if (!isRecord(payload) || !Array.isArray(payload.viewers)) throw new FrameError('bad viewers frame');
      return [op, payload as unknown as { viewers: Viewer[] }];
    case ServerOp.Stdout:
    case ServerOp.Stderr:
      if (!isBytes(payload)) throw new FrameError('output payload must be bytes');
      return [op, payload];
    case ServerOp.Started:
      if (!isRecord(payload) || typeof payload.session !== 'string') throw new FrameError('bad started frame');
      return [op, payload as unknown as StartedInfo];
    case ServerOp.Exited:
      if (!isRecord(payload) || !(payload.exitCode === null || Number.isInteger(payload.exitCode))) {
        throw new FrameError('bad exit frame');
      }
      return [op, { exitCode: payload.exitCode as number | null, message: String(payload.message ?? '') }];
    case ServerOp.Error:
      if (!isRecord(payload) || typeof payload.code !== 'string') throw new FrameError('bad error frame');
      return [op, { code: payload.code as ErrorCode, message: String(payload.message ?? '') }];
    default:
      throw new FrameError('unknown opcode');
  }
}
