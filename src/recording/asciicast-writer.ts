/**
 * One session's recording: an asciicast v2 file (`ID.cast`) and its sidecar (`ID.json`), written by
 * the session actor off the main thread. Events are formatted at once and queued; the queue is
 * written in large chunks by one write at a time, so a slow disk costs memory up to a cap, never the
 * terminal's pace. At the cap (or `maxBytes`, or a write error) the recording stops:
 * - `best-effort`: events are dropped from there on, a marker says where and why, `events.stopped` reports it
 *   (a metric, a log line); the session goes on.
 * - `strict`: `open()` rejects with RecordingFailed when the file cannot be created (the session is
 *   refused), and a later stop reports a fatal RecordingFailed through `events.stopped` (the session ends).
 *   In strict mode `output()` also returns false above half the buffer cap and `events.drained` fires below
 *   a quarter, so the actor may pause its exec stream rather than lose the session to a slow disk.
 *
 * Output goes through Utf8Bytes, a streaming UTF-8 check: a character split across chunks is carried
 * to the next event, never replaced. Bytes that are not UTF-8 at all are replaced with U+FFFD per
 * WHATWG Encoding (one per maximal invalid subpart), the way asciinema's own recorder does (it
 * decodes with errors="replace"). asciicast data is a JSON string, so nothing else can be stored.
 * Well-formed bytes are never decoded: they are escaped and written as they came.
 *
 * This class turns calls into lines (held small output, write slots for large output, the open and
 * the close); the file side, with the caps, parking and the timer, is WriterCore (writer-core.ts).
 */
import { unlink } from 'node:fs/promises';
import { CastFile } from './cast-file.js';
import { PodtermError } from '../protocol/errors.js';
import { commandString, escapedEventLine, eventLine, headerLine } from './asciicast-format.js';
import { escapeJsonBytes } from './json-escape.js';
import { OutputSlot } from './output-slots.js';
import { castPath, metaPath, sidecarMeta, writeFileAtomic, type RecordingMeta } from './recording-files.js';
import { errnoOf } from './writer-state.js';
import { Utf8Bytes } from './utf8-bytes.js';
import { WriterCore } from './writer-core.js';
import { WriterSettings, type AsciicastWriterOptions, type CloseResult, type RecordingEnd, type RecordingSubject } from './writer-options.js';

export { RECORDING_DEFAULTS } from './writer-options.js';
export type { AsciicastWriterOptions, CloseResult, RecordingEnd, RecordingSubject, RecordMode, WriterEvents } from './writer-options.js';
export type { WriterState } from './writer-state.js';

/** Output pieces at least this long (bytes) become their own event, in a write slot when one is free. */
const COALESCE_MAX = 4096;
/** `#held` when nothing is held: shared, never pushed to (a push follows a fresh `[piece]`). */
const NOTHING_HELD: Buffer[] = Object.freeze([]) as unknown as Buffer[];

export class AsciicastWriter extends WriterCore {
  /** .cast descriptors open in this thread: an idle recording parks its file (cast-file.ts). */
  static get openFiles(): number {
    return CastFile.openFiles;
  }

  /** Creates the file and writes the header and a first sidecar. See the class comment for modes. */
  static async open(opts: AsciicastWriterOptions): Promise<AsciicastWriter> {
    const w = new AsciicastWriter(opts);
    await w.#open(opts);
    return w;
  }

  /**
   * What is kept of the caller's options (the options object itself is not: an idle recorded
   * session pays for every retained object); the shared resolved settings, with the directory,
   * are WriterCore's.
   */
  readonly #id: string;
  readonly #subject: RecordingSubject;
  /** Made by output and dropped at a park when it carries nothing. */
  #outBytes: Utf8Bytes | undefined;
  /** Created by the first recorded input (only with recordInput). */
  #inBytes: Utf8Bytes | undefined;
  /** Output not yet in a line, already escaped (escapeJsonBytes), and its total size. */
  #held: Buffer[] = NOTHING_HELD;
  #heldBytes = 0;
  #heldT = 0;
  #outputBytes = 0;
  #inputBytes = 0;
  #closing: Promise<CloseResult> | undefined;
  /** Best-effort: the first sidecar's write, which may outlast open() (close() waits for it). */
  #first: Promise<void> | undefined;

  private constructor(opts: AsciicastWriterOptions) {
    super(WriterSettings.of(opts), opts.events);
    this.#id = opts.id;
    this.#subject = opts.subject;
    castPath(opts.dir, opts.id); // validates the id before anything is created
    for (const k of ['width', 'height'] as const) {
      if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new RangeError(`recording: ${k} must be a positive integer`);
    }
  }

