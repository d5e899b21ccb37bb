// process_mrelease(2) in each released form (kernel-mm.md §2.4, §6 D2/E1). On the boot CPU: the
// syscall's results, the reference it pins while it reaps, and the D2 race scripted at its
// preemption points. On workers: test/fixtures/teardown-mrelease.mjs, every schedule with up to
// one preemption (two for v5.15 and v6.1) of the target's exit against the syscall, per era.
// Measured on the 2-core host: ~100 schedules per era at bound 1 (~3 s for the seven), ~1300-1600
// at bound 2 (~3 s each).
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { KernelOops } from '../src/cpu/errors.js';
import { BootRunner } from '../src/cpu/free.js';
import { test_bit } from '../src/kernel/bitops.js';
import { exit_mm } from '../src/kernel/exit.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import { process_mrelease } from '../src/mm/era_ops.js';
import { kasanReports, kread } from '../src/mm/kasan.js';
import { get_mm_counter } from '../src/mm/memory.js';
import { MM, MM_ANONPAGES, MMF_OOM_SKIP, MMF_UNSTABLE } from '../src/mm/mm_types.js';
import { do_send_sig_info_SIGKILL, oom_init } from '../src/mm/oom_kill.js';
import { nr_free_pages } from '../src/mm/page_alloc.js';
import { EINVAL, ENOSYS, ESRCH } from '../src/mm/process_mrelease.js';
import { mem } from '../src/shm/arena.js';
import { as } from './helpers/as_cpu.js';
import { boot, reports } from './helpers/boot.js';
import { json, mmrace } from './helpers/cli.js';
import { fault, mmap } from './helpers/process.js';
import { ScriptRunner } from './helpers/script_runner.js';

const SYSCALL = ['v5.15-rc1', 'v5.15', 'v5.17-rc1', 'v5.17', 'rfc-2022-05', 'v6.1', 'v6.6'];

/** A process with two anonymous VMAs, 4 pages each faulted in, and lmkd. */
function world(era: string) {
  const { dmesg } = boot(era);
  oom_init(0);
  const mm = mm_alloc();
  const target = spawnTask('target', { mm });
  const lmkd = spawnTask('lmkd');
  const base = nr_free_pages();
  as(0, target, () => {
    for (const a of [0x08000000, 0x40000000]) {
      mmap(mm, a, 4);
      for (let p = 0; p < 4; p++) fault(mm, a + p * 4096);
    }
  });
  return { dmesg, mm, target, lmkd, base };
}

const rss = (mm: number) => get_mm_counter(mm, MM_ANONPAGES);
const mrelease = (w: ReturnType<typeof world>, flags = 0) =>
  as(1, w.lmkd, () => process_mrelease(w.target, flags));

afterEach(() => {
  cpuCtx.runner = new BootRunner();
  cpuCtx.current = 0;
  cpuCtx.cpu = 0;
});

describe('the syscall', () => {
  it.each(['v4.13', 'v4.14', 'v4.15', 'v4.17'])('%s: there is no syscall 448 (-ENOSYS)', (era) => {
    expect(mrelease(world(era))).toBe(-ENOSYS);
  });

  it.each(SYSCALL)('%s: errors, and a reap of a killed process', (era) => {
    const w = world(era);
    expect(mrelease(w, 1)).toBe(-EINVAL); // flags must be 0
    expect(mrelease(w)).toBe(-EINVAL); // not dying: task_will_free_mem() is false
    expect(rss(w.mm)).toBe(8);
    do_send_sig_info_SIGKILL(w.target);
    expect(mrelease(w)).toBe(0);
    expect(rss(w.mm)).toBe(0);
    expect(test_bit(MMF_UNSTABLE, w.mm + MM.flags)).toBe(true);
    // No victim marking: the syscall leaves MMF_OOM_SKIP alone, and the target still exits cleanly.
    expect(test_bit(MMF_OOM_SKIP, w.mm + MM.flags)).toBe(false);
    as(0, w.target, exit_mm);
    expect(mrelease(w)).toBe(-ESRCH); // past exit_mm(): no thread with an mm
    expect(nr_free_pages()).toBe(w.base);
    expect(reports(w.dmesg())).toEqual([]);
  });

  it.each(SYSCALL)('%s: work already done (MMF_OOM_SKIP) is success, not -EINVAL', (era) => {
    const w = world(era);
    Atomics.or(mem.i32, w.mm + MM.flags, 1 << MMF_OOM_SKIP);
    expect(mrelease(w)).toBe(0);
    expect(rss(w.mm)).toBe(8);
  });
});

