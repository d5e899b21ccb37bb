// lockdep's acquisition sites without a formatted stack per acquisition (lockdep_ip.ts): each
// thread keeps a table from a raw V8 frame to the site symbolized the first time, and the table's
// answers are what the formatted stack says. With lockdep_site_check() on, every answer is
// symbolized again and compared; a difference is counted. Here on the boot CPU (vitest's source
// maps), then on the CPU workers of the built command (node's source maps) in a child process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import { lockdepReset } from '../src/kernel/locking/lockdep.js';
import { siteTableStats } from '../src/kernel/locking/lockdep_ip.js';
import { lockdep_print_held_locks } from '../src/kernel/locking/lockdep_report.js';
import {
  lockdep_enable,
  lockdep_site_check,
  lockdepSiteMismatches,
} from '../src/kernel/locking/lockdep_state.js';
import {
  down_read_trylock,
  down_write,
  downgrade_write,
  init_rwsem,
  up_read,
} from '../src/kernel/locking/rwsem.js';
import { spin_lock, spin_lock_init, spin_unlock } from '../src/kernel/locking/spinlock.js';
import { MM } from '../src/mm/mm_types.js';
import { mmap_read_lock, mmap_read_unlock } from '../src/mm/mmap_lock.js';
import { boot } from './helpers/boot.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const SELF = 'test/lockdep_sites.test.ts';
const dist = (path: string) => pathToFileURL(`${root}dist/src/${path}`).href;

/** The 1-based line of `// MARK: <mark>` in this file. */
function lineOf(mark: string): number {
  const lines = readFileSync(root + SELF, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(`// MARK: ${mark}`) && !l.includes('lineOf('));
  expect(i, `no MARK: ${mark}`).toBeGreaterThanOrEqual(0);
  return i + 1;
}

function setup() {
  boot();
  lockdepReset();
  lockdep_enable(true);
  lockdep_site_check(true);
  const mm = mm_alloc();
  const ptl = mm + MM.page_table_lock;
  spin_lock_init(ptl, 'mm->page_table_lock');
  init_rwsem(mm + MM.mmap_sem, '&mm->mmap_sem');
  const t = spawnTask('sites');
  cpuCtx.current = t;
  return { mm, ptl, sem: mm + MM.mmap_sem, t };
}

afterEach(() => {
  lockdep_site_check(false);
  lockdep_enable(false);
  cpuCtx.current = 0;
});

function take_three(mm: number, ptl: number): void {
  mmap_read_lock(mm); // MARK: inline
  spin_lock(ptl); // MARK: spin
  [ptl].forEach(() => {
    down_read_trylock(mm + MM.mmap_sem); // MARK: anonymous
  });
}

function drop_three(mm: number, ptl: number): void {
  up_read(mm + MM.mmap_sem);
  spin_unlock(ptl);
  mmap_read_unlock(mm);
}

describe('lockdep acquisition sites from the site table', () => {
  it('names the callers the formatted stack names: past an inline wrapper, an unnamed function', () => {
    const { mm, ptl, t } = setup();
    const before = siteTableStats();
    for (let i = 0; i < 20; i++) {
      take_three(mm, ptl);
      const held = lockdep_print_held_locks(t);
      expect(held.slice(1)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^ #0: [0-9a-f]{8} \\(&mm->mmap_sem\\)\\{\\.\\+\\.\\+\\}-\\{3:3\\}, at: take_three \\(test/lockdep_sites\\.test\\.ts:${lineOf('inline')}\\)$`,
          ),
        ),
        expect.stringMatching(
          new RegExp(
            `^ #1: [0-9a-f]{8} \\(mm->page_table_lock\\)\\{\\+\\.\\+\\.\\}-\\{2:2\\}, at: take_three \\(test/lockdep_sites\\.test\\.ts:${lineOf('spin')}\\)$`,
          ),
        ),
        // an unnamed function's site is its file:line
        expect.stringMatching(new RegExp(`, at: test/lockdep_sites\\.test\\.ts:${lineOf('anonymous')}$`)),
      ]);
      drop_three(mm, ptl);
    }
    const after = siteTableStats();
    // three sites learned once each; every later acquisition answered by the table
    expect(after.learned - before.learned).toBe(3);
    expect(after.untrusted - before.untrusted).toBe(0);
    expect(after.symbolized - before.symbolized).toBe(0);
    expect(after.answered - before.answered).toBe(57);
    expect(lockdepSiteMismatches()).toBe(0);
  });

  it('a downgrade records its own site; init without a name keys the class by the init site', () => {
    const { sem, t } = setup();
    const anon = mm_alloc() + MM.page_table_lock;
    const at = (mark: string) => `${SELF.replace(/\./g, '\\.')}:${lineOf(mark)}`;
    (function init_path() {
      spin_lock_init(anon); // MARK: init
    })();
    (function downgrade_path() {
      down_write(sem);
      downgrade_write(sem); // MARK: downgrade
      spin_lock(anon);
    })();
    const held = lockdep_print_held_locks(t);
    expect(held[1]).toMatch(new RegExp(`, at: downgrade_path \\(${at('downgrade')}\\)$`));
    expect(held[2]).toMatch(new RegExp(`^ #1: [0-9a-f]{8} \\(init_path@${at('init')}\\)`));
    spin_unlock(anon);
    up_read(sem);
    expect(lockdepSiteMismatches()).toBe(0);
  });

  it('one site taken again and again keeps its line', () => {
    const { ptl, t } = setup();
    const a = () => spin_lock(ptl); // MARK: again
    for (let i = 0; i < 3; i++) {
      a();
      expect(lockdep_print_held_locks(t)[1]).toMatch(
        new RegExp(`at: a \\(${SELF.replace(/\./g, '\\.')}:${lineOf('again')}\\)$`),
      );
      spin_unlock(ptl);
    }
    expect(lockdepSiteMismatches()).toBe(0);
  });
});

