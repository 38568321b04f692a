/**
 * Browser-side flow control (DESIGN.md, "Flow control, end to end"). xterm.js parses writes
 * asynchronously; a fast producer (`yes`) can queue far more than it can render and freeze the tab.
 * We count bytes handed to `term.write` whose callback has not run yet, ask the server to pause
 * above the high watermark and to resume below the low one (the xterm.js "flow control" guide's
 * watermark scheme). Pause/resume are edge-triggered: one frame per crossing.
 */
export const HIGH_WATERMARK = 256 * 1024;
export const LOW_WATERMARK = 64 * 1024;

export interface FlowSink {
  write(data: Uint8Array, parsed: () => void): void;
  pause(): void;
  resume(): void;
}

export class FlowControl {
  private pending = 0;
  private paused = false;
  /** Totals for the status line and the test hook. */
  bytesWritten = 0;
  newlines = 0;
  pauses = 0;

  constructor(private readonly sink: FlowSink) {}

  get backlog(): number {
    return this.pending;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  write(data: Uint8Array): void {
    const n = data.byteLength;
    this.pending += n;
    this.bytesWritten += n;
    this.newlines += countNewlines(data);
    this.sink.write(data, () => {
      this.pending -= n;
      if (this.paused && this.pending < LOW_WATERMARK) {
        this.paused = false;
        this.sink.resume();
      }
    });
    if (!this.paused && this.pending > HIGH_WATERMARK) {
      this.paused = true;
      this.pauses++;
      this.sink.pause();
    }
  }
}

function countNewlines(data: Uint8Array): number {
  let n = 0;
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) n++;
  return n;
}
