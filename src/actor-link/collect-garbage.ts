/**
 * Two GCs a turn apart: ArrayBuffer backing stores freed by the first are released only after
 * the current task, so one gc() right after a burst still shows them.
 */
export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  gc();
  await new Promise((resolve) => setTimeout(resolve, 10));
  gc();
}
