/**
 * The shape every audit call of a request shares (issue 11: time, event, user, groups, via,
 * remote address, user agent, …): who (the Person), from where (the RequestClient copied out of
 * the request by the route guard's Reply), and how it ended. Routes build their line with
 * `whoFields(person, client)` plus their own fields, and write it through an AuditSink, which is
 * the AuditLog or nothing (`--audit-log` unset).
 */
import type { Person } from '../auth/person.js';
import { PodtermError } from '../protocol/errors.js';
import type { AuditEventName, AuditFields } from './audit-log.js';

/** What writes audit lines (AuditLog); routes take it optional: absent = audit off. */
export interface AuditSink {
  write(event: AuditEventName, fields?: AuditFields): void;
}

/** Where a request came from; copied before the handler's first await (uWS reuses the request). */
export interface RequestClient {
  remoteAddress?: string;
  userAgent?: string;
}

/** user, groups, via of `person` (when known) and the client's address and user agent (when sent). */
export function whoFields(person: Pick<Person, 'username' | 'groups' | 'via'> | undefined, client: RequestClient | undefined): AuditFields {
  return {
    ...(person ? { user: person.username, groups: person.groups, via: person.via } : {}),
    ...(client?.remoteAddress ? { remoteAddress: client.remoteAddress } : {}),
    ...(client?.userAgent ? { userAgent: client.userAgent } : {}),
  };
}

/** `ok`, or the stable error code of what ended the action (never its message: it may quote input). */
export function outcomeOf(err: unknown): string {
  if (err === undefined) return 'ok';
  return err instanceof PodtermError ? err.code : 'Internal';
}
