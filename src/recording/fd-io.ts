/**
 * File operations on plain descriptors for the recording writer, through fs's callback API.
 *
 * Not fs/promises: each of its calls allocates an FSReqPromise with a stats array of its own and each
 * open a FileHandle (native objects, freed only by a GC), and a recorded session makes several at
 * its start (create the .cast, write the header, write the first sidecar) and at each reopen after
 * a park. Issue 11 bounds the memory of an idle recorded session; these short-lived native objects
 * are made in bursts of session starts between the sessions' long-lived allocations. The callback
 * API's requests carry no stats arrays and a descriptor is a number. A descriptor is not closed by
 * itself when its owner is lost, so CastFile closes each one on its one close path.
 */
import { close, fdatasync, open, rename, unlink, writev } from 'node:fs';
import { promisify } from 'node:util';

export const openFd = promisify(open) as (path: string, flags: string | number, mode?: number) => Promise<number>;
export const closeFd = promisify(close);
export const datasyncFd = promisify(fdatasync);
export const renamePath = promisify(rename);
export const unlinkPath = promisify(unlink);
const writevFd = promisify(writev) as (fd: number, bufs: readonly NodeJS.ArrayBufferView[]) => Promise<{ bytesWritten: number }>;

/** Writes all of `bufs` at the descriptor's offset (its end with O_APPEND); writev may write less than asked. */
export async function writeAllFd(fd: number, bufs: readonly Buffer[]): Promise<void> {
  let rest = bufs;
  while (rest.length > 0) {
    let { bytesWritten } = await writevFd(fd, rest);
    let i = 0;
    while (i < rest.length && bytesWritten >= rest[i]!.byteLength) bytesWritten -= rest[i++]!.byteLength;
    rest = rest.slice(i);
    if (bytesWritten > 0) rest = [rest[0]!.subarray(bytesWritten), ...rest.slice(1)];
  }
}
