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
 */
import { unlink } from 'node:fs/promises';
import { CastFile } from './cast-file.js';
import { PodtermError } from '../protocol/errors.js';
import { commandString, escapedEventLine, eventLine, headerLine } from './asciicast-format.js';
import { escapeJsonBytes } from './json-escape.js';
import { OutputSlot } from './output-slots.js';
import { castPath, metaPath, sidecarMeta, writeFileAtomic, type RecordingMeta, type RecordingStop, type StopReason } from './recording-files.js';
import { errnoOf, STOP_TEXT, writerTransition, type WriterState } from './writer-state.js';
import { Utf8Bytes } from './utf8-bytes.js';
import { WriteQueue } from './write-queue.js';
import { WriterSettings, type AsciicastWriterOptions, type CloseResult, type RecordingEnd, type RecordingSubject, type WriterEvents } from './writer-options.js';

export { RECORDING_DEFAULTS } from './writer-options.js';
export type { AsciicastWriterOptions, CloseResult, RecordingEnd, RecordingSubject, RecordMode, WriterEvents } from './writer-options.js';
export type { WriterState } from './writer-state.js';

/** Output pieces at least this long (UTF-16 units) become their own event. */
const COALESCE_MAX = 4096;
/** `#held` when nothing is held: shared, never pushed to (a push follows a fresh `[piece]`). */
const NOTHING_HELD: Buffer[] = Object.freeze([]) as unknown as Buffer[];

export class AsciicastWriter {
  static #live = 0;
  /** Writers opened and not yet closed in this thread, parked or not (residue checks). */
  static get live(): number {
    return AsciicastWriter.#live;
  }
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

  #state: WriterState = 'open';
  /**
   * What is kept of the caller's options (the options object itself is not: an idle recorded
   * session pays for every retained object), and the shared resolved settings.
   */
  readonly #id: string;
  readonly #dir: string;
  readonly #subject: RecordingSubject;
  readonly #events: WriterEvents | undefined;
  readonly #s: WriterSettings;
  readonly #startedAt = Date.now();
  readonly #t0 = performance.now();
  /** Made by output and dropped at a park when it carries nothing. */
  #outBytes: Utf8Bytes | undefined;
  /** Created by the first recorded input (only with recordInput). */
  #inBytes: Utf8Bytes | undefined;
  /** The .cast and its write queue; both dropped while the recording is parked (see #park). */
  #file: CastFile | undefined;
  #lastT = 0;
  /** Output not yet in a line, already escaped (escapeJsonBytes), and its total size. */
  #held: Buffer[] = NOTHING_HELD;
  #heldBytes = 0;
  #heldT = 0;
  /** Exists once the file is open, and again after a park when there is something to write. */
  #queue: WriteQueue | undefined;
  /** Large output written in place (output-slots.ts): lines accepted, not yet queued. */
  #slot: OutputSlot | undefined;
  /** Idle: the descriptor is closed and the queue dropped; the next line makes them again. */
  #parked = false;
  /** Bytes written by queues dropped at a park. */
  #writtenBefore = 0;
  /** Counted in `live` (from a successful create to the release). */
  #counted = false;
  /** Bytes of the .cast accepted (queued, in flight or written). */
  #accepted = 0;
  /** The flush timer (output held or queued) or the park timer (all written, file open). */
  #timer: NodeJS.Timeout | undefined;
  #timerKind: 'flush' | 'park' | undefined;
  #stop: RecordingStop | undefined;
  /** The write error that stopped the recording (the cause of a strict open's rejection). */
  #writeError: unknown;
  #dropped = 0;
  #outputBytes = 0;
  #inputBytes = 0;
  #needDrain = false;
  #closing: Promise<CloseResult> | undefined;
  /** During open() a strict failure rejects open() instead of telling events.stopped. */
  #opening = true;

  private constructor(opts: AsciicastWriterOptions) {
    this.#id = opts.id;
    this.#dir = opts.dir;
    this.#subject = opts.subject;
    this.#events = opts.events;
    this.#s = WriterSettings.of(opts);
    castPath(opts.dir, opts.id); // validates the id before anything is created
    for (const k of ['width', 'height'] as const) {
      if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new RangeError(`recording: ${k} must be a positive integer`);
    }
  }

