/**
 * The .cast file as the write queue sees it. An idle recording parks (asciicast-writer.ts): it
 * closes this file and later makes a `parked` one whose first write opens the file again for
 * appending, so thousands of idle recorded sessions hold no descriptor, no FileHandle and no native
 * handle state each (issue 11: memory per idle session within 5 % of recording off).
 *
 * Reopening uses O_WRONLY|O_APPEND without O_CREAT: a .cast that vanished under a running session
 * (someone deleted it) is a write error (ENOENT), never a new headerless file.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

const REOPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND;

export class CastFile {
  static #open = 0;
  /** Descriptors open in this thread (residue checks). */
  static get openFiles(): number {
    return CastFile.#open;
  }

  readonly #path: string;
  #fh: FileHandle | undefined;
  /** The open in flight, so concurrent callers share it. */
  #opening: Promise<FileHandle> | undefined;
  /** Set by close(): no reopen after it. */
  #closed = false;

  private constructor(path: string) {
    this.#path = path;
  }

  /** Creates (`wx`, exclusive) or opens (`w`) the file; rejects like fs.open. */
  static async create(path: string, exclusive: boolean, mode: number): Promise<CastFile> {
    const f = new CastFile(path);
    f.#adopt(await open(path, exclusive ? 'wx' : 'w', mode));
    return f;
  }

  /** A file created earlier and parked: no descriptor until the first write opens it for appending. */
  static parked(path: string): CastFile {
    return new CastFile(path);
  }

  /** Writes all of `bufs` at the end of the file, reopening a parked file first. */
  async writev(bufs: Buffer[]): Promise<void> {
    const fh = this.#fh ?? (await this.#reopen());
    let rest = bufs;
    // writev may write less than asked (signals, pipes): loop until all of it is written.
    while (rest.length > 0) {
      let { bytesWritten } = await fh.writev(rest);
      let i = 0;
      while (i < rest.length && bytesWritten >= rest[i]!.byteLength) bytesWritten -= rest[i++]!.byteLength;
      rest = rest.slice(i);
      if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
    }
  }

  /** fdatasync (of the whole file, whichever descriptor wrote it); a parked file opens for it. */
  async datasync(): Promise<void> {
    await (this.#fh ?? (await this.#reopen())).datasync();
  }

  /** Closes for good. Idempotent; never rejects. */
  close(): Promise<void> {
    this.#closed = true;
    return this.#release();
  }

  #adopt(fh: FileHandle): void {
    this.#fh = fh;
    CastFile.#open++;
  }

  async #reopen(): Promise<FileHandle> {
    if (this.#closed) throw Object.assign(new Error('recording file closed'), { code: 'EBADF' });
    this.#opening ??= open(this.#path, REOPEN_FLAGS).then(
      (fh) => {
        this.#opening = undefined;
        if (this.#closed) {
          void fh.close().catch(() => undefined);
          throw Object.assign(new Error('recording file closed'), { code: 'EBADF' });
        }
        this.#adopt(fh);
        return fh;
      },
      (err: unknown) => {
        this.#opening = undefined;
        throw err;
      },
    );
    return this.#opening;
  }

  async #release(): Promise<void> {
    const fh = this.#fh;
    if (!fh) return;
    this.#fh = undefined;
    try {
      await fh.close();
    } catch {
      // The descriptor is gone either way.
    } finally {
      CastFile.#open--;
    }
  }
}
