/**
 * The browser sockets attached to one actor's session (docs/protocol.md, Additions: "Several
 * sockets may attach at once"), by the id the main thread gave each, with what the actor must
 * remember per socket: its role and whether it asked to pause output.
 */
import type { SocketRole } from '../actor-link/actor-messages.js';

interface Attached {
  role: SocketRole;
  paused: boolean;
}

export class AttachedSockets {
  readonly #sockets = new Map<number, Attached>();
  #owners = 0;
  /** The socket that opened the session: its Started says `resumed: false`, every later one true. */
  #fresh: number | undefined;
  #any = false;

  /** Adds a socket; returns whether it resumes (it is not the one that opened the session). */
  add(id: number, role: SocketRole): { resumed: boolean } {
    if (this.#sockets.has(id)) return { resumed: id !== this.#fresh };
    if (!this.#any && role === 'owner') this.#fresh = id;
    this.#any = true;
    this.#sockets.set(id, { role, paused: false });
    if (role === 'owner') this.#owners++;
    return { resumed: id !== this.#fresh };
  }

  remove(id: number): void {
    const s = this.#sockets.get(id);
    if (!s) return;
    this.#sockets.delete(id);
    if (s.role === 'owner') this.#owners--;
  }

  get owners(): number {
    return this.#owners;
  }

  isOwner(id: number): boolean {
    return this.#sockets.get(id)?.role === 'owner';
  }

  resumed(id: number): boolean {
    return id !== this.#fresh;
  }

  ids(): number[] {
    return [...this.#sockets.keys()];
  }

  setPaused(id: number, paused: boolean): void {
    const s = this.#sockets.get(id);
    if (s) s.paused = paused;
  }

  /** Output pace follows the owner's sockets: any of them may hold it (op 2) until it resumes (op 3). */
  get paused(): boolean {
    for (const s of this.#sockets.values()) if (s.role === 'owner' && s.paused) return true;
    return false;
  }
}
