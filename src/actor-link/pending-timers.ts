/**
 * Timers pending on this thread's event loop (Node's active resources of type Timeout; each thread
 * has its own loop). Only timers that keep the loop alive are listed: an unref()'d one is not.
 * Read by the probe on every thread: the residue checks (test and the churn-resume bench) compare
 * the sum with a baseline taken when the gateway was idle.
 */
export function pendingTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}
