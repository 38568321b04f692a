/**
 * The bench still works end to end: real sandbox, real gateway, real load agents, tiny scenarios.
 * Each run starts and stops its own processes; afterwards none of them may be left.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runScenario } from '../../bench/cli.js';
import { childPids } from '../../bench/lib/procfs.js';
import { writeReport, writeResult } from '../../bench/lib/results.js';

function cell(result: { tables: { columns: string[]; rows: unknown[][] }[] }, row: number, column: string): unknown {
  const t = result.tables[0];
  assert.ok(t, 'a result table');
  const i = t.columns.indexOf(column);
  assert.notEqual(i, -1, `column ${column}`);
  return t.rows[row]?.[i];
}

test('bench smoke: churn of 40 sessions leaves no residue; 2 typists get every echo; report renders', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'podterm-bench-test-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));

  const churn = await runScenario('churn', ['--sessions', '40', '--rounds', '2', '--concurrency', '8', '--hold-ms', '50', '--workers', '1', '--bytes', '20000000', '--duration', '3', '--settle', '1', '--timeout', '90']);
  assert.equal(childPids(process.pid).length, 0, 'every child process of the churn run is gone');
  assert.equal(churn.result.tables[0]?.rows.length, 2, 'one row per round');
  assert.equal((cell(churn.result, 0, 'opened') as number) + (cell(churn.result, 1, 'opened') as number), 40);
  assert.ok((cell(churn.result, 0, 'started') as number) + (cell(churn.result, 1, 'started') as number) > 20, 'most sessions started');
  for (const row of [0, 1]) {
    assert.equal(cell(churn.result, row, 'failed'), 0);
    for (const k of ['sessions left', 'actors left', 'gateway exec sockets left', 'sandbox exec streams left', 'sandbox processes left']) assert.equal(cell(churn.result, row, k), 0, `${k} after round ${row + 1}`);
  }
  const residue = churn.result.targets.find((x) => x.name.includes('residue'));
  assert.equal(residue?.met, true, residue?.measured);

  const lat = await runScenario('latency', ['--typists', '2', '--duration', '2', '--variants', 'podterm,floor', '--workers', '1', '--timeout', '60']);
  assert.equal(childPids(process.pid).length, 0, 'every child process of the latency run is gone');
  const rows = lat.result.tables[0]?.rows ?? [];
  assert.equal(rows.length, 2, 'podterm and floor rows');
  for (let r = 0; r < rows.length; r++) {
    assert.ok((cell(lat.result, r, 'keys') as number) >= 30, 'about 10 keys/s × 2 typists × 2 s were sent');
    assert.equal(cell(lat.result, r, 'unanswered'), 0);
    const p99 = cell(lat.result, r, 'p99 ms') as number;
    assert.ok(p99 > 0 && p99 < 1000, `p99 ${p99} ms is a real latency`);
  }

  writeResult(out, churn.result);
  writeResult(out, lat.result);
  const md = readFileSync(writeReport(out), 'utf8');
  assert.match(md, /## churn: open and drop at random/);
  assert.match(md, /\| podterm --workers 1 \| 2 \|/);
  assert.match(md, /Machine: \d+ cores/);
});
