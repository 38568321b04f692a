/** The part of a recording writer (writer-core.ts) that exists only while its file is in use. */
import type { CastFile } from './cast-file.js';
import type { OutputSlot } from './output-slots.js';
import type { WriteQueue } from './write-queue.js';

/**
 * What a recording holds only while its file is in use (from the start, and from the first line
 * after a park): dropped whole at a park, so an idle recorded session keeps none of it (issue 11:
 * memory per idle session).
 */
export class ActiveFile {
  readonly file: CastFile;
  readonly queue: WriteQueue;
  /** Large output written in place (output-slots.ts): lines accepted, not yet queued. */
  slot: OutputSlot | undefined;
  /** The flush timer (output held or queued) or the park timer (all written, file open). */
  timer: NodeJS.Timeout | undefined;
  timerKind: 'flush' | 'park' | undefined;
  /** Strict mode: output() asked its source to pause until the queue drains. */
  needDrain = false;

  constructor(file: CastFile, queue: WriteQueue) {
    this.file = file;
    this.queue = queue;
  }
}