  get id(): string {
    return this.#id;
  }
  get path(): string {
    return castPath(this.settings.dir, this.#id);
  }

  /**
   * Output bytes, exactly as the owner received them. Returns false only in strict mode while the
   * queue is above half the cap (pause the source until events.drained).
   */
  output(data: Uint8Array): boolean {
    if (this.state !== 'open') return this.drop();
    this.#outputBytes += data.byteLength;
    const clean = (this.#outBytes ??= new Utf8Bytes()).take(data);
    // A large piece (a stream) is an event of its own, written in place when a slot is free.
    if (clean.byteLength >= COALESCE_MAX && OutputSlot.takes(clean.byteLength) && this.#slotted(clean)) return !this.needDrain;
    const piece = escapeJsonBytes(clean);
    if (piece.byteLength > 0) {
      const t = this.now();
      // Only small pieces are coalesced: a large one is an event of its own.
      if (this.#heldBytes > 0 && piece.byteLength < COALESCE_MAX && this.#heldBytes < this.settings.flushBytes && t - this.#heldT <= this.settings.coalesceMs / 1000) {
        this.#held.push(piece);
        this.#heldBytes += piece.byteLength;
      } else this.#startHeld(piece, t);
      if (this.#heldBytes >= this.settings.flushBytes) this.commitHeld();
      this.schedule();
    }
    return !this.needDrain;
  }

  /**
   * A large output event written into this writer's slot (output-slots.ts); false when there is no
   * free slot or no file yet (the slab path then does what it always did).
   */
  #slotted(clean: Buffer): boolean {
    this.commitHeld(); // held output goes first
    if (this.state !== 'open') {
      this.drop();
      return true;
    }
    let slot = this.slot;
    if (slot && !slot.fits(clean.byteLength)) {
      this.sealSlot();
      slot = undefined;
    }
    const q = this.queue ?? this.unpark();
    if (!q) return false;
    if (!slot) {
      slot = OutputSlot.take();
      if (!slot) return false;
      this.slot = slot;
    }
    const n = slot.write(this.now(), clean);
    if (!this.admit(n, q)) return true; // stopped; the line stays uncommitted
    slot.commit(n);
    this.accepted += n;
    this.noteBacklog(q);
    if (slot.used >= this.settings.flushBytes) this.sealSlot();
    this.schedule();
    return true;
  }

  /** Input bytes; recorded only with recordInput. */
  input(data: Uint8Array): void {
    if (!this.settings.recordInput) return;
    if (this.state !== 'open') return void this.drop();
    this.#inputBytes += data.byteLength;
    const piece = (this.#inBytes ??= new Utf8Bytes()).take(data);
    if (piece.byteLength > 0) this.#event('i', piece);
  }

  resize(cols: number, rows: number): void {
    if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1) return;
    if (this.state !== 'open') return void this.drop();
    this.#event('r', Buffer.from(`${cols}x${rows}`, 'latin1'));
  }

  /** Stops the recording as a full buffer does (events its owner held for it did not fit). */
  bufferFull(): void {
    if (this.state === 'open') this.halt('buffer-full');
  }

  /** A marker (joins, leaves, resumes): players show it as a chapter. */
  marker(label: string): void {
    if (this.state !== 'open') return void this.drop();
    this.#event('m', Buffer.from(label.slice(0, 256), 'utf8'));
  }

  /**
   * Flushes, writes the end marker, closes the file and writes the sidecar. Idempotent: later calls
   * get the first call's promise. Never rejects.
   */
  close(end: RecordingEnd): Promise<CloseResult> {
    this.#closing ??= this.#close(end).catch(async () => {
      // Not expected (every step above catches its own failure), but close never rejects.
      this.forceClosed();
      this.queue?.discard(); // its slots back in the pool
      await this.release();
      return { meta: this.#meta(end), metaWritten: false };
    });
    return this.#closing;
  }

  /** Holds `piece` as the start of a new output event at `t`, after the one held so far. */
  #startHeld(piece: Buffer, t: number): void {
    this.commitHeld();
    this.#held = [piece];
    this.#heldBytes = piece.byteLength;
    this.#heldT = t;
  }

  /** A non-output event now, after any held output. `data` is well-formed UTF-8. */
  #event(code: 'i' | 'r' | 'm', data: Buffer): void {
    this.commitHeld();
    this.push(escapedEventLine(this.now(), code, [escapeJsonBytes(data)]));
    this.schedule();
  }

  protected holding(): boolean {
    return this.#heldBytes > 0;
  }

  protected dropHeld(): void {
    this.#held = NOTHING_HELD;
    this.#heldBytes = 0;
  }

