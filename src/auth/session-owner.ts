/**
 * Who owns a session: the one place that turns the person behind a request into the owner key that
 * sessions, resume tokens, the per-owner limit and GET /api/v1/sessions compare: the username
 * (`token:<hash>` for a context-bound static token, see person.ts).
 */
import type { Person } from './person.js';

export function sessionOwner(person: Person): string {
  return person.username;
}
