/**
 * Who owns a session: the one place that turns a caller's identity into the owner key that
 * sessions, resume tokens, the per-owner limit and GET /api/v1/sessions compare. Today the
 * identity's non-secret key; with signed-in users it becomes the username (one line here).
 */
import type { Identity } from './token-auth.js';

export function sessionOwner(identity: Identity): string {
  return identity.key;
}
