/**
 * The .cast file as the write queue sees it. An idle recording parks (asciicast-writer.ts): it
 * closes this file and later makes a `parked` one whose first write opens the file again for
 * appending, so thousands of idle recorded sessions hold no descriptor each. Plain descriptors, not
 * FileHandles (fd-io.ts says why) (issue 11: memory per idle session within 5 % of recording off).
 *
 * Reopening uses O_WRONLY|O_APPEND without O_CREAT: a .cast that vanished under a running session
 * (someone deleted it) is a write error (ENOENT), never a new headerless file.
 */
import { constants } from 'node:fs';
import { closeFd, datasyncFd, openFd, writeAllFd } from './fd-io.js';

const REOPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND;

export class CastFile {
  static #open = 0;
  /** Descriptors open in this thread (residue checks). */
  static get openFiles(): number {
    return CastFile.#open;
  }

  readonly #path: string;
  #fd: number | undefined;
  /** The open in flight, so concurrent callers share it. */
  #opening: Promise<number> | undefined;
  /** Set by close(): no reopen after it. */
  #closed = false;
  /**
   * The write or sync in flight (the write queue runs one at a time). close() waits for it: a
   * descriptor closed under a write loop could be reused by another open and the loop's next
   * writev land in someone else's file (a FileHandle waited by itself).
   */
  #busy: Promise<void> | undefined;

  private constructor(path: string) {
    this.#path = path;
  }

  /**
   * Starts creating (`wx`, exclusive) or opening (`w`) the file and returns at once: writes wait for
   * the open, and ready() says how it went (rejects like fs.open). A recording queues its first
   * lines while its file is being made, so a session's start never waits for the disk.
   */
  static creating(path: string, exclusive: boolean, mode: number): CastFile {
    const f = new CastFile(path);
    f.#openWith(exclusive ? 'wx' : 'w', mode);
    return f;
  }

  /** A file created earlier and parked: no descriptor until the first write opens it for appending. */
  static parked(path: string): CastFile {
    return new CastFile(path);
  }

  /** Resolves once the descriptor is there (at once if it is); rejects like the open. */
  ready(): Promise<void> {
    return this.#fd !== undefined ? Promise.resolve() : this.#reopen().then(() => undefined);
  }

  /** Writes all of `bufs` at the end of the file, reopening a parked file first. */
  async writev(bufs: Buffer[]): Promise<void> {
    if (this.#closed) throw closedError();
    return this.#track(writeAllFd(this.#fd ?? (await this.#reopen()), bufs));
  }

  /** fdatasync (of the whole file, whichever descriptor wrote it); a parked file opens for it. */
  async datasync(): Promise<void> {
    return this.#track(datasyncFd(this.#fd ?? (await this.#reopen())));
  }

  /** Closes for good, once the write in flight has finished. Idempotent; never rejects. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#busy) await this.#busy.catch(() => undefined);
    await this.#opening?.catch(() => undefined);
    return this.#release();
  }

  async #track(op: Promise<void>): Promise<void> {
    this.#busy = op;
    try {
      await op;
    } finally {
      if (this.#busy === op) this.#busy = undefined;
    }
  }

  #adopt(fd: number): void {
    this.#fd = fd;
    CastFile.#open++;
  }

  async #reopen(): Promise<number> {
    if (this.#closed) throw closedError();
    return this.#opening ?? this.#openWith(REOPEN_FLAGS);
  }

  /** The one open in flight (a create, or a parked file's reopen); settles into #fd or an error. */
  #openWith(flags: string | number, mode?: number): Promise<number> {
    return (this.#opening = openFd(this.#path, flags, mode).then(
      (fd) => {
        this.#opening = undefined;
        if (this.#closed) {
          void closeFd(fd).catch(() => undefined);
          throw closedError();
        }
        this.#adopt(fd);
        return fd;
      },
      (err: unknown) => {
        this.#opening = undefined;
        throw err;
      },
    ));
  }

  async #release(): Promise<void> {
    const fd = this.#fd;
    if (fd === undefined) return;
    this.#fd = undefined;
    try {
      await closeFd(fd);
    } catch {
      // The descriptor is gone either way.
    } finally {
      CastFile.#open--;
    }
  }
}

function closedError(): Error {
  return Object.assign(new Error('recording file closed'), { code: 'EBADF' });
}
