/**
 * Summarises V8 .cpuprofile files (node --cpu-prof, one per thread): self time by function, so a
 * profile can be read in a terminal or quoted in a report.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotFunction {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

function shortUrl(url: string): string {
  const m = /node_modules\/(.+)$/.exec(url);
  if (m) return m[1] as string;
  const i = url.search(/\/(src|workers|bench)\//);
  return i >= 0 ? url.slice(i + 1) : url.replace(/^file:\/\//, '');
}

/** Self time per function (summed over identical name+location), largest first. */
export function hotFunctions(file: string, top = 15): { totalMs: number; hot: HotFunction[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const n = byId.get(samples[i] as number);
    if (!n) continue;
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'}\t${f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + (deltas[i] ?? 0) / 1000);
  }
  const totalMs = (p.endTime - p.startTime) / 1000;
  const hot = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, ms]) => {
      const [name = '', where = ''] = k.split('\t');
      return { name, where, selfMs: ms, share: ms / totalMs };
    });
  return { totalMs, hot };
}
