/**
 * How many cores this process may use: the CPUs it may run on (availableParallelism), capped by
 * a cgroup CPU limit when there is one. In a Kubernetes pod with `limits.cpu: 2` on a 32-core node
 * availableParallelism() says 32; the CFS quota says 2, and that is what threads can get.
 * cgroup v2: `/sys/fs/cgroup/cpu.max` ("max 100000" or "QUOTA PERIOD"); cgroup v1:
 * `/sys/fs/cgroup/cpu/cpu.cfs_quota_us` (-1 = none) and `cpu.cfs_period_us`.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export type ReadFile = (path: string) => string | undefined;

const readOrUndefined: ReadFile = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The cgroup CPU limit in cores (may be fractional), or undefined when there is none. */
export function cgroupCpuLimit(read: ReadFile = readOrUndefined): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2.length === 2) return quota(Number(v2[0]), Number(v2[1]));
  const q = read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us');
  const p = read('/sys/fs/cgroup/cpu/cpu.cfs_period_us');
  if (q !== undefined && p !== undefined) return quota(Number(q.trim()), Number(p.trim()));
  return undefined;
}

function quota(q: number, period: number): number | undefined {
  // "max" parses as NaN; v1 says -1.
  return Number.isFinite(q) && q > 0 && Number.isFinite(period) && period > 0 ? q / period : undefined;
}

/** Cores this process can use: at least 1. */
export function usableCores(read: ReadFile = readOrUndefined, cpus = availableParallelism()): number {
  const limit = cgroupCpuLimit(read);
  return limit === undefined ? cpus : Math.max(1, Math.min(cpus, Math.ceil(limit)));
}
