/**
 * The bench's command line, shared by bench/run.ts (`npm run bench -- NAME`) and bench/profile.ts
 * (`npm run profile:heap|doctor -- NAME`). One scenario per call (or `all`), each bounded by
 * --timeout; every child process is ended on the way out, also on Ctrl-C or a crash.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { defaultWorkers } from '../src/cli/serve-options.js';
import { join } from 'node:path';
import { parseArgs, UsageError } from '../src/cli/args.js';
import { ChildSet, LOG_DIR } from './lib/children.js';
import { REPO_ROOT, startSandbox } from './lib/cluster.js';
import { machine, writeReport, writeResult, type ScenarioResult } from './lib/results.js';
import { capacity } from './scenarios/capacity.js';
import { churn } from './scenarios/churn.js';
import { churnResume } from './scenarios/churn-resume.js';
import type { BenchOptions, Ctx, Scenario } from './scenarios/context.js';
import { latency } from './scenarios/latency.js';
import { recordingCost, resumeCost } from './scenarios/feature-cost.js';
import { slowReader } from './scenarios/slow-reader.js';
import { throughput } from './scenarios/throughput.js';

interface Spec {
  run: Scenario;
  title: string;
  defaults: Partial<Record<string, string>>;
}

export const SCENARIOS: Record<string, Spec> = {
  capacity: { run: capacity, title: 'capacity: idle sessions', defaults: { sessions: '1000,5000,10000', variants: 'podterm,podterm-w0,floor,kubectl', 'kubectl-max': '50', concurrency: '100', timeout: '1500' } },
  throughput: { run: throughput, title: 'throughput: flood and pty shell output', defaults: { variants: 'podterm,podterm-w0,kubectl,floor', bytes: '500000000', 'shell-bytes': '200000000', timeout: '900' } },
  latency: { run: latency, title: 'latency: keystroke echo', defaults: { typists: '1,100,1000', duration: '10', rate: '10', variants: 'podterm,podterm-w0,kubectl,floor', 'kubectl-max': '100', concurrency: '50', timeout: '900' } },
  churn: { run: churn, title: 'churn: open and drop at random', defaults: { sessions: '10000', variants: 'podterm', concurrency: '100', 'hold-ms': '200', bytes: '300000000', settle: '10', timeout: '1200' } },
  'recording-cost': { run: recordingCost, title: 'recording cost: --record-dir on vs off', defaults: { sessions: '1000', variants: 'podterm', bytes: '300000000', rounds: '3', concurrency: '100', timeout: '900' } },
  'resume-cost': { run: resumeCost, title: 'resume cost: --detach-grace-ms 300000 vs 0', defaults: { sessions: '1000', variants: 'podterm', bytes: '300000000', rounds: '5', concurrency: '100', timeout: '900' } },
  'churn-resume': { run: churnResume, title: 'churn with resume on: detach, resume, grace expiry; cost of resume', defaults: { sessions: '10000', concurrency: '100', 'hold-ms': '200', 'grace-ms': '1500', idle: '1000', bytes: '100000000', 'fill-bytes': '400000', resumes: '30', parts: 'soak,cost', timeout: '3600' } },
  'slow-reader': { run: slowReader, title: 'slow readers: bounded memory, nothing lost', defaults: { sessions: '100', variants: 'podterm', bytes: '2000000000', phase: '20', 'read-bps': '10240', 'bound-mb': '200', timeout: '900' } },
};

const VALUED = ['sessions', 'typists', 'duration', 'workers', 'variants', 'agents', 'bytes', 'shell-bytes', 'kubectl-max', 'concurrency', 'rate', 'phase', 'bound-mb', 'read-bps', 'hold-ms', 'rounds', 'timeout', 'out', 'pods', 'gateway-arg', 'grace-ms', 'idle', 'fill-bytes', 'resumes', 'parts', 'watch-rate', 'settle'];

const USAGE = `usage: bench/run.js SCENARIO [options] | report | all
scenarios: ${Object.keys(SCENARIOS).join(', ')}
options: --sessions 1000,5000 --typists 1,100 --duration S --workers N --variants podterm,podterm-w0,kubectl,floor
         --agents K --bytes B --shell-bytes B --kubectl-max N --concurrency C --rate KEYS/S --phase S
         --bound-mb MB --read-bps B --hold-ms MS --rounds R --timeout S --out DIR --pods FILE --gateway-arg ARG (repeatable)
         churn: --settle S (quiet before each drift probe)
         churn-resume: --grace-ms MS --idle N --fill-bytes B --resumes N --parts soak,cost --watch-rate 0..1`;

function list(v: string): number[] {
  const out = v.split(',').map(Number);
  if (out.some((n) => !Number.isFinite(n) || n < 0)) throw new UsageError(`not a number list: ${v}`);
  return out;
}

function options(name: string, argv: readonly string[]): { opts: BenchOptions; timeoutS: number; out: string; pods: string | undefined } {
  const parsed = parseArgs(argv, VALUED, []);
  const spec = SCENARIOS[name] as Spec;
  const get = (k: string, d = ''): string => parsed.options.get(k) ?? spec.defaults[k] ?? d;
  const opts: BenchOptions = {
    sessions: list(get('sessions', '100')),
    typists: list(get('typists', '1')),
    durationS: Number(get('duration', '10')),
    workers: Number(get('workers', String(defaultWorkers()))),
    variants: new Set(get('variants', 'podterm').split(',')),
    agents: parsed.options.has('agents') ? Number(parsed.options.get('agents')) : undefined,
    bytes: Number(get('bytes', '100000000')),
    shellBytes: Number(get('shell-bytes', '200000000')),
    kubectlMax: Number(get('kubectl-max', '50')),
    concurrency: Number(get('concurrency', '50')),
    rate: Number(get('rate', '10')),
    phaseS: Number(get('phase', '20')),
    boundMb: Number(get('bound-mb', '200')),
    readBps: Number(get('read-bps', '10240')),
    holdMs: Number(get('hold-ms', '200')),
    rounds: Math.max(1, Number(get('rounds', '2'))),
    graceMs: Number(get('grace-ms', '1500')),
    idleSessions: Number(get('idle', '1000')),
    fillBytes: Number(get('fill-bytes', '400000')),
    resumes: Number(get('resumes', '30')),
    parts: new Set(get('parts', 'soak,cost').split(',')),
    watchRate: Number(get('watch-rate', '0.3')),
    settleS: Number(get('settle', '10')),
    gatewayArgs: parsed.all.get('gateway-arg') ?? [],
    clinic: undefined,
    gatewayNodeArgs: [],
  };
  for (const p of opts.parts) if (!['soak', 'cost'].includes(p)) throw new UsageError(`unknown part ${p}`);
  if (!(opts.watchRate >= 0 && opts.watchRate <= 1)) throw new UsageError('--watch-rate is a fraction 0..1');
  if (!(opts.settleS >= 0)) throw new UsageError('--settle is seconds, 0 or more');
  if (name === 'churn-resume' && !(opts.graceMs > 0)) throw new UsageError('churn-resume needs --grace-ms > 0 (resume on)');
  for (const v of opts.variants) if (!['podterm', 'podterm-w0', 'kubectl', 'floor'].includes(v)) throw new UsageError(`unknown variant ${v}`);
  return { opts, timeoutS: Number(get('timeout', '900')), out: parsed.options.get('out') ?? join(REPO_ROOT, 'bench', 'results'), pods: parsed.options.get('pods') };
}

/** The commit under test, so a result can be tied to the code it measured. */
function commitOf(root: string): { commit?: string } {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', timeout: 5000 });
  return r.status === 0 && r.stdout.trim() ? { commit: r.stdout.trim() } : {};
}

