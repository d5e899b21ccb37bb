// Reports raised while a user's scenario code runs name the user's own functions, files and lines,
// beside mmrace's kernel frames (which print as they always have); mmrace's machinery, node
// internals and node_modules stay out. Fixture lines are found by their MARK comments.
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackFrames, userFrames } from '../src/kernel/stack_frames.js';
import { type CliResult, json, mmrace } from './helpers/cli.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const url = (path: string) => pathToFileURL(root + path).href;

type Row = { variant: string; observed: string; firstHit: { dmesg: string[] } | null };

/** The 1-based line of `// MARK: <mark>` in a fixture. */
function lineOf(fixture: string, mark: string): number {
  const lines = readFileSync(root + fixture, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(`// MARK: ${mark}`));
  expect(i, `${fixture} has no MARK: ${mark}`).toBeGreaterThanOrEqual(0);
  return i + 1;
}

/** A hit's log without timestamps. */
function logOf(row: Row | undefined): string[] {
  expect(row?.observed).toBe('reproduces');
  return row!.firstHit!.dmesg.map((l) => l.replace(/^\[[ \d.]+\] ?/, ''));
}

/** The frames under the first "Call Trace:", up to the blank or end-of-trace line. */
function traceOf(log: string[]): string[] {
  const from = log.indexOf('Call Trace:') + 1;
  expect(from).toBeGreaterThan(0);
  const to = log.findIndex((l, i) => i >= from && !l.startsWith(' '));
  return log.slice(from, to < 0 ? undefined : to);
}

/** The 1-based line of the first line of `file` that contains `text`. */
function lineWith(file: string, text: string): number {
  const i = readFileSync(root + file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text));
  expect(i, `${file} has no line with ${text}`).toBeGreaterThanOrEqual(0);
  return i + 1;
}

describe('the stack frame filter', () => {
  // A worker's stack at a KASAN report in the 2017 scenario: kernel frames Node source-mapped
  // (plain .ts paths, as under vitest), a compiled one (dist/ .js URL, as in a CPU worker, where
  // stack_frames.ts reads the map itself: unmap_page_range's own line in dist/src/mm/memory.js
  // prints as its line in src/mm/memory.ts), the scenario loader, the CPU loop, tinypool and a
  // node internal.
  const decl = 'function unmap_page_range(';
  const compiled = lineWith('dist/src/mm/memory.js', decl);
  const source = lineWith('src/mm/memory.ts', decl);
  const builtin = [
    'Error',
    `    at zap_pte_range (${root}src/mm/memory.ts:201:13)`,
    `    at zap_pmd_range (${root}src/mm/memory.ts:240:5)`,
    `    at unmap_page_range (${url('dist/src/mm/memory.js')}:${compiled}:1)`,
    `    at oom_reaper (${root}src/mm/oom_kill.ts:174:5)`,
    `    at Object.run (${root}src/scenarios/oom-reaper-vs-exit-mmap-2017.ts:47:18)`,
    `    at <anonymous> (${root}src/scenarios/cpu_entry.ts:39:10)`,
    `    at runCpu (${url('dist/src/cpu/cpu_loop.js')}:67:13)`,
    `    at async ${url('node_modules/tinypool/dist/entry/worker.js')}:48:17`,
    '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
  ].join('\n');

  it("keeps a built-in scenario's kernel frames exactly as call traces have always printed them", () => {
    expect(stackFrames(builtin).map((f) => f.text)).toEqual([
      'zap_pte_range (mm/memory.ts:201)',
      'zap_pmd_range (mm/memory.ts:240)',
      `unmap_page_range (mm/memory.ts:${source})`,
      'oom_reaper (mm/oom_kill.ts:174)',
      'run (scenarios/oom-reaper-vs-exit-mmap-2017.ts:47)',
    ]);
    expect(userFrames(builtin)).toEqual([]);
  });

  it("keeps the user's frames with file and line, and drops node internals and node_modules", () => {
    const stack = [
      'Error: boom',
      `    at kread (${root}src/mm/kasan.ts:120:3)`,
      '    at helper (file:///tmp/foo/my-race.mjs:7:3)',
      '    at my_cpu_program (/tmp/foo/my-race.ts:12:5)', // source-mapped TypeScript
      '    at file:///tmp/foo/my-race.mjs:30:9', // an unnamed function
      `    at Object.run [as run] (${url('test/fixtures/user-uaf.mjs')}:40:5)`, // under the cwd
      '    at Array.forEach (<anonymous>)',
      '    at lib (file:///home/me/proj/node_modules/some-lib/index.js:3:1)',
      '    at Module._compile (node:internal/modules/cjs/loader:1256:14)',
      `    at <anonymous> (${root}src/scenarios/campaign.ts:82:39)`, // setup's caller: the harness
      '    at embedder (file:///home/me/proj/run.mjs:5:1)', // outward of the harness: not the scenario's
    ].join('\n');
    const user = [
      'helper (my-race.mjs:7)',
      'my_cpu_program (my-race.ts:12)',
      '<anonymous> (my-race.mjs:30)',
      'run (test/fixtures/user-uaf.mjs:40)',
    ];
    expect(stackFrames(stack).map((f) => f.text)).toEqual(['kread (mm/kasan.ts:120)', ...user]);
    expect(userFrames(stack)).toEqual(user);
  });
});

