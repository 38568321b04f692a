/**
 * What the kernel charges for buffered file writes on this machine, measured with a plain writer
 * (256 KiB writeSync calls, as the recorder's chunks), so a feature that writes to disk can be
 * compared with the disk's own cost in the same run.
 *
 * Why it matters here: on a VM whose free memory goes back to the host (virtio balloon free page
 * reporting, a couple of seconds after it is freed), growing the page cache faults every page in on
 * the host, and the guest pays it as system time: 1.3–3.1 s per GB measured on this sandbox, against
 * 0.25–0.31 s per GB when the kernel reuses pages it has just freed (what a long-running node whose
 * page cache is full of clean pages does). A recording flood writes about as many bytes as it delivers.
 */
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const CHUNK = 256 * 1024;

export interface PageCacheWrite {
  /** CPU seconds (user + system, this process) per GB written. */
  cpuPerGb: number;
  wallS: number;
}

/** Writes `bytes` to a new file in `dir` and deletes it: its pages are free again right after. */
export function scratchWrite(dir: string, bytes: number): PageCacheWrite {
  const path = join(dir, `page-cache-scratch-${process.pid}`);
  const chunk = Buffer.alloc(CHUNK, 0x61);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const fd = openSync(path, 'w');
  try {
    for (let left = bytes; left > 0; left -= CHUNK) writeSync(fd, chunk, 0, Math.min(CHUNK, left));
  } finally {
    closeSync(fd);
    // Deleted before writeback: its dirty pages are dropped, never written to the disk.
    unlinkSync(path);
  }
  const cpu = process.cpuUsage(cpu0);
  return { cpuPerGb: (cpu.user + cpu.system) / 1e6 / (bytes / 1e9), wallS: (performance.now() - t0) / 1000 };
}
