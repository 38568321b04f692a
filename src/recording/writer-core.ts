/**
 * The file side of one recording (AsciicastWriter is the event side): the .cast and its write queue,
 * the caps (`maxBytes`, the buffer cap) and what a stop writes, the one timer (a flush while output
 * waits, a park once the file is idle: the descriptor closes and what the file in use held goes
 * (active-file.ts), and the next line opens the file again for appending), and the writer's state.
 * An abstract base rather than an object of its own: an idle recorded session keeps one object, the
 * writer.
 */
import { CastFile } from './cast-file.js';
import { PodtermError } from '../protocol/errors.js';
import { eventLine } from './asciicast-format.js';
import type { OutputSlot } from './output-slots.js';
import type { RecordingStop, StopReason } from './recording-files.js';
import { errnoOf, STOP_TEXT, writerTransition, type WriterState } from './writer-state.js';
import { WriteQueue } from './write-queue.js';
import { ActiveFile } from './active-file.js';
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
  /**
   * The file in use (from the start, while it is being created, and again from the first line after
   * a park); undefined while parked (see #park) and once released.
   */
  #active: ActiveFile | undefined;
  /** Bytes written by queues dropped at a park or the release. */
  #writtenBefore = 0;
  /** Counted in `live` (from the start to the release); parked = counted with no file in use. */
  #counted = false;
  /** Bytes of the .cast accepted (queued, in flight or written). */
  protected accepted = 0;
  #stop: RecordingStop | undefined;
  /** The write error that stopped the recording (the cause of a strict open's rejection). */
  protected writeError: unknown;
  protected dropped = 0;
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
    WriterCore.#live++;
    this.#counted = true;
    return this.#activate(file).queue;
  }

  #activate(file: CastFile): ActiveFile {
    return (this.#active = new ActiveFile(file, this.#openQueue(file)));
  }

  /** The .cast in use; undefined while parked. */
  protected get file(): CastFile | undefined {
    return this.#active?.file;
  }
  /** Its write queue; undefined while parked. */
  protected get queue(): WriteQueue | undefined {
    return this.#active?.queue;
  }
  protected get slot(): OutputSlot | undefined {
    return this.#active?.slot;
  }
  /** Strict mode: the source should pause (output() returns false) until the host hears recordingDrained. */
  protected get needDrain(): boolean {
    return this.#active?.needDrain ?? false;
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

  /** Takes `slot` as the one large output is written into (the file is in use: the caller unparked it). */
  protected useSlot(slot: OutputSlot): void {
    this.#active!.slot = slot;
  }

  /** Hands the slot's lines to the queue, after everything accepted before them. */
  protected sealSlot(): void {
    const a = this.#active;
    const slot = a?.slot;
    if (!a || !slot) return;
    a.slot = undefined;
    if (slot.used > 0) a.queue.pushSlot(slot);
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
    const a = this.#active;
    if (a && this.settings.mode === 'strict' && q.pending + (a.slot?.used ?? 0) >= this.settings.bufferBytes / 2) a.needDrain = true;
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
    const a = this.#active;
    if (a) a.needDrain = false; // nothing more is queued: never leave a source paused
    if (failed) {
      a?.slot?.release();
      if (a) a.slot = undefined;
      this.dropped += a?.queue.discard() ?? 0;
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
    // Parked with output held: the flush needs the file in use again (its descriptor opens on the write).
    const a = this.#active ?? (this.holding() ? this.#unparked() : undefined);
    if (!a) return;
    const q = a.queue;
    if (q.queued >= this.settings.flushBytes) return q.kick();
    if (q.queued > 0 || this.holding() || a.slot) {
      if (a.timerKind === 'flush') return;
      this.#arm(a, 'flush', this.settings.flushIntervalMs);
    } else if (q.idle && this.settings.exclusive && this.settings.parkAfterMs > 0 && a.timerKind !== 'park') {
      this.#arm(a, 'park', this.settings.parkAfterMs);
    }
  }

  #arm(a: ActiveFile, kind: 'flush' | 'park', ms: number): void {
    clearTimeout(a.timer);
    a.timerKind = kind;
    a.timer = setTimeout(() => this.#fire(), ms);
    a.timer.unref();
  }

  protected disarm(): void {
    const a = this.#active;
    if (!a) return;
    clearTimeout(a.timer);
    a.timer = undefined;
    a.timerKind = undefined;
  }

  #fire(): void {
    const a = this.#active;
    if (!a) return;
    const kind = a.timerKind;
    a.timer = undefined;
    a.timerKind = undefined;
    if (this.#state === 'closing' || this.#state === 'closed') return;
    if (kind === 'flush') {
      this.commitHeld();
      this.sealSlot();
      a.queue.kick();
      // Nothing left to write (or the write finished at once): arm the park instead.
      if (!a.timer) this.schedule();
      return;
    }
    this.#park();
  }

  /**
   * Parks an idle recording: nothing held, queued or in flight. The descriptor closes and the file
   * and queue objects go, so an idle recorded session keeps only this writer. The next line makes
   * them again (#unparked) and the file reopens for appending on its first write.
   */
  #park(): void {
    const a = this.#active;
    if (!a || this.holding() || a.slot || !a.queue.idle || a.queue.failed) return;
    clearTimeout(a.timer);
    this.#writtenBefore += a.queue.written;
    this.#active = undefined;
    this.onPark();
    void a.file.close();
  }

  /** The file in use again after a park (its descriptor opens with the first write); undefined if not parked. */
  protected unpark(): WriteQueue | undefined {
    return this.#unparked()?.queue;
  }

  #unparked(): ActiveFile | undefined {
    if (this.#active || !this.#counted) return undefined;
    return this.#activate(CastFile.parked(this.path));
  }

  protected written(): number {
    return this.#writtenBefore + (this.#active?.queue.written ?? 0);
  }

  #openQueue(file: CastFile): WriteQueue {
    return new WriteQueue(file, this.settings.flushBytes, {
      onError: (err) => {
        this.writeError ??= err;
        this.halt('write-error', errnoOf(err));
      },
      onProgress: () => {
        const a = this.#active;
        if (!a?.needDrain || this.#state !== 'open' || a.queue.pending > this.settings.bufferBytes / 4) return;
        a.needDrain = false;
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
    const a = this.#active;
    this.#active = undefined;
    // Sealed into the queue by every path that writes; one left here was never queued.
    a?.slot?.release();
    if (a) this.#writtenBefore += a.queue.written;
    const counted = this.#counted;
    this.#counted = false;
    // Counted until the descriptor is really closed (a stuck write holds it).
    await a?.file.close();
    if (counted) WriterCore.#live--;
  }
}
