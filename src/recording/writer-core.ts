/**
 * The file side of one recording (AsciicastWriter is the event side): the .cast and its write queue,
 * the caps (`maxBytes`, the buffer cap) and what a stop writes, the one timer (a flush while output
 * waits, a park once the file is idle: the descriptor closes and the file and queue objects go, and
 * the next line opens the file again for appending), and the writer's state. An abstract base rather
 * than an object of its own: an idle recorded session keeps one object, the writer.
 */
import { CastFile } from './cast-file.js';
import { PodtermError } from '../protocol/errors.js';
import { eventLine } from './asciicast-format.js';
import type { OutputSlot } from './output-slots.js';
import type { RecordingStop, StopReason } from './recording-files.js';
import { errnoOf, STOP_TEXT, writerTransition, type WriterState } from './writer-state.js';
import { WriteQueue } from './write-queue.js';
import type { WriterHost, WriterSettings } from './writer-options.js';

export abstract class WriterCore {
  static #live = 0;
  /** Writers opened and not yet closed in this thread, parked or not (residue checks). */
  static get live(): number {
    return WriterCore.#live;
  }
  #state: WriterState = 'open';
  protected readonly host: WriterHost;
  protected readonly settings: WriterSettings;
  /**
   * The start, in whole milliseconds of performance.now(): a small integer (a V8 Smi, stored in the
   * object itself for the process's first 24 days) rather than a boxed double per idle recording.
   */
  readonly #t0 = Math.floor(performance.now());
  /** The .cast and its write queue; both dropped while the recording is parked (see #park). */
  protected file: CastFile | undefined;
  /** Exists from the start (while the file is being created), and again after a park when there is something to write. */
  protected queue: WriteQueue | undefined;
  /** Large output written in place (output-slots.ts): lines accepted, not yet queued. */
  protected slot: OutputSlot | undefined;
  /** Idle: the descriptor is closed and the queue dropped; the next line makes them again. */
  #parked = false;
  /** Bytes written by queues dropped at a park. */
  #writtenBefore = 0;
  /** Counted in `live` (from the start to the release). */
  #counted = false;
  /** Bytes of the .cast accepted (queued, in flight or written). */
  protected accepted = 0;
  /** The flush timer (output held or queued) or the park timer (all written, file open). */
  #timer: NodeJS.Timeout | undefined;
  #timerKind: 'flush' | 'park' | undefined;
  #stop: RecordingStop | undefined;
  /** The write error that stopped the recording (the cause of a strict open's rejection). */
  protected writeError: unknown;
  protected dropped = 0;
  protected needDrain = false;
  /** While a strict recording starts, a failure rejects opened() instead of telling the host. */
  protected opening = true;

  protected constructor(settings: WriterSettings, host: WriterHost) {
    this.settings = settings;
    this.host = host;
  }

  /** The .cast's path. */
  abstract get path(): string;
  /** Whether output is held for a line not yet pushed (no park while it is). */
  protected abstract holding(): boolean;
  /** Pushes the held output as its line (the flush timer, before writing). */
  protected abstract commitHeld(): void;
  /** Drops the held output (the recording stopped). */
  protected abstract dropHeld(): void;
  /** The file was parked: let go of what an idle recording need not keep. */
  protected abstract onPark(): void;

