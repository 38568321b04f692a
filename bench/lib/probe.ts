/**
 * Main-thread responsiveness of the gateway, seen from outside: GET /healthz every `everyMs` and
 * record how long each answer takes. A blocked event loop shows up here whatever the gateway's own
 * metrics say.
 */
import { type Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { summarize, type Summary } from './stats.js';

export class HealthProbe {
  readonly #samples: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inFlight = false;
  #failures = 0;

  /** `agent`: a keep-alive agent, so the probe keeps working when the gateway is out of descriptors. */
  constructor(private readonly baseUrl: string, private readonly agent: Agent | false = false, private readonly everyMs = 100) {}

  start(): this {
    this.#timer = setInterval(() => this.#tick(), this.everyMs);
    return this;
  }

  #tick(): void {
    if (this.#inFlight) return;
    this.#inFlight = true;
    const t0 = performance.now();
    const req = request(new URL('/healthz', this.baseUrl), { agent: this.agent, timeout: 10000 }, (res) => {
      res.resume();
      res.on('end', () => {
        this.#samples.push(performance.now() - t0);
        this.#inFlight = false;
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      this.#failures++;
      this.#inFlight = false;
    });
    req.end();
  }

  /** Stops probing and returns the answer times in ms. */
  stop(): Summary & { failures: number } {
    clearInterval(this.#timer);
    return { ...summarize(this.#samples), failures: this.#failures };
  }
}
