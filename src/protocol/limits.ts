/**
 * Size limits that are part of the contract.
 *
 * The uWebSockets.js build we run (20.30, before uWebSockets PR #1662) can corrupt a message of
 * 16 KiB or more when it has to buffer it under backpressure ("RSV2 and RSV3 must be clear" on the
 * client). So every message the gateway sends stays strictly below MAX_SEND_BYTES.
 */
export const MAX_SEND_BYTES = 16 * 1024;

/**
 * Largest output payload in one stdout/stderr frame. msgpack adds at most 1 (fixarray) + 1 (op)
 * + 3 (bin16 header) = 5 bytes, so 16,000 leaves ample room below MAX_SEND_BYTES.
 */
export const MAX_OUTPUT_CHUNK = 16_000;

/** Default largest message a client may send; larger ones close the socket with 1009. */
export const DEFAULT_MAX_CLIENT_MESSAGE = 64 * 1024;

/**
 * Input window (docs/protocol.md, Additions): stdin bytes a client may have sent and not yet had
 * credited by op 7. A paste larger than this is sent in pieces as the pod takes it.
 */
export const DEFAULT_INPUT_WINDOW = 1024 * 1024;
