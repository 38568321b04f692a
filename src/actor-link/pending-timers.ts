/**
 * Timers pending on this thread's event loop (Node's active resources of type Timeout; each thread
 * has its own loop). Read by the probe on every thread: the residue checks (test and the churn
 * bench) compare the sum with a baseline, since the gateway's own intervals are never zero.
 */
export function pendingTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}
