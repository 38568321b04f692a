/**
 * The Sessions panel's words for a session (sessions-panel.ts), kept free of the DOM so unit tests
 * import them under Node.
 */
import type { SessionListItem } from '../protocol/http.js';

/** "4:05" / "1:02:03" for a span in ms (never negative). */
export function formatLeft(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/**
 * The state in words: what the row says about where the session is. The time left reads the
 * page's clock against the gateway's graceEndsAt: a skew between them moves the countdown, never
 * the session's end (the gateway keeps that).
 */
export function sessionState(item: SessionListItem, here: boolean, now: number): string {
  if (item.state === 'attached') return here ? 'attached here' : 'attached elsewhere';
  if (item.graceEndsAt === null) return 'detached';
  return `detached, ${formatLeft(Date.parse(item.graceEndsAt) - now)} left`;
}

export function commandLabel(command: string[] | null): string {
  // PROTOCOL.md: without `command` the gateway runs `/bin/sh -c '...exec bash || exec sh'`.
  if (command === null || (command.length === 3 && command[1] === '-c')) return 'shell';
  return command.join(' ');
}
