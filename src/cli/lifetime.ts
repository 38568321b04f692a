/**
 * The process-level owner of what a long-running command starts (sandbox, gateway): each
 * resource's close is registered on the line that acquires it and run in reverse by one
 * idempotent `close()`. Signals are hooked from the first line, so a SIGINT/SIGTERM during start
 * (the sandbox's key generation takes a while) stops cleanly instead of killing the process with
 * the sandbox's scratch folder left behind; a crash closes what it can before exiting 1.
 */
type Disposer = () => void | Promise<void>;
type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/** How long a crash may spend closing before the process exits anyway. */
const CRASH_CLOSE_MS = 5_000;

export class Lifetime {
  readonly #disposers: Disposer[] = [];
  readonly #log: Log;
  #closing: Promise<void> | undefined;
  #signals = 0;
  readonly #firstSignal: Promise<NodeJS.Signals>;
  readonly #secondSignal: Promise<NodeJS.Signals>;

  constructor(log: Log) {
    this.#log = log;
    let first!: (s: NodeJS.Signals) => void;
    let second!: (s: NodeJS.Signals) => void;
    this.#firstSignal = new Promise((r) => (first = r));
    this.#secondSignal = new Promise((r) => (second = r));
    const onSignal = (signal: NodeJS.Signals): void => {
      this.#signals += 1;
      if (this.#signals === 1) first(signal);
      else second(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    this.add(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
    const onCrash = (err: unknown): void => {
      this.#log('error', 'crashed', { err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err) });
      setTimeout(() => process.exit(1), CRASH_CLOSE_MS).unref();
      void this.close().finally(() => process.exit(1));
    };
    process.on('uncaughtException', onCrash);
    this.add(() => void process.off('uncaughtException', onCrash));
  }

  /** True once a stop was asked for: a start in progress should stop at its next step. */
  get stopping(): boolean {
    return this.#signals > 0 || this.#closing !== undefined;
  }

  /** Resolves with the first SIGINT/SIGTERM. */
  stopRequested(): Promise<NodeJS.Signals> {
    return this.#firstSignal;
  }

  /** Resolves with a second signal: the user does not want to wait for the drain. */
  hurried(): Promise<NodeJS.Signals> {
    return this.#secondSignal;
  }

  /** Registers a close; call it on the line after the acquisition succeeds. */
  add(dispose: Disposer): void {
    if (this.#closing) throw new Error('Lifetime: add() after close()');
    this.#disposers.push(dispose);
  }

  /** Runs every close once, newest first; a failing close is logged and the rest still run. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const dispose of this.#disposers.splice(0).reverse()) {
        try {
          await dispose();
        } catch (err) {
          this.#log('warn', 'close failed', { err: err instanceof Error ? err.message : String(err) });
        }
      }
    })();
    return this.#closing;
  }
}
