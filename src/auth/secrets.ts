/**
 * Keys the gateway derives from its one secret: one key per purpose (HKDF, RFC 5869, with the
 * purpose as `info`), so a login-state cookie can never be read as a session cookie or the
 * reverse, and replicas that share the secret share the keys.
 */
import { hkdfSync } from 'node:crypto';

export type KeyPurpose = 'session-cookie' | 'login-state' | 'resume' | 'share' | 'cluster-hop';

/** Shorter secrets are refused: the keys are only as strong as the secret. */
export const MIN_SECRET_BYTES = 16;

export function deriveKey(secret: string | Uint8Array, purpose: KeyPurpose): Uint8Array {
  const ikm = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (ikm.length < MIN_SECRET_BYTES) {
    throw new RangeError(`the gateway secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return new Uint8Array(hkdfSync('sha256', ikm, 'podterm', `podterm ${purpose} v1`, 32));
}