describe('reports raised by user scenario code (mmrace run test/fixtures/user-uaf.mjs)', () => {
  const FIXTURE = 'test/fixtures/user-uaf.mjs';
  const at = (fn: string, mark: string) => ` ${fn} (${FIXTURE}:${lineOf(FIXTURE, mark)})`;
  let r: CliResult;
  let rows: Row[] = [];
  const row = (variant: string) => rows.find((x) => x.variant === variant);
  beforeAll(() => {
    r = mmrace(['run', FIXTURE, '--runs', '1', '--json']);
    if (r.code === 0) rows = json<{ rows: Row[] }>(r).rows;
  });

  it('runs every variant to its expected verdict', () => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(rows.map((x) => x.variant)).toEqual(['uaf', 'warn', 'oops', 'setup-warn']);
  });

  it("KASAN: the headline names the user's function, the trace the user's frames and lines", () => {
    const log = logOf(row('uaf'));
    expect(log).toContain('BUG: KASAN: slab-use-after-free in use_after_free');
    expect(traceOf(log)).toEqual([at('use_after_free', 'kread'), at('my_cpu_program', 'call')]);
  });

  it("WARN and Oops from a CPU program trace to the user's line", () => {
    expect(traceOf(logOf(row('warn')))).toEqual([at('my_cpu_program', 'WARN')]);
    const oops = logOf(row('oops'));
    expect(oops).toContain('BUG: kernel NULL pointer dereference, address: 00000010');
    expect(traceOf(oops)).toEqual([at('my_cpu_program', 'NULL')]);
  });

  it('a WARN in setup (the main thread) traces to setup, without the campaign that called it', () => {
    expect(traceOf(logOf(row('setup-warn')))).toEqual([
      at('my_setup_helper', 'setup WARN'),
      at('setup', 'setup call'),
    ]);
  });
});

describe('lockdep names the user frame that took a lock (test/fixtures/user-lockdep.mjs --lockdep)', () => {
  it('the acquire sites of the circular dependency are the fixture lines', () => {
    const FIXTURE = 'test/fixtures/user-lockdep.mjs';
    const r = mmrace(['run', FIXTURE, '--runs', '1', '--lockdep', '--json']);
    expect(r.code).toBe(0);
    const log = logOf(json<{ rows: Row[] }>(r).rows[0]);
    const i = log.indexOf('WARNING: possible circular locking dependency detected');
    expect(i).toBeGreaterThanOrEqual(0);
    const site = (mark: string) => `, at: run (${FIXTURE}:${lineOf(FIXTURE, mark)})`;
    const trying = log.findIndex((l, j) => j > i && /^inverter\/\d+ is trying to acquire lock:$/.test(l));
    expect(log[trying + 1]).toMatch(/^[0-9a-f]{8} \(user_A\)/);
    expect(log[trying + 1]).toContain(site('acquire'));
    const holding = log.indexOf('but task is already holding lock:', i);
    expect(log[holding + 1]).toMatch(/^[0-9a-f]{8} \(user_B\)/);
    expect(log[holding + 1]).toContain(site('held'));
  });
});
