/**
 * Register-at-acquisition (STYLE.md rule 2, after xterm.js `Disposable.register()`): whoever adds a
 * listener, timer or child object hands its undo to a Disposer on the same line; dispose() runs
 * every undo once, newest first.
 */
export class Disposer {
  private readonly undo: Array<() => void> = [];
  private disposed = false;

  add(fn: () => void): void {
    if (this.disposed) {
      fn();
      return;
    }
    this.undo.push(fn);
  }

  listen<K extends keyof HTMLElementEventMap>(
    target: HTMLElement, type: K, fn: (ev: HTMLElementEventMap[K]) => void, options?: AddEventListenerOptions,
  ): void;
  listen(target: EventTarget, type: string, fn: (ev: Event) => void, options?: AddEventListenerOptions): void;
  listen(target: EventTarget, type: string, fn: (ev: never) => void, options?: AddEventListenerOptions): void {
    const l = fn as unknown as EventListener;
    target.addEventListener(type, l, options);
    this.add(() => target.removeEventListener(type, l, options));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    while (this.undo.length) this.undo.pop()!();
  }
}

/** A trailing-edge debounce whose pending timer is owned by `owner`. */
export function debounce(owner: Disposer, ms: number, fn: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  owner.add(() => clearTimeout(timer));
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}
