// The progress bar: drawn on a terminal (here a pseudo-terminal from util-linux `script`), one per
// variant, with the runs done and the failing runs; never under --json, nor into a pipe.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mmrace } from './helpers/cli.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const ARGS = 'repro oom-reaper-vs-exit-mmap-2017 --variant v4.14 --mode controlled --strategy pct --runs 150';

const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]|${ESC}[78]`, 'g');

/** The command's terminal output (stdout and stderr both go to the pty). */
function onTerminal(args: string): string {
  const r = spawnSync('script', ['-qec', `${process.execPath} dist/cli.js ${args}`, '/dev/null'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, CI: '', NO_COLOR: '1' },
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.replace(ANSI, '');
}

describe('progress bar', () => {
  it('on a terminal: runs done out of the total, and the failing ones', () => {
    const out = onTerminal(ARGS);
    const frames = out.split('\r').filter((l) => l.includes('oom-reaper-vs-exit-mmap-2017 v4.14 ['));
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.at(-1)).toMatch(/\] 150\/150 runs, [1-9]\d* failing/);
    // The table follows, and the bar is cleared when it completes.
    expect(out).toMatch(/observed\s+hits\/runs/);
  }, 60_000);

  it('quiet under --json on a terminal, and quiet into a pipe', () => {
    const few = ARGS.replace('--runs 150', '--runs 30');
    expect(onTerminal(`${few} --json`)).not.toMatch(/\d+\/30 runs/);
    const piped = mmrace(few.split(' '), 60_000, { CI: '' });
    expect(piped.stderr).toBe('');
  }, 60_000);
});