  get state(): WriterState {
    return this.#state;
  }
  get id(): string {
    return this.#id;
  }
  get path(): string {
    return castPath(this.#dir, this.#id);
  }
  get stop(): RecordingStop | undefined {
    return this.#stop;
  }

  /**
   * Output bytes, exactly as the owner received them. Returns false only in strict mode while the
   * queue is above half the cap (pause the source until events.drained).
   */
  output(data: Uint8Array): boolean {
    if (this.#state !== 'open') return this.#drop();
    this.#outputBytes += data.byteLength;
    const clean = (this.#outBytes ??= new Utf8Bytes()).take(data);
    // A large piece (a stream) is an event of its own, written in place when a slot is free.
    if (clean.byteLength >= COALESCE_MAX && OutputSlot.takes(clean.byteLength) && this.#slotted(clean)) return !this.#needDrain;
    const piece = escapeJsonBytes(clean);
    if (piece.byteLength > 0) {
      const t = this.#now();
      // Only small pieces are coalesced: a large one is an event of its own.
      if (this.#heldBytes > 0 && piece.byteLength < COALESCE_MAX && this.#heldBytes < this.#s.flushBytes && t - this.#heldT <= this.#s.coalesceMs / 1000) {
        this.#held.push(piece);
        this.#heldBytes += piece.byteLength;
      } else {
        this.#commitHeld();
        this.#held = [piece];
        this.#heldBytes = piece.byteLength;
        this.#heldT = t;
      }
      if (this.#heldBytes >= this.#s.flushBytes) this.#commitHeld();
      this.#schedule();
    }
    return !this.#needDrain;
  }

  /**
   * A large output event written into this writer's slot (output-slots.ts); false when there is no
   * free slot or no file yet (the slab path then does what it always did).
   */
  #slotted(clean: Buffer): boolean {
    if (this.#heldBytes > 0) {
      this.#commitHeld(); // held output goes first
      if (this.#state !== 'open') {
        this.#drop();
        return true;
      }
    }
    let slot = this.#slot;
    if (slot && !slot.fits(clean.byteLength)) {
      this.#sealSlot();
      slot = undefined;
    }
    const q = this.#queue ?? this.#unpark();
    if (!q) return false;
    if (!slot) {
      slot = OutputSlot.take();
      if (!slot) return false;
      this.#slot = slot;
    }
    const n = slot.write(this.#now(), clean);
    if (!this.#admit(n, q)) return true; // stopped; the line stays uncommitted
    slot.commit(n);
    this.#accepted += n;
    this.#noteBacklog(q);
    if (slot.used >= this.#s.flushBytes) this.#sealSlot();
    this.#schedule();
    return true;
  }

  /** Hands the slot's lines to the queue, after everything accepted before them. */
  #sealSlot(): void {
    const slot = this.#slot;
    if (!slot) return;
    this.#slot = undefined;
    if (slot.used > 0 && this.#queue) this.#queue.pushSlot(slot);
    else slot.release();
  }

  /** Input bytes; recorded only with recordInput. */
  input(data: Uint8Array): void {
    if (!this.#s.recordInput) return;
    if (this.#state !== 'open') return void this.#drop();
    this.#inputBytes += data.byteLength;
    const piece = (this.#inBytes ??= new Utf8Bytes()).take(data);
    if (piece.byteLength > 0) this.#event('i', piece);
  }

  resize(cols: number, rows: number): void {
    if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1) return;
    if (this.#state !== 'open') return void this.#drop();
    this.#event('r', Buffer.from(`${cols}x${rows}`, 'latin1'));
  }

  /** Stops the recording as a full buffer does (events its owner held for it did not fit). */
  bufferFull(): void {
    if (this.#state === 'open') this.#halt('buffer-full');
  }

  /** A marker (joins, leaves, resumes): players show it as a chapter. */
  marker(label: string): void {
    if (this.#state !== 'open') return void this.#drop();
    this.#event('m', Buffer.from(label.slice(0, 256), 'utf8'));
  }

  /**
   * Flushes, writes the end marker, closes the file and writes the sidecar. Idempotent: later calls
   * get the first call's promise. Never rejects.
   */
  close(end: RecordingEnd): Promise<CloseResult> {
    this.#closing ??= this.#close(end).catch(async () => {
      // Not expected (every step above catches its own failure), but close never rejects.
      this.#state = 'closed';
      this.#queue?.discard(); // its slots back in the pool
      await this.#release();
      return { meta: this.#meta(end), metaWritten: false };
    });
    return this.#closing;
  }

  #transition(to: WriterState): void {
    this.#state = writerTransition(this.#state, to);
  }

  #drop(): boolean {
    if (this.#state === 'stopped') this.#dropped++;
    return !this.#needDrain;
  }

  /** Seconds since the start, never going backwards (performance.now is monotonic). */
  #now(): number {
    const t = Math.round((performance.now() - this.#t0) * 1000) / 1e6;
    if (t > this.#lastT) this.#lastT = t;
    return this.#lastT;
  }

  /** A non-output event now, after any held output. `data` is well-formed UTF-8. */
  #event(code: 'i' | 'r' | 'm', data: Buffer): void {
    this.#commitHeld();
    this.#push(escapedEventLine(this.#now(), code, [escapeJsonBytes(data)]));
    this.#schedule();
  }

  #commitHeld(): void {
    if (this.#heldBytes === 0) return;
    const line = escapedEventLine(this.#heldT, 'o', this.#held);
    this.#held = NOTHING_HELD;
    this.#heldBytes = 0;
    this.#push(line);
  }

  /** Queues one line (its parts in order), or stops the recording if it would pass a cap. */
  #push(line: readonly Buffer[]): void {
    if (this.#state !== 'open' && this.#state !== 'closing') return;
    if (this.#stop) return;
    let n = 0;
    for (const part of line) n += part.byteLength;
    const q = this.#queue ?? this.#unpark();
    if (!q || !this.#admit(n, q)) return;
    this.#sealSlot();
    q.push(line, n);
    this.#accepted += n;
    this.#noteBacklog(q);
  }

  /** Whether `n` more bytes fit the caps; if not, stops the recording and returns false. */
  #admit(n: number, q: WriteQueue): boolean {
    if (this.#s.maxBytes > 0 && this.#accepted + n > this.#s.maxBytes) {
      this.#halt('max-bytes');
      return false;
    }
    if (q.pending + (this.#slot?.used ?? 0) + n > this.#s.bufferBytes) {
      this.#halt('buffer-full');
      return false;
    }
    return true;
  }

  /** Strict mode: above half the buffer the source should pause (output() returns false). */
  #noteBacklog(q: WriteQueue): void {
    if (this.#s.mode === 'strict' && q.pending + (this.#slot?.used ?? 0) >= this.#s.bufferBytes / 2) this.#needDrain = true;
  }

  /** Stops the recording here; state flips before anyone is called back. */
  #halt(reason: StopReason, errno?: string): void {
    if (this.#stop) return;
    this.#dropped++;
    const failed = reason === 'write-error' || reason === 'close-timeout';
    const written = this.#written();
    this.#stop = { reason, at: this.#lastT, atBytes: failed ? written : this.#accepted, ...(errno ? { errno } : {}) };
    if (this.#state === 'open') this.#transition('stopped');
    this.#held = NOTHING_HELD;
    this.#heldBytes = 0;
    this.#needDrain = false; // nothing more is queued: never leave a source paused
    if (failed) {
      this.#slot?.release();
      this.#slot = undefined;
      this.#dropped += this.#queue?.discard() ?? 0;
    } else if (this.#queue ?? this.#unpark()) {
      this.#sealSlot();
      // The marker goes after everything accepted, past the caps (it is small and final).
      const line = Buffer.from(eventLine(this.#lastT, 'm', STOP_TEXT[reason]), 'utf8');
      this.#queue!.push([line], line.byteLength);
      this.#accepted += line.byteLength;
      this.#queue!.kick();
    }
    const fatal = this.#s.mode === 'strict' ? new PodtermError('RecordingFailed') : undefined;
    if (fatal && this.#opening) return;
    try {
      this.#events?.stopped?.(this.#stop, fatal);
    } catch {
      // A callback's failure is its own; the recording's state is already final.
    }
  }

  /**
   * Arms the one timer: a flush while output is held or queued below the chunk size, else a park
   * (close the idle file) once everything is written. A flush replaces a pending park.
   */
  #schedule(): void {
    const q = this.#queue;
    // No queue: not open yet (nothing to do) or parked (held output still needs its flush).
    if (!q && !this.#parked) return;
    if (q && q.queued >= this.#s.flushBytes) return q.kick();
    if ((q?.queued ?? 0) > 0 || this.#heldBytes > 0 || this.#slot) {
      if (this.#timerKind === 'flush') return;
      this.#arm('flush', this.#s.flushIntervalMs);
    } else if (q?.idle && this.#s.exclusive && this.#s.parkAfterMs > 0 && this.#timerKind !== 'park') {
      this.#arm('park', this.#s.parkAfterMs);
    }
  }

  #arm(kind: 'flush' | 'park', ms: number): void {
    clearTimeout(this.#timer);
    this.#timerKind = kind;
    this.#timer = setTimeout(() => this.#fire(), ms);
    this.#timer.unref();
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerKind = undefined;
  }

  #fire(): void {
    const kind = this.#timerKind;
    this.#timer = undefined;
    this.#timerKind = undefined;
    if (this.#state === 'closing' || this.#state === 'closed') return;
    if (kind === 'flush') {
      this.#commitHeld();
      this.#sealSlot();
      this.#queue?.kick();
      // Nothing left to write (or the write finished at once): arm the park instead.
      if (!this.#timer) this.#schedule();
      return;
    }
    this.#park();
  }

  /**
   * Parks an idle recording: nothing held, queued or in flight. The descriptor closes and the file
   * and queue objects go, so an idle recorded session keeps only this writer. The next line makes
   * them again (#unpark) and the file reopens for appending on its first write.
   */
  #park(): void {
    const q = this.#queue;
    const file = this.#file;
    if (this.#heldBytes > 0 || this.#slot || !q || !file || !q.idle || q.failed) return;
    this.#writtenBefore += q.written;
    this.#queue = undefined;
    this.#file = undefined;
    if (this.#outBytes?.carrying === false) this.#outBytes = undefined;
    this.#parked = true;
    void file.close();
  }

  #unpark(): WriteQueue | undefined {
    if (!this.#parked) return undefined;
    this.#parked = false;
    this.#file = CastFile.parked(this.path);
    this.#queue = this.#openQueue(this.#file);
    return this.#queue;
  }

  #written(): number {
    return this.#writtenBefore + (this.#queue?.written ?? 0);
  }

  #openQueue(file: CastFile): WriteQueue {
    return new WriteQueue(file, this.#s.flushBytes, {
      onError: (err) => {
        this.#writeError ??= err;
        this.#halt('write-error', errnoOf(err));
      },
      onProgress: () => {
        if (!this.#needDrain || this.#state !== 'open' || (this.#queue?.pending ?? 0) > this.#s.bufferBytes / 4) return;
        this.#needDrain = false;
        try {
          this.#events?.drained?.();
        } catch {
          // as for events.stopped
        }
      },
      onIdle: () => {
        if (this.#state !== 'closing') this.#schedule();
      },
    });
  }

  async #open(o: AsciicastWriterOptions): Promise<void> {
    const argv = o.subject.command;
    try {
      this.#file = await CastFile.create(this.path, this.#s.exclusive, 0o640);
      AsciicastWriter.#live++;
      this.#counted = true;
      this.#queue = this.#openQueue(this.#file);
      this.#push([Buffer.from(headerLine({
        version: 2,
        width: o.width,
        height: o.height,
        timestamp: Math.floor(this.#startedAt / 1000),
        command: commandString(argv),
        title: `${o.subject.namespace}/${o.subject.pod}/${o.subject.container}`,
        env: { TERM: o.term ?? 'xterm-256color', SHELL: o.shell ?? argv[0] ?? '/bin/sh' },
      }), 'utf8')]);
      await this.#queue.drain();
      if (this.#stop) throw this.#writeError ?? new Error(this.#stop.reason);
      // Not fsync'ed: the .cast itself is synced only at close, and a crash leaves endedAt null anyway.
      await writeFileAtomic(metaPath(this.#dir, this.#id), JSON.stringify(this.#meta(null)) + '\n', false);
      this.#opening = false;
      this.#schedule();
    } catch (err) {
      this.#opening = false;
      if (this.#s.mode === 'strict') {
        this.#transition('closed');
        this.#closing = Promise.resolve({ meta: this.#meta(null), metaWritten: false });
        await this.#release();
        if (this.#s.exclusive) await unlink(this.path).catch(() => undefined);
        throw new PodtermError('RecordingFailed', undefined, { cause: err });
      }
      this.#halt('write-error', errnoOf(err));
    }
  }

  async #close(end: RecordingEnd): Promise<CloseResult> {
    this.#transition('closing');
    this.#disarm();
    if (!this.#stop) {
      const carried = this.#outBytes?.end();
      if (carried && carried.byteLength > 0) {
        const rest = escapeJsonBytes(carried);
        if (this.#heldBytes > 0) this.#held.push(rest);
        else {
          // Its own event, now: the last output may have gone into a slot after the last held event.
          this.#held = [rest];
          this.#heldT = this.#now();
        }
        this.#heldBytes += rest.byteLength;
      }
      this.#commitHeld();
      const tail = this.#inBytes?.end();
      if (tail && tail.byteLength > 0) this.#push(escapedEventLine(this.#now(), 'i', [escapeJsonBytes(tail)]));
      this.#push([Buffer.from(eventLine(this.#now(), 'm', `end: ${end.outcome}`.slice(0, 256)), 'utf8')]);
    }
    this.#sealSlot();
    // A parked recording (nothing written since) still gets its file synced below.
    if (!this.#queue) this.#unpark();
    const flushed = await this.#flushWithin(this.#s.closeTimeoutMs);
    if (!flushed) this.#halt('close-timeout');
    if (flushed) {
      await this.#file?.datasync().catch(() => undefined);
      await this.#release();
    } else {
      // A write is stuck in the thread pool; CastFile.close waits for it, so let it finish alone.
      void this.#release();
    }
    const meta = this.#meta(end);
    let metaWritten = true;
    await writeFileAtomic(metaPath(this.#dir, this.#id), JSON.stringify(meta) + '\n').catch(() => (metaWritten = false));
    this.#transition('closed');
    return { meta, metaWritten };
  }

  /** Waits for the queue to reach the file; false if that takes longer than `ms`. */
  async #flushWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
    const drained = (this.#queue?.drain() ?? Promise.resolve()).then(() => true as const);
    try {
      return await Promise.race([drained, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #release(): Promise<void> {
    this.#disarm();
    // Sealed into the queue by every path that writes; one left here was never queued.
    this.#slot?.release();
    this.#slot = undefined;
    const file = this.#file;
    this.#file = undefined;
    const counted = this.#counted;
    this.#counted = false;
    // Counted until the descriptor is really closed (a stuck write holds it).
    await file?.close();
    if (counted) AsciicastWriter.#live--;
  }

  #meta(end: RecordingEnd | null): RecordingMeta {
    return sidecarMeta(this.#id, this.#subject, this.#startedAt, end, {
      bytes: this.#written(),
      outputBytes: this.#outputBytes,
      inputBytes: this.#inputBytes,
      inputRecorded: this.#s.recordInput,
      mode: this.#s.mode,
      stopped: this.#stop ?? null,
      droppedEvents: this.#dropped,
    });
  }
}
