/** Reading a node-pty terminal to its end, whatever node-pty's exit timer says. */
import { readSync } from 'node:fs';
import type * as pty from 'node-pty';

/** The most the tail read below takes: the kernel's pty buffers hold tens of KB; a background writer could add more. */
const PTY_TAIL_LIMIT = 1024 * 1024;

/** What node-pty 1.1.0's UnixTerminal keeps (lib/unixTerminal.js); not in its typings. */
interface PtyInternals {
  _socket?: { read(): Buffer | string | null; destroy(err?: Error): unknown };
  _fd?: number;
}

/**
 * node-pty 1.1.0 destroys the pty's read stream 200 ms after it has reaped the child
 * (DESTROY_SOCKET_TIMEOUT_MS in lib/unixTerminal.js), read to EOF or not, and a destroyed stream
 * drops what it had buffered and what the kernel still holds. A sandbox target paused at the exit
 * (its exec socket behind), or an event loop busy for longer than that, lost the tail of the
 * output so: 7-13 KB of 4.7 MB in the gateway's slow-reader test on a loaded machine. A runtime
 * reads its console to EOF. So the stream's destroy first reads the rest, synchronously and in
 * order: the stream's buffer (read() emits it as 'data', to the onData listeners), then the master
 * fd (non-blocking) until EIO (the terminal is gone and empty) or EAGAIN (a background process
 * still holds it), at most PTY_TAIL_LIMIT bytes, to `onTail`. `wanted()` false (the caller hung
 * up): nothing is read. Call it right after pty.spawn().
 */
export function readTailOnDestroy(p: pty.IPty, onTail: (data: Buffer) => void, wanted: () => boolean): void {
  const internals = p as unknown as PtyInternals;
  const socket = internals._socket;
  const fd = internals._fd;
  if (socket === undefined || typeof fd !== 'number') return;
  const destroy = socket.destroy.bind(socket);
  socket.destroy = (err?: Error): unknown => {
    socket.destroy = destroy;
    if (wanted()) {
      try {
        while (socket.read() !== null) {
          // each chunk went to the 'data' listeners (onData) as it was read
        }
      } catch {
        // a stream that cannot be read any more has nothing buffered to give
      }
      const buf = Buffer.allocUnsafe(64 * 1024);
      for (let total = 0; total < PTY_TAIL_LIMIT; ) {
        let n: number;
        try {
          n = readSync(fd, buf, 0, buf.length, null);
        } catch {
          break; // EIO: read to the end; EAGAIN: nothing more now; EBADF: already closed
        }
        if (n <= 0) break;
        onTail(Buffer.from(buf.subarray(0, n)));
        total += n;
      }
    }
    return destroy(err);
  };
}