describe('what it pins while it reaps', () => {
  // At the preemption point between task_unlock() and mmap_read_lock_killable().
  const pins: Record<string, 'mm_count' | 'mm_users'> = {
    'v5.15-rc1': 'mm_count', // 884a7e5964e0
    'v5.15': 'mm_users', // 337546e83fc7
    'v5.17-rc1': 'mm_count', // ba535c1caf3e
    'v5.17': 'mm_count',
    'rfc-2022-05': 'mm_count',
    'v6.1': 'mm_count',
    'v6.6': 'mm_count',
  };
  it.each(SYSCALL)('%s', (era) => {
    const w = world(era);
    do_send_sig_info_SIGKILL(w.target);
    const users = kread(w.mm + MM.mm_users);
    const count = kread(w.mm + MM.mm_count);
    let seen: [number, number] | undefined;
    cpuCtx.runner = new ScriptRunner((ev) => {
      if (ev === 'process_mrelease:unlocked') seen = [kread(w.mm + MM.mm_users), kread(w.mm + MM.mm_count)];
    });
    expect(mrelease(w)).toBe(0);
    expect(seen).toEqual(pins[era] === 'mm_users' ? [users + 1, count] : [users, count + 1]);
    expect([kread(w.mm + MM.mm_users), kread(w.mm + MM.mm_count)]).toEqual([users, count]);
  });
});

describe('D2: the target exits while the syscall walks its VMAs', () => {
  // At the first VMA of the walk (mmap_lock held for reading), the target runs exit_mm(): the
  // v4.17 exit_mmap takes no lock for a task that is no OOM victim.
  function exitDuringWalk(era: string) {
    const w = world(era);
    do_send_sig_info_SIGKILL(w.target);
    let ran = '';
    let ret = 1;
    let error: unknown = null;
    cpuCtx.runner = new ScriptRunner((ev) => {
      if (ev !== 'oom_reap:vma' || ran) return;
      ran = 'exit';
      as(0, w.target, exit_mm);
    });
    try {
      ret = mrelease(w);
    } catch (e) {
      error = e;
    }
    return { w, ret, error, ran };
  }

  it('v5.15-rc1 (mmgrab): exit_mmap frees the VMAs under the walk (KASAN)', () => {
    const { w, error } = exitDuringWalk('v5.15-rc1');
    expect(kasanReports()).toBeGreaterThan(0);
    expect(reports(w.dmesg())[0]).toMatch(/^BUG: KASAN: slab-use-after-free in \w+/);
    expect(w.dmesg().join('\n')).toMatch(/Freed by task \d+ on cpu 0:\n remove_vma/);
    expect(error === null || error instanceof KernelOops).toBe(true);
  });

  it("v5.15 (mmget_not_zero): the target's mmput() is not the last; the syscall's is, and tears down", () => {
    const { w, ret, error } = exitDuringWalk('v5.15');
    expect(error).toBeNull();
    expect(ret).toBe(0);
    expect(kread(w.mm + MM.mm_users)).toBe(0);
    expect(nr_free_pages()).toBe(w.base); // exit_mmap ran in the syscall's context
    expect(reports(w.dmesg())).toEqual([]);
  });
});

type Row = {
  variant: string;
  expected: string;
  observed: string;
  explored: number;
  hits: number;
  error: string | null;
};

function dfs(preemptions: number, variant?: string): Row[] {
  const args = ['run', 'test/fixtures/teardown-mrelease.mjs', '--strategy', 'dfs'];
  if (variant) args.push('--variant', variant);
  const r = mmrace([...args, '--preemptions', String(preemptions), '--runs', '100000', '--json'], 120_000);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0); // every variant's verdict matched its expectation
  return json<{ rows: Row[] }>(r).rows;
}

describe('on 2 worker CPUs, every schedule (bounded DFS)', { timeout: 180_000 }, () => {
  it('bound 1: D2 in v5.15-rc1, E1 in v5.17-rc1, clean in v5.15, v5.17, rfc-2022-05, v6.1, v6.6', () => {
    const rows = dfs(1);
    expect(rows.map((r) => [r.variant, r.observed])).toEqual([
      ['v5.15-rc1', 'reproduces'],
      ['v5.15', 'clean'],
      ['v5.17-rc1', 'reproduces'],
      ['v5.17', 'clean'],
      ['rfc-2022-05', 'clean'],
      ['v6.1', 'clean'],
      ['v6.6', 'clean'],
    ]);
    for (const r of rows) {
      expect(r.error).toBeNull();
      expect(r.explored).toBeGreaterThan(50);
    }
  });

  it.each(['v5.15', 'v6.1'])('bound 2: %s stays clean', (era) => {
    const [row] = dfs(2, era);
    expect(row).toMatchObject({ observed: 'clean', hits: 0, error: null });
    expect(row!.explored).toBeGreaterThan(1000);
  });
});
