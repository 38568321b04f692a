/**
 * Signalling a whole exec: each process target is a session leader (node-pty's forkpty and
 * spawn({detached:true}) both call setsid), so its session id is its pid. A shell with job control
 * moves jobs into their own process groups, so killing only the leader's group is not enough; on
 * Linux the session's members are found in /proc. Elsewhere the leader's group is the best we have.
 */
import { readdirSync, readFileSync } from 'node:fs';

function trySignal(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false; // ESRCH: already gone; EPERM cannot happen for our own children.
  }
}

/**
 * Live (non-zombie) PIDs whose session id is `sid` (field 6 of /proc/PID/stat, after the
 * parenthesised comm); null when /proc cannot be read (not Linux).
 */
export function sessionMembers(sid: number): number[] | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const out: number[] = [];
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // exited while we looked
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] = state, [1] = ppid, [2] = pgrp, [3] = session
    if (Number(fields[3]) === sid && fields[0] !== 'Z') out.push(Number(name));
  }
  return out;
}

/** Sends SIGNAL to the leader's process group and to every other member of its session. */
export function signalSession(sid: number, signal: NodeJS.Signals): void {
  trySignal(-sid, signal);
  for (const pid of sessionMembers(sid) ?? []) trySignal(pid, signal);
}

/**
 * True while any process of the session is alive. Zombies do not count: an orphan's zombie waits
 * for init to reap it, which we cannot speed up. Without /proc, the leader's group is checked.
 */
export function sessionAlive(sid: number): boolean {
  const members = sessionMembers(sid);
  return members === null ? trySignal(-sid, 0) : members.length > 0;
}