  /** An idle recording keeps no UTF-8 carrier unless it carries part of a character. */
  protected onPark(): void {
    if (this.#outBytes?.carrying === false) this.#outBytes = undefined;
  }

  protected commitHeld(): void {
    if (this.#heldBytes === 0) return;
    const line = escapedEventLine(this.#heldT, 'o', this.#held);
    this.#held = NOTHING_HELD;
    this.#heldBytes = 0;
    this.push(line);
  }

  async #open(o: AsciicastWriterOptions): Promise<void> {
    const argv = o.subject.command;
    try {
      const queue = this.adopt(await CastFile.create(this.path, this.settings.exclusive, 0o640));
      this.push([Buffer.from(headerLine({
        version: 2,
        width: o.width,
        height: o.height,
        timestamp: Math.floor(this.startedAt / 1000),
        command: commandString(argv),
        title: `${o.subject.namespace}/${o.subject.pod}/${o.subject.container}`,
        env: { TERM: o.term ?? 'xterm-256color', SHELL: o.shell ?? argv[0] ?? '/bin/sh' },
      }), 'utf8')]);
      // Strict: open() waits for the header and the first sidecar (the session is refused if they
      // fail). Best-effort: the file exists, which is all a session's start waits for; the header
      // goes first in the queue and the sidecar beside it, and close() waits for the sidecar. Each
      // step a start waited for was paid per idle session (issue 11: a burst of starts that each
      // live longer leaves the allocators more to keep).
      if (this.settings.mode === 'strict') {
        await queue.drain();
        if (this.stop) throw this.writeError ?? new Error(this.stop.reason);
        await this.#firstSidecar();
      } else {
        queue.kick();
        // Dropped once written: an idle recording keeps no settled promise.
        this.#first = this.#firstSidecar().then(
          () => void (this.#first = undefined),
          (err: unknown) => {
            this.#first = undefined;
            this.halt('write-error', errnoOf(err));
          },
        );
      }
      this.opening = false;
      this.schedule();
    } catch (err) {
      this.opening = false;
      if (this.settings.mode === 'strict') {
        this.transition('closed');
        this.#closing = Promise.resolve({ meta: this.#meta(null), metaWritten: false });
        await this.release();
        if (this.settings.exclusive) await unlink(this.path).catch(() => undefined);
        throw new PodtermError('RecordingFailed', undefined, { cause: err });
      }
      this.halt('write-error', errnoOf(err));
    }
  }

  /**
   * The first sidecar (endedAt null: a crash still leaves the recording listed). Not fsync'ed: the
   * .cast itself is synced only at close, and a crash leaves endedAt null anyway.
   */
  #firstSidecar(): Promise<void> {
    return this.#writeSidecar(this.#meta(null), false);
  }

  /** The sidecar `ID.json` beside the .cast, replaced whole (writeFileAtomic). */
  #writeSidecar(meta: RecordingMeta, durable: boolean): Promise<void> {
    return writeFileAtomic(metaPath(this.settings.dir, this.#id), JSON.stringify(meta) + '\n', durable);
  }

  async #close(end: RecordingEnd): Promise<CloseResult> {
    this.transition('closing');
    this.disarm();
    // The first sidecar goes before the last, never over it.
    await this.#first;
    if (!this.stop) {
      const carried = this.#outBytes?.end();
      if (carried && carried.byteLength > 0) {
        const rest = escapeJsonBytes(carried);
        // With the output it came with when that is held; else (it went into a slot) an event of its own, now.
        if (this.#heldBytes > 0) {
          this.#held.push(rest);
          this.#heldBytes += rest.byteLength;
        } else this.#startHeld(rest, this.now());
      }
      this.commitHeld();
      const tail = this.#inBytes?.end();
      if (tail && tail.byteLength > 0) this.push(escapedEventLine(this.now(), 'i', [escapeJsonBytes(tail)]));
      this.push([Buffer.from(eventLine(this.now(), 'm', `end: ${end.outcome}`.slice(0, 256)), 'utf8')]);
    }
    this.sealSlot();
    // A parked recording (nothing written since) still gets its file synced below.
    if (!this.queue) this.unpark();
    const flushed = await this.flushWithin(this.settings.closeTimeoutMs);
    if (!flushed) this.halt('close-timeout');
    if (flushed) {
      await this.file?.datasync().catch(() => undefined);
      await this.release();
    } else {
      // A write is stuck in the thread pool; CastFile.close waits for it, so let it finish alone.
      void this.release();
    }
    const meta = this.#meta(end);
    let metaWritten = true;
    await this.#writeSidecar(meta, true).catch(() => (metaWritten = false));
    this.transition('closed');
    return { meta, metaWritten };
  }

  #meta(end: RecordingEnd | null): RecordingMeta {
    return sidecarMeta(this.#id, this.#subject, this.startedAt, end, {
      bytes: this.written(),
      outputBytes: this.#outputBytes,
      inputBytes: this.#inputBytes,
      inputRecorded: this.settings.recordInput,
      mode: this.settings.mode,
      stopped: this.stop ?? null,
      droppedEvents: this.dropped,
    });
  }
}
