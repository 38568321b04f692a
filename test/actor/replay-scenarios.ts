/**
 * The real-program sessions the replay is measured against: vim editing a file (mouse on, UTF-8
 * and wide characters), top refreshing, less paging a file, and a long `ls -l` flood in bash that
 * exceeds the default 256 KiB ring. Each needs only the programs of a Debian base system.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture, type Capture, type Scenario } from './pty-capture.js';

export interface Captures {
  all: Capture[];
  dispose(): void;
}

function text(lines: number): string {
  let s = '';
  for (let i = 1; i <= lines; i++) s += `line ${i}: héllo wörld ${'中文'.repeat(i % 4)} ✓ ${'x'.repeat(i % 50)}\n`;
  return s;
}

export function scenarios(dir: string): Scenario[] {
  const file = join(dir, 'notes.txt');
  writeFileSync(file, text(400));
  return [
    {
      name: 'vim', file: 'vim', args: ['-N', '-u', 'DEFAULTS', '-i', 'NONE', '-n', '+set number mouse=a', file], cwd: dir,
      steps: [{ keys: '30j' }, { keys: 'oinsérted 中文 line ✓\x1b' }, { keys: 'G' }, { keys: '10k' }, { keys: ':set nonumber\r' }, { keys: 'gg' }],
    },
    {
      name: 'top', file: 'top', args: ['-d', '1'], cwd: dir,
      steps: [{ wait: 1200 }, { keys: 'c' }, { wait: 1200 }],
    },
    {
      name: 'less', file: 'less', args: ['-R', file], cwd: dir, env: { LESSHISTFILE: '-' },
      steps: [{ keys: ' ' }, { keys: ' ' }, { keys: 'jjjjj' }, { keys: '/line 250\r' }, { keys: 'b' }],
    },
    {
      name: 'ls', file: 'bash', args: ['--norc', '--noprofile', '-i'], cwd: dir, env: { PS1: '$ ' },
      steps: [
        { keys: 'ls -lR --color=always /usr/lib /usr/share/doc 2>/dev/null | head -c 400000; echo\r' },
        { keys: 'echo ünïcødé 中文 done\r' },
      ],
    },
  ];
}

/** Records every scenario (a few seconds each); dispose() removes the scratch directory. */
export async function captureAll(): Promise<Captures> {
  const dir = mkdtempSync(join(tmpdir(), 'podterm-replay-'));
  const all: Capture[] = [];
  for (const sc of scenarios(dir)) all.push(await capture(sc));
  return { all, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
