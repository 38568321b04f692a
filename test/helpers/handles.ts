/**
 * Open handles of this process by kind (servers, sockets, child processes, timers), so a test
 * file can prove that everything it opened is closed again: poll back to the baseline.
 */
import assert from 'node:assert/strict';

const KINDS = ['TCPServerWrap', 'TCPSocketWrap', 'ProcessWrap', 'Timeout'] as const;
export type HandleCounts = Record<(typeof KINDS)[number], number>;

export function handleCounts(): HandleCounts {
  const counts = Object.fromEntries(KINDS.map((k) => [k, 0])) as HandleCounts;
  for (const r of process.getActiveResourcesInfo()) if ((KINDS as readonly string[]).includes(r)) counts[r as keyof HandleCounts]++;
  return counts;
}

export async function assertHandlesBack(baseline: HandleCounts, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = handleCounts();
    if (KINDS.every((k) => now[k] <= baseline[k])) return;
    if (Date.now() > deadline) assert.deepEqual(now, baseline, 'handles left open');
    await new Promise((r) => setTimeout(r, 50));
  }
}