  /** The file being created: it is counted in `live` until released, and its queue starts (its writes wait for the file). */
  protected adopt(file: CastFile): WriteQueue {
    this.file = file;
    WriterCore.#live++;
    this.#counted = true;
    return (this.queue = this.#openQueue(file));
  }

  /** Closed by an unexpected failure of close (close never rejects). */
  protected forceClosed(): void {
    this.#state = 'closed';
  }

  get state(): WriterState {
    return this.#state;
  }
  get stop(): RecordingStop | undefined {
    return this.#stop;
  }

  /** Hands the slot's lines to the queue, after everything accepted before them. */
  protected sealSlot(): void {
    const slot = this.slot;
    if (!slot) return;
    this.slot = undefined;
    if (slot.used > 0 && this.queue) this.queue.pushSlot(slot);
    else slot.release();
  }

  protected transition(to: WriterState): void {
    this.#state = writerTransition(this.#state, to);
  }

  protected drop(): boolean {
    if (this.#state === 'stopped') this.dropped++;
    return !this.needDrain;
  }

  /** Wall-clock time of the start, ms since the epoch (the header's timestamp, the sidecar's startedAt). */
  protected get startedAt(): number {
    return Math.round(performance.timeOrigin + this.#t0);
  }

  /** Seconds since the start, to the microsecond; never going backwards (performance.now is monotonic, and so is rounding it). */
  protected now(): number {
    return Math.round((performance.now() - this.#t0) * 1000) / 1e6;
  }

  /** Queues one line (its parts in order), or stops the recording if it would pass a cap. */
  protected push(line: readonly Buffer[]): void {
    if (this.#state !== 'open' && this.#state !== 'closing') return;
    if (this.#stop) return;
    let n = 0;
    for (const part of line) n += part.byteLength;
    const q = this.queue ?? this.unpark();
    if (!q || !this.admit(n, q)) return;
    this.sealSlot();
    q.push(line, n);
    this.accepted += n;
    this.noteBacklog(q);
  }

  /** Whether `n` more bytes fit the caps; if not, stops the recording and returns false. */
  protected admit(n: number, q: WriteQueue): boolean {
    if (this.settings.maxBytes > 0 && this.accepted + n > this.settings.maxBytes) {
      this.halt('max-bytes');
      return false;
    }
    if (q.pending + (this.slot?.used ?? 0) + n > this.settings.bufferBytes) {
      this.halt('buffer-full');
      return false;
    }
    return true;
  }

  /** Strict mode: above half the buffer the source should pause (output() returns false). */
  protected noteBacklog(q: WriteQueue): void {
    if (this.settings.mode === 'strict' && q.pending + (this.slot?.used ?? 0) >= this.settings.bufferBytes / 2) this.needDrain = true;
  }

  /** Stops the recording here; state flips before anyone is called back. */
  protected halt(reason: StopReason, errno?: string): void {
    if (this.#stop) return;
    this.dropped++;
    const failed = reason === 'write-error' || reason === 'close-timeout';
    const written = this.written();
    const at = this.now();
    this.#stop = { reason, at, atBytes: failed ? written : this.accepted, ...(errno ? { errno } : {}) };
    if (this.#state === 'open') this.transition('stopped');
    this.dropHeld();
    this.needDrain = false; // nothing more is queued: never leave a source paused
    if (failed) {
      this.slot?.release();
      this.slot = undefined;
      this.dropped += this.queue?.discard() ?? 0;
    } else if (this.queue ?? this.unpark()) {
      this.sealSlot();
      // The marker goes after everything accepted, past the caps (it is small and final).
      const line = Buffer.from(eventLine(at, 'm', STOP_TEXT[reason]), 'utf8');
      this.queue!.push([line], line.byteLength);
      this.accepted += line.byteLength;
      this.queue!.kick();
    }
    const fatal = this.settings.mode === 'strict' ? new PodtermError('RecordingFailed') : undefined;
    if (fatal && this.opening) return;
    try {
      this.host.recordingStopped?.(this.#stop, fatal);
    } catch {
      // A callback's failure is its own; the recording's state is already final.
    }
  }

  /**
   * Arms the one timer: a flush while output is held or queued below the chunk size, else a park
   * (close the idle file) once everything is written. A flush replaces a pending park.
   */
  protected schedule(): void {
    const q = this.queue;
    // No queue: not open yet (nothing to do) or parked (held output still needs its flush).
    if (!q && !this.#parked) return;
    if (q && q.queued >= this.settings.flushBytes) return q.kick();
    if ((q?.queued ?? 0) > 0 || this.holding() || this.slot) {
      if (this.#timerKind === 'flush') return;
      this.#arm('flush', this.settings.flushIntervalMs);
    } else if (q?.idle && this.settings.exclusive && this.settings.parkAfterMs > 0 && this.#timerKind !== 'park') {
      this.#arm('park', this.settings.parkAfterMs);
    }
  }

  #arm(kind: 'flush' | 'park', ms: number): void {
    clearTimeout(this.#timer);
    this.#timerKind = kind;
    this.#timer = setTimeout(() => this.#fire(), ms);
    this.#timer.unref();
  }

  protected disarm(): void {
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
      this.commitHeld();
      this.sealSlot();
      this.queue?.kick();
      // Nothing left to write (or the write finished at once): arm the park instead.
      if (!this.#timer) this.schedule();
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
    const q = this.queue;
    const file = this.file;
    if (this.holding() || this.slot || !q || !file || !q.idle || q.failed) return;
    this.#writtenBefore += q.written;
    this.queue = undefined;
    this.file = undefined;
    this.onPark();
    this.#parked = true;
    void file.close();
  }

  protected unpark(): WriteQueue | undefined {
    if (!this.#parked) return undefined;
    this.#parked = false;
    this.file = CastFile.parked(this.path);
    this.queue = this.#openQueue(this.file);
    return this.queue;
  }

  protected written(): number {
    return this.#writtenBefore + (this.queue?.written ?? 0);
  }

  #openQueue(file: CastFile): WriteQueue {
    return new WriteQueue(file, this.settings.flushBytes, {
      onError: (err) => {
        this.writeError ??= err;
        this.halt('write-error', errnoOf(err));
      },
      onProgress: () => {
        if (!this.needDrain || this.#state !== 'open' || (this.queue?.pending ?? 0) > this.settings.bufferBytes / 4) return;
        this.needDrain = false;
        try {
          this.host.recordingDrained?.();
        } catch {
          // as for recordingStopped
        }
      },
      onIdle: () => {
        if (this.#state !== 'closing') this.schedule();
      },
    });
  }

  /** Waits for the queue to reach the file; false if that takes longer than `ms`. */
  protected async flushWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
    const drained = (this.queue?.drain() ?? Promise.resolve()).then(() => true as const);
    try {
      return await Promise.race([drained, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  protected async release(): Promise<void> {
    this.disarm();
    // Sealed into the queue by every path that writes; one left here was never queued.
    this.slot?.release();
    this.slot = undefined;
    const file = this.file;
    this.file = undefined;
    const counted = this.#counted;
    this.#counted = false;
    // Counted until the descriptor is really closed (a stuck write holds it).
    await file?.close();
    if (counted) WriterCore.#live--;
  }
}