// Both builds: the compiled modules (a file per module) and the bundle (dist/mmrace.js, where every
// frame is one script's and is classed by its source-mapped file).
const BUILDS = {
  'compiled modules': `
      import { findScenario, lockdep_enable, runVariant, sharedMachine, shutdownMachine } from '${dist('index.js')}';
      import { lockdep_site_check, lockdepSiteMismatches } from '${dist('kernel/locking/lockdep_state.js')}';
      import { siteTableStats } from '${dist('kernel/locking/lockdep_ip.js')}';`,
  bundle: `
      import { findScenario, lockdep_enable, lockdep_site_check, lockdepSiteMismatches, runVariant, sharedMachine,
        shutdownMachine, siteTableStats } from '${pathToFileURL(`${root}dist/mmrace.js`).href}';`,
};

describe('on the CPU workers of the built command', () => {
  it.each(
    Object.keys(BUILDS),
  )('%s: the 2017 scenario, free and controlled: every site and trace the tables answer is the formatted one', (build) => {
    const script = `${BUILDS[build as keyof typeof BUILDS]}
      const m = sharedMachine();
      const e = findScenario('oom-reaper-vs-exit-mmap-2017');
      m.attach();
      lockdep_enable(true);
      lockdep_site_check(true);
      const out = [];
      for (const v of e.scenario.variants.slice(0, 2)) {
        for (const opts of [{ runs: 30, seed: 1 }, { runs: 10, seed: 1, mode: 'controlled', strategy: { name: 'pct' } }]) {
          const r = await runVariant(m, e.scenario, v, opts, e.url);
          out.push({ variant: v.name, mode: r.mode, runs: r.runs, hits: r.hits, crash: r.crash?.message ?? null });
        }
      }
      m.attach();
      out.push({ mismatches: lockdepSiteMismatches() });
      lockdep_site_check(false);
      // Without the self-check, the paths the main thread's setup has taken before are answered
      // by the trace table: none is formatted again.
      const before = siteTableStats();
      await runVariant(m, e.scenario, e.scenario.variants[0], { runs: 10, seed: 1 }, e.url);
      m.attach();
      const after = siteTableStats();
      out.push({ tracesFormatted: after.tracesFormatted - before.tracesFormatted, answered: after.tracesAnswered > before.tracesAnswered });
      lockdep_enable(false);
      await shutdownMachine();
      console.log(JSON.stringify(out));
    `;
    const dir = mkdtempSync(join(tmpdir(), 'mmrace-lockdep-sites-'));
    const file = join(dir, 'check.mjs');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(out.slice(0, 4)).toEqual([
      expect.objectContaining({ variant: 'v4.14', mode: 'free', runs: 30, crash: null }),
      expect.objectContaining({ variant: 'v4.14', mode: 'controlled', runs: 10, crash: null }),
      expect.objectContaining({ variant: 'v4.15', mode: 'free', runs: 30, hits: 0, crash: null }),
      expect.objectContaining({ variant: 'v4.15', mode: 'controlled', runs: 10, hits: 0, crash: null }),
    ]);
    expect(out[4]).toEqual({ mismatches: 0 });
    expect(out[5]).toEqual({ tracesFormatted: 0, answered: true });
  }, 150_000);
});
