/**
 * A promise with its resolve function beside it (Promise.withResolvers, which Node 20 lacks), for
 * the "made only when someone waits" pattern: an idle object keeps `undefined`, a waiter does
 * `this.#x ??= waiter()` and awaits `.promise`, the owner calls `this.#x?.resolve()`.
 */
export interface Waiter {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

export function waiter(): Waiter {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
