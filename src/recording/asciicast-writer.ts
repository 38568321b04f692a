/**
 * One session's recording: an asciicast v2 file (`ID.cast`) and its sidecar (`ID.json`), written by
 * the session actor off the main thread. Events are formatted at once and queued; the queue is
 * written in large chunks by one write at a time, so a slow disk costs memory up to a cap, never the
 * terminal's pace. At the cap (or `maxBytes`, or a write error) the recording stops:
 * - `best-effort`: events are dropped from there on, a marker says where and why, `host.recordingStopped`
 *   reports it (a metric, a log line); the session goes on.
 * - `strict`: `opened()` rejects with RecordingFailed when the file, its header or first sidecar cannot
 *   be written (the session is refused), and a later stop reports a fatal RecordingFailed through
 *   `host.recordingStopped` (the session ends). In strict mode `output()` also returns false above half
 *   the buffer cap and `host.recordingDrained` is called below a quarter, so the actor may pause its
 *   exec stream rather than lose the session to a slow disk.
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
import type { WriteQueue } from './write-queue.js';
import { WriterSettings, type AsciicastWriterOptions, type CloseResult, type RecordingEnd } from './writer-options.js';

export { RECORDING_DEFAULTS } from './writer-options.js';
export type { AsciicastWriterOptions, CloseResult, RecordingEnd, RecordingSubject, RecordMode, WriterHost } from './writer-options.js';
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

  /**
   * Starts the recording and returns it at once: the file is created on the thread pool, and the
   * header and every event until then wait in the write queue (under the same caps as later ones),
   * so a session's start never waits for the disk. Best-effort: a file that cannot be created
   * stops the recording (the host is told). Strict: opened() must be awaited before anything runs
   * in the pod; it rejects with RecordingFailed if the header and first sidecar cannot be written.
   * The caller closes the writer either way.
   */
  static start(opts: AsciicastWriterOptions): AsciicastWriter {
    return new AsciicastWriter(opts);
  }

  /** start() and opened() together (tests, tools): resolves with the writer once its file is there. */
  static async open(opts: AsciicastWriterOptions): Promise<AsciicastWriter> {
    const w = AsciicastWriter.start(opts);
    await w.opened();
    return w;
  }

  /**
   * What is kept of the caller's options (the options object itself is not: an idle recorded
   * session pays for every retained object); the shared resolved settings, with the directory,
   * are WriterCore's.
   */
  readonly #id: string;
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
  /**
   * The start while it runs (the create, then the first sidecar; strict: the header's write between
   * them): close() waits for it. Dropped once done (best-effort, or strict once it succeeded).
   */
  #startup: Promise<void> | undefined;

  private constructor(opts: AsciicastWriterOptions) {
    super(WriterSettings.of(opts), opts.host);
    this.#id = opts.id;
    castPath(opts.dir, opts.id); // validates the id before anything is created
    for (const k of ['width', 'height'] as const) {
      if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new RangeError(`recording: ${k} must be a positive integer`);
    }
    const subject = this.host.recordingSubject();
    const argv = subject.command;
    const header = Buffer.from(headerLine({
      version: 2,
      width: opts.width,
      height: opts.height,
      timestamp: Math.floor(this.startedAt / 1000),
      command: commandString(argv),
      title: `${subject.namespace}/${subject.pod}/${subject.container}`,
      env: { TERM: opts.term ?? 'xterm-256color', SHELL: opts.shell ?? argv[0] ?? '/bin/sh' },
    }), 'utf8');
    // Acquired last, once nothing above can throw: from here the writer is the caller's to close.
    const file = CastFile.creating(this.path, this.settings.exclusive, 0o640);
    const queue = this.adopt(file);
    this.push([header]);
    queue.kick();
    const startup = (this.#startup = this.#start(file, queue));
    startup.catch(() => undefined); // opened() reports it (strict); nothing else may be unhandled
  }

  /**
   * Asked right after start(). Strict: resolves once the header and the first sidecar are written,
   * and rejects with RecordingFailed (the writer is then closed) if they cannot be. Best-effort:
   * resolves once the file exists or could not be made (which stops the recording); a session need
   * not wait for it, tests and tools do.
   */
  opened(): Promise<void> {
    if (this.settings.mode === 'strict') return this.#startup ?? Promise.resolve();
    return this.file?.ready().catch(() => undefined) ?? Promise.resolve();
  }

  get id(): string {
    return this.#id;
  }
  get path(): string {
    return castPath(this.settings.dir, this.#id);
  }

  /**
   * Output bytes, exactly as the owner received them. Returns false only in strict mode while the
   * queue is above half the cap (pause the source until host.recordingDrained).
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
      this.useSlot(slot);
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

  /**
   * Creates the file (its queue already holds the header), then writes the first sidecar. Strict:
   * the header is written first, and a failure closes the writer and rejects (the session is
   * refused). Best-effort: a failure stops the recording; the session goes on. Nothing here delays
   * a best-effort session's start: each step a start waited for was paid per idle session (issue 11:
   * a burst of starts that each live longer leaves the allocators more to keep).
   */
  async #start(file: CastFile, queue: WriteQueue): Promise<void> {
    let created = false;
    try {
      await file.ready();
      created = true;
      if (this.settings.mode === 'strict') {
        await queue.drain();
        if (this.stop) throw this.writeError ?? new Error(this.stop.reason);
      }
      await this.#firstSidecar();
      this.opening = false;
      this.#startup = undefined;
      if (this.state === 'open') this.schedule(); // the park, if nothing came after the header
    } catch (err) {
      this.opening = false;
      if (this.settings.mode !== 'strict') {
        this.#startup = undefined;
        return this.halt('write-error', errnoOf(err));
      }
      this.transition('closed');
      this.#closing = Promise.resolve({ meta: this.#meta(null), metaWritten: false });
      queue.discard();
      await this.release();
      // Only a file this recording made is removed (never one an exclusive create found there).
      if (created && this.settings.exclusive) await unlink(this.path).catch(() => undefined);
      throw new PodtermError('RecordingFailed', undefined, { cause: err });
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
    // The start (and with it the first sidecar) goes before the end, never over it; a strict start
    // that failed has closed the writer and left nothing to write.
    await this.#startup?.catch(() => undefined);
    if (this.state === 'closed') return { meta: this.#meta(end), metaWritten: false };
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
    return sidecarMeta(this.#id, this.host.recordingSubject(), this.startedAt, end, {
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
