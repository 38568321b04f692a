/**
 * `npm run profile:heap -- SCENARIO [options]` / `npm run profile:doctor -- SCENARIO [options]`:
 * runs one scenario with the gateway under `clinic heapprofiler` or `clinic doctor` (NO_INSIGHT=true,
 * without which clinic exits silently before writing a report) and checks that a report appeared
 * in .clinic/. Only the podterm variant runs; results go to .clinic/, not bench/results/.
 * `profile.js cpu SCENARIO` (no npm script) runs the gateway with node --cpu-prof instead and prints
 * the hottest functions of each thread.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/cluster.js';
import { runScenario } from './cli.js';
import { writeResult } from './lib/results.js';
import { hotFunctions } from './lib/cpu-profile.js';

const TOOLS = { heap: 'heapprofiler', doctor: 'doctor' } as const;

/** `profile.js cpu SCENARIO`: node --cpu-prof on the gateway, one profile per thread, summarised. */
async function cpuProfile(scenario: string, rest: readonly string[], dest: string): Promise<number> {
  const dir = join(dest, `cpu-${scenario}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const { result } = await runScenario(scenario, [...rest, '--variants', 'podterm'], undefined, ['--cpu-prof', '--cpu-prof-dir', dir]);
  writeResult(join(dest, 'results'), result);
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) {
    console.error(`profile: no .cpuprofile written in ${dir}`);
    return 1;
  }
  let text = '';
  for (const f of files.sort()) {
    const { totalMs, hot } = hotFunctions(join(dir, f), 20);
    text += `\n${f} (${Math.round(totalMs)} ms wall)\n`;
    for (const h of hot) text += `  ${(h.share * 100).toFixed(1).padStart(5)} %  ${Math.round(h.selfMs).toString().padStart(6)} ms  ${h.name}  ${h.where}\n`;
  }
  writeFileSync(join(dir, 'summary.txt'), text);
  console.log(text);
  console.log(`profile: ${dir}`);
  return 0;
}

async function profileMain(argv: readonly string[]): Promise<number> {
  const [tool, scenario, ...rest] = argv;
  if ((tool !== 'heap' && tool !== 'doctor' && tool !== 'cpu') || !scenario) {
    console.error('usage: bench/profile.js heap|doctor|cpu SCENARIO [bench options]');
    return 2;
  }
  const dest = join(REPO_ROOT, '.clinic');
  mkdirSync(dest, { recursive: true });
  if (tool === 'cpu') return cpuProfile(scenario, rest, dest);
  const before = new Set(readdirSync(dest));
  // Doctor runs with the default --workers: it used to be forced to 0 here because its preloaded
  // sampler also runs in worker threads, but reports come out with workers (test/bench).
  const { result } = await runScenario(scenario, [...rest, '--variants', 'podterm'], { tool: TOOLS[tool], dest });
  writeResult(join(dest, 'results'), result);
  // An analysis that failed still leaves a stub page of a few hundred bytes: that is no report.
  const reports = readdirSync(dest).filter((f) => !before.has(f) && f.endsWith('.html') && statSync(join(dest, f)).size > 10240);
  if (reports.length === 0) {
    console.error(`profile: clinic ${TOOLS[tool]} wrote no report in ${dest}`);
    return 1;
  }
  for (const r of reports) console.log(`profile: ${join(dest, r)} (${Math.round(statSync(join(dest, r)).size / 1024)} KiB)`);
  return 0;
}

process.exitCode = await profileMain(process.argv.slice(2));
