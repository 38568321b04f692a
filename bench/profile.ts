/**
 * `npm run profile:heap -- SCENARIO [options]` / `npm run profile:doctor -- SCENARIO [options]`:
 * runs one scenario with the gateway under `clinic heapprofiler` or `clinic doctor` (NO_INSIGHT=true,
 * without which clinic exits silently before writing a report) and checks that a report appeared
 * in .clinic/. Only the podterm variant runs; results go to .clinic/, not bench/results/.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/cluster.js';
import { runScenario } from './cli.js';
import { writeResult } from './lib/results.js';

const TOOLS = { heap: 'heapprofiler', doctor: 'doctor' } as const;

async function profileMain(argv: readonly string[]): Promise<number> {
  const [tool, scenario, ...rest] = argv;
  if ((tool !== 'heap' && tool !== 'doctor') || !scenario) {
    console.error('usage: bench/profile.js heap|doctor SCENARIO [bench options]');
    return 2;
  }
  const dest = join(REPO_ROOT, '.clinic');
  mkdirSync(dest, { recursive: true });
  const before = new Set(readdirSync(dest));
  // clinic doctor preloads its sampler with -r, which worker threads inherit: every thread then
  // truncates and writes the same processstat file and the analysis dies on the corrupt data
  // ("Groups are not supported"). So doctor profiles the gateway with actors on the main thread
  // unless --workers is given.
  const extra = tool === 'doctor' && !rest.includes('--workers') ? ['--workers', '0'] : [];
  const { result } = await runScenario(scenario, [...rest, ...extra, '--variants', 'podterm'], { tool: TOOLS[tool], dest });
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