function log(msg: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Runs one scenario end to end (its own sandbox, gateways and agents) and returns its result. */
export async function runScenario(name: string, argv: readonly string[], clinic?: BenchOptions['clinic'], gatewayNodeArgs: string[] = []): Promise<{ result: ScenarioResult; out: string }> {
  const spec = SCENARIOS[name];
  if (!spec) throw new UsageError(`unknown scenario ${JSON.stringify(name)}`);
  const { opts, timeoutS, out, pods } = options(name, argv);
  opts.clinic = clinic;
  opts.gatewayNodeArgs = gatewayNodeArgs;
  const children = new ChildSet();
  const onExit = (): void => children.killNow();
  const onSignal = (sig: NodeJS.Signals): void => {
    void children.close(sig).finally(() => process.exit(130));
  };
  process.on('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const t0 = Date.now();
  const load0 = loadavg()[0] as number;
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`bench: ${name} exceeded --timeout ${timeoutS} s`)), timeoutS * 1000);
    });
    const body = await Promise.race([
      (async () => {
        log(`${name}: starting the sandbox (child stderr logs in ${LOG_DIR})`);
        const sandbox = await startSandbox(children, pods ? { pods } : {});
        const ctx: Ctx = { children, opts, sandbox, log };
        return spec.run(ctx);
      })(),
      deadline,
    ]);
    const cmdArgs = argv.filter((a, i) => !a.startsWith('--out') && argv[i - 1] !== '--out');
    const result: ScenarioResult = {
      scenario: name,
      title: spec.title,
      command: `${envPrefix()}npm run bench -- ${[name, ...cmdArgs].join(' ')}`,
      date: new Date().toISOString(),
      durationS: (Date.now() - t0) / 1000,
      loadAverage: [load0, loadavg()[0] as number],
      ...commitOf(REPO_ROOT),
      machine: machine(),
      ...body,
    };
    return { result, out };
  } finally {
    clearTimeout(timer);
    await children.close();
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export async function benchMain(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (!name || name === '--help' || name === 'help') {
      console.log(USAGE);
      return name ? 0 : 2;
    }
    if (name === 'report') {
      const out = parseArgs(rest, ['out'], []).options.get('out') ?? join(REPO_ROOT, 'bench', 'results');
      console.log(`bench: wrote ${writeReport(out)}`);
      return 0;
    }
    const names = name === 'all' ? Object.keys(SCENARIOS) : [name];
    const out = parseArgs(rest, VALUED, []).options.get('out') ?? join(REPO_ROOT, 'bench', 'results');
    const failed: string[] = [];
    for (const n of names) {
      try {
        const r = await runScenario(n, rest);
        console.log(`bench: wrote ${writeResult(r.out, r.result)}`);
        for (const t of r.result.targets) console.log(`  ${t.met === null ? '?' : t.met ? 'ok  ' : 'MISS'} ${t.name}: ${t.measured} (wanted ${t.target})`);
      } catch (err) {
        // With `all`, one failed scenario must not cost the others their run.
        if (names.length === 1 || err instanceof UsageError) throw err;
        failed.push(n);
        console.error(`bench: ${n} failed: ${err instanceof Error ? err.stack : String(err)}`);
      }
    }
    console.log(`bench: wrote ${writeReport(out)}`);
    if (failed.length) console.error(`bench: failed: ${failed.join(', ')}`);
    return failed.length ? 1 : 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`bench: ${err.message}\n${USAGE}`);
      return 2;
    }
    console.error(err instanceof Error ? err.stack : err);
    return 1;
  }
}

/** Environment the gateway inherits that changes what is measured (the allocator's arenas), as a command prefix. */
function envPrefix(): string {
  return ['MALLOC_ARENA_MAX'].map((k) => (process.env[k] ? `${k}=${process.env[k]} ` : '')).join('');
}
