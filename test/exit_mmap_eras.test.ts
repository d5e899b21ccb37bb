// exit_mmap() era by era (kernel-mm.md §1.9): at each step, who is excluded. The exiting task runs
// on the boot CPU under a ScriptRunner; the script plays the other CPUs at exit_mmap's preemption
// points and when it sleeps: a reaper or process_mrelease that holds mmap_lock for reading, a
// third CPU trying mmap_read_trylock() as the reaper does. Deterministic: no worker threads.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { KernelOops } from '../src/cpu/errors.js';
import { BootRunner } from '../src/cpu/free.js';
import { test_bit } from '../src/kernel/bitops.js';
import { exit_mm } from '../src/kernel/exit.js';
import { mm_alloc, mmget_not_zero, mmput, spawnTask } from '../src/kernel/fork.js';
import { lockdep_enable } from '../src/kernel/locking/lockdep_state.js';
import { TASK } from '../src/kernel/task_struct.js';
import { oom_reap_task_mm as oom_reap_attempt, process_mrelease } from '../src/mm/era_ops.js';
import { kasanReports, kread, kwrite } from '../src/mm/kasan.js';
import { __mt_destroy, maple_node_caches } from '../src/mm/maple_tree.js';
import { get_mm_counter } from '../src/mm/memory.js';
import { MAPLE_TREE, MM, MM_ANONPAGES, MMF_OOM_SKIP, VM_LOCKED, VMA } from '../src/mm/mm_types.js';
import { mmap_read_lock, mmap_read_trylock, mmap_read_unlock, mmap_write_lock } from '../src/mm/mmap_lock.js';
import { do_send_sig_info_SIGKILL, oom_init, oom_kill_process } from '../src/mm/oom_kill.js';
import { nr_free_pages } from '../src/mm/page_alloc.js';
import { kmem_cache_live } from '../src/mm/slab.js';
import { for_each_vma, vma_start } from '../src/mm/vma_list.js';
import { as } from './helpers/as_cpu.js';
import { boot, reports } from './helpers/boot.js';
import { fault, mapleNodesLive, mmap } from './helpers/process.js';
import { ScriptRunner } from './helpers/script_runner.js';

const PAGES = 4;
const ADDRS = [0x08000000, 0x08400000];
const LOCKED = 0x40000000;
const ERAS = ['v4.13', 'v4.14', 'v4.15', 'v4.17', 'v5.15-rc1', 'v5.15'] as const;
const WRITE_LOCKED = ['v5.17-rc1', 'v5.17'] as const;
const SPLIT = ['rfc-2022-05', 'v6.1', 'v6.6'] as const;
const ALL = [...ERAS, ...WRITE_LOCKED, ...SPLIT];

/** A process with two anonymous VMAs faulted in (and optionally an mlocked one), plus bystanders. */
function world(era: string, locked = false) {
  const { dmesg } = boot(era);
  const reaper = spawnTask('oom_reaper', { kthread: true });
  oom_init(reaper);
  const mm = mm_alloc();
  const victim = spawnTask('victim', { mm });
  const lmkd = spawnTask('lmkd');
  const cat = spawnTask('cat');
  // Pages allocated from here on are the process's tables and memory: its exit frees them all (the
  // pgd goes with the mm_struct, later, at __mmdrop()).
  const base = nr_free_pages();
  cpuCtx.current = victim;
  for (const a of ADDRS) mmap(mm, a, PAGES);
  for (const a of ADDRS) for (let p = 0; p < PAGES; p++) fault(mm, a + p * 4096);
  if (locked) {
    const vma = mmap(mm, LOCKED, PAGES);
    kwrite(vma + VMA.vm_flags, kread(vma + VMA.vm_flags) | VM_LOCKED);
    kwrite(mm + MM.locked_vm, PAGES);
    for (let p = 0; p < PAGES; p++) fault(mm, LOCKED + p * 4096);
  }
  cpuCtx.current = 0;
  return { dmesg, mm, victim, reaper, lmkd, cat, base };
}

const rss = (mm: number) => get_mm_counter(mm, MM_ANONPAGES);
const skipped = (mm: number) => test_bit(MMF_OOM_SKIP, mm + MM.flags);
const vmaAt = (mm: number, addr: number) => {
  for (const v of for_each_vma(mm)) if (vma_start(v) === addr) return v;
  return 0;
};

afterEach(() => {
  cpuCtx.runner = new BootRunner();
  cpuCtx.current = 0;
  cpuCtx.cpu = 0;
  lockdep_enable(false);
});

interface Blocked {
  rss: number;
  skip: boolean;
  /** A third CPU's mmap_read_trylock() while exit_mmap sleeps on the lock (the reaper's attempt). */
  trylock: boolean;
  /** VM_LOCKED still set on the mlocked VMA: munlock has not run. */
  locked: boolean;
}

/**
 * `exiter` runs `exit` while `holder` holds mmap_lock for reading (taken on CPU 1 first). The first
 * time the exit sleeps, the script notes the state and releases the holder's lock. Returns the
 * note, or null if the exit never slept.
 */
function exitUnderReader(w: ReturnType<typeof world>, exiter: number, exit: () => void): Blocked | null {
  as(1, w.lmkd, () => mmap_read_lock(w.mm));
  let held = true;
  let note: Blocked | null = null;
  cpuCtx.runner = new ScriptRunner((ev) => {
    if (ev !== 'wait' || !held) return;
    const lockedVma = vmaAt(w.mm, LOCKED);
    note = {
      rss: rss(w.mm),
      skip: skipped(w.mm),
      trylock: as(2, w.reaper, () => mmap_read_trylock(w.mm) && (mmap_read_unlock(w.mm), true)),
      locked: lockedVma ? (kread(lockedVma + VMA.vm_flags) & VM_LOCKED) !== 0 : false,
    };
    as(1, w.lmkd, () => mmap_read_unlock(w.mm));
    held = false;
  });
  as(0, exiter, exit);
  cpuCtx.runner = new BootRunner();
  if (held) as(1, w.lmkd, () => mmap_read_unlock(w.mm));
  return note;
}

describe('a reader holding mmap_lock (process_mrelease, a non-victim exit)', () => {
  const blocksBefore = (era: string) => (WRITE_LOCKED as readonly string[]).includes(era);
  const blocksAfter = (era: string) => (SPLIT as readonly string[]).includes(era);

  it.each(ALL)('%s: blocks exit_mmap before unmap_vmas (v5.17), after it (v6.1), or never', (era) => {
    const w = world(era);
    const full = rss(w.mm);
    const note = exitUnderReader(w, w.victim, exit_mm);
    if (blocksBefore(era)) {
      // The write lock comes first: nothing unmapped, the mm not hidden.
      expect(note).toEqual({ rss: full, skip: false, trylock: false, locked: false });
    } else if (blocksAfter(era)) {
      // unmap_vmas ran under the shared read lock, MMF_OOM_SKIP is set, and the queued writer
      // makes the reaper's read trylock fail.
      expect(note).toEqual({ rss: 0, skip: true, trylock: false, locked: false });
    } else {
      // No lock at all for a task that is no OOM victim: page tables and VMAs freed under the reader.
      expect(note).toBeNull();
    }
    expect(nr_free_pages()).toBe(w.base);
    expect(reports(w.dmesg())).toEqual([]);
  });
});

describe("an OOM victim's exit with the reaper inside its read-locked walk", () => {
  // v4.14/v4.15: munlock, unmap, then the barrier. v4.17-v5.16: self-reap (VM_LOCKED skipped),
  // MMF_OOM_SKIP, barrier, munlock after it. v5.17: self-reap, then the write lock before munlock.
  // rfc/v6.1: no munlock; unmap under the read lock, then the write lock.
  const expected: Record<string, Blocked | null> = {
    'v4.13': null,
    'v4.14': { rss: 0, skip: true, trylock: false, locked: false },
    'v4.15': { rss: 0, skip: true, trylock: false, locked: false },
    'v4.17': { rss: PAGES, skip: true, trylock: false, locked: true },
    'v5.15-rc1': { rss: PAGES, skip: true, trylock: false, locked: true },
    'v5.15': { rss: PAGES, skip: true, trylock: false, locked: true },
    'v5.17-rc1': { rss: PAGES, skip: true, trylock: false, locked: true },
    'v5.17': { rss: PAGES, skip: true, trylock: false, locked: true },
    'rfc-2022-05': { rss: 0, skip: true, trylock: false, locked: true },
    'v6.1': { rss: 0, skip: true, trylock: false, locked: true },
    'v6.6': { rss: 0, skip: true, trylock: false, locked: true },
  };

  it.each(ALL)('%s', (era) => {
    const w = world(era, true);
    oom_kill_process(w.victim);
    const note = exitUnderReader(w, w.victim, exit_mm);
    expect(note).toEqual(expected[era]);
    expect(nr_free_pages()).toBe(w.base);
    expect(reports(w.dmesg())).toEqual([]);
  });

  it.each([
    ['v4.14', false],
    ['v4.15', true],
  ])('%s: the last mmput() by a non-victim (a /proc reader) waits for the reaper: %s (B1)', (era, waits) => {
    const w = world(era);
    oom_kill_process(w.victim);
    as(0, w.cat, () => mmget_not_zero(w.mm));
    as(0, w.victim, exit_mm); // not the last reference
    const note = exitUnderReader(w, w.cat, () => mmput(w.mm));
    expect(note !== null).toBe(waits);
  });
});

describe('at each step, can the reaper get mmap_lock for reading? (non-victim exit)', () => {
  const expected = (era: string) =>
    (WRITE_LOCKED as readonly string[]).includes(era)
      ? [false, false, false]
      : (SPLIT as readonly string[]).includes(era)
        ? [true, false, false]
        : [true, true, true];
  const STEPS = ['zap_pte', 'exit_mmap:free_pgtables', 'exit_mmap:remove_vma'];

  it.each(ALL)('%s: unmap_vmas, free_pgtables, remove_vma', (era) => {
    const w = world(era);
    const seen = new Map<string, { trylock: boolean; skip: boolean }>();
    cpuCtx.runner = new ScriptRunner((ev) => {
      if (!STEPS.includes(ev) || seen.has(ev)) return;
      const trylock = as(2, w.reaper, () => mmap_read_trylock(w.mm) && (mmap_read_unlock(w.mm), true));
      seen.set(ev, { trylock, skip: skipped(w.mm) });
    });
    as(0, w.victim, exit_mm);
    expect(STEPS.map((s) => seen.get(s)?.trylock)).toEqual(expected(era));
    // MMF_OOM_SKIP for a non-victim: only the eras that set it for everyone, after unmap_vmas.
    const all = (SPLIT as readonly string[]).includes(era) || era === 'v4.14';
    expect(STEPS.map((s) => seen.get(s)?.skip)).toEqual([false, all, all]);
  });
});

describe('v4.17: a victim reaps itself, then the reaper finds MMF_OOM_SKIP', () => {
  it.each(['v4.15', 'v4.17'])('%s: munlock runs after the barrier only from v4.17 (C1)', (era) => {
    const w = world(era, true);
    oom_kill_process(w.victim);
    const order: string[] = [];
    cpuCtx.runner = new ScriptRunner((ev) => {
      if ((ev === 'exit_mmap:oom_skip_set' || ev === 'munlock_vma_pages_range') && !order.includes(ev))
        order.push(ev);
    });
    as(0, w.victim, exit_mm);
    expect(order).toEqual(
      era === 'v4.15'
        ? ['munlock_vma_pages_range', 'exit_mmap:oom_skip_set']
        : ['exit_mmap:oom_skip_set', 'munlock_vma_pages_range'],
    );
  });

  it('the reaper arriving after the self-reap skips the mm under the read lock', () => {
    const w = world('v4.17');
    oom_kill_process(w.victim);
    let reaped: boolean | undefined;
    let atSkip = -1;
    cpuCtx.runner = new ScriptRunner((ev) => {
      if (ev !== 'exit_mmap:oom_skip_set') return;
      atSkip = rss(w.mm);
      reaped = as(1, w.reaper, () => oom_reap_attempt(w.victim, w.mm));
    });
    as(0, w.victim, exit_mm);
    expect(atSkip).toBe(0); // __oom_reap_task_mm(mm) in exit_mmap did the work
    expect(reaped).toBe(true); // done, without reaping
    expect(w.dmesg().some((l) => l.startsWith('oom_reaper: reaped process'))).toBe(false);
    expect(reports(w.dmesg())).toEqual([]);
  });
});

describe('E1: v5.17 without mm->mmap = NULL', () => {
  // lmkd: kill(SIGKILL), then process_mrelease(). Between its task_unlock() and mmap_read_lock the
  // target exits completely; a non-victim's mm never gets MMF_OOM_SKIP in v5.17.
  function mreleaseAcrossExit(era: string) {
    const w = world(era);
    do_send_sig_info_SIGKILL(w.victim);
    let ret = 1;
    let error: unknown = null;
    cpuCtx.runner = new ScriptRunner((ev) => {
      if (ev === 'process_mrelease:unlocked') as(0, w.victim, exit_mm);
    });
    try {
      ret = as(1, w.lmkd, () => process_mrelease(w.victim, 0));
    } catch (e) {
      error = e;
    }
    return { w, ret, error };
  }

  it('v5.17-rc1: process_mrelease walks the freed VMAs (KASAN)', () => {
    const { w, error } = mreleaseAcrossExit('v5.17-rc1');
    expect(kasanReports()).toBeGreaterThan(0);
    const first = reports(w.dmesg())[0];
    // syzbot's report: "BUG: KASAN: use-after-free in can_madv_lru_vma", freed by remove_vma.
    expect(first).toBe('BUG: KASAN: slab-use-after-free in can_madv_dontneed_vma');
    expect(w.dmesg().join('\n')).toMatch(/Freed by task \d+ on cpu 0:\n remove_vma/);
    expect(error === null || error instanceof KernelOops).toBe(true);
  });

  it.each(['v5.17', 'v6.1'])('%s: it finds an empty list (or MMF_OOM_SKIP) and returns 0', (era) => {
    const { w, ret, error } = mreleaseAcrossExit(era);
    expect(error).toBeNull();
    expect(ret).toBe(0);
    expect(kasanReports()).toBe(0);
    expect(reports(w.dmesg())).toEqual([]);
    expect(nr_free_pages()).toBe(w.base);
  });
});

describe('v6.1 checks: BUG_ON(count != mm->map_count), mmap_assert_write_locked', () => {
  it('a map_count that does not match the VMAs freed is a kernel BUG, in v4.14-era format', () => {
    const w = world('v6.1');
    kwrite(w.mm + MM.map_count, kread(w.mm + MM.map_count) + 1); // seeded: a VMA counted, not linked
    expect(() => as(0, w.victim, exit_mm)).toThrow(KernelOops);
    const log = w.dmesg();
    const at = log.indexOf('kernel BUG at mm/mmap.c:exit_mmap!');
    expect(at).toBeGreaterThan(0);
    expect(log[at - 1]).toBe('------------[ cut here ]------------');
    expect(log[at + 1]).toBe('invalid opcode: 0000 [#1] SMP');
    expect(log.join('\n')).toMatch(/CPU: 0 PID: \d+ Comm: victim Tainted: G {6}D 6\.1\.0 #1/);
  });

  it('a matching map_count: silent', () => {
    const w = world('v6.1');
    as(0, w.victim, exit_mm);
    expect(reports(w.dmesg())).toEqual([]);
  });

  it('the tree destroyed without its external lock (mmap_lock): suspicious RCU usage; with it, nothing', () => {
    const w = world('v6.1');
    lockdep_enable(true);
    as(0, w.victim, () => __mt_destroy(w.mm + MM.mm_mt));
    expect(reports(w.dmesg())).toEqual(['WARNING: suspicious RCU usage']);
    expect(w.dmesg().join('\n')).toContain(
      'lib/maple_tree.c:mt_root_locked suspicious rcu_dereference_protected() usage!',
    );
    const v = world('v6.1');
    lockdep_enable(true);
    as(0, v.victim, () => {
      mmap_write_lock(v.mm);
      __mt_destroy(v.mm + MM.mm_mt);
    });
    expect(reports(v.dmesg())).toEqual([]);
    expect(kread(v.mm + MM.mm_mt + MAPLE_TREE.ma_root)).toBe(0);
    expect(kread(v.mm + MM.mmap)).toBe(0); // v6.1 has no mm->mmap: never written
  });

  it.each(['v6.1', 'v6.6'])('%s: exit_mmap leaves no tree node allocated', (era) => {
    for (const victim of [false, true]) {
      const w = world(era, victim);
      if (victim) oom_kill_process(w.victim);
      expect(kread(w.mm + MM.mm_mt + MAPLE_TREE.ma_root)).not.toBe(0);
      as(0, w.victim, exit_mm);
      expect(kread(w.mm + MM.mm_mt + MAPLE_TREE.ma_root)).toBe(0);
      expect(kread(w.mm + MM.mm_mt + MAPLE_TREE.ma_flags)).toBe(0); // __mt_destroy() clears them
      // v6.1 frees every replaced node at once; v6.6's mmaps retired theirs with kfree_rcu(), which
      // a grace period frees (exit_mmap itself left RCU mode first: mt_clear_in_rcu).
      const live = () => maple_node_caches.reduce((n, c) => n + kmem_cache_live(c), 0);
      if (era === 'v6.1') expect(live()).toBe(0);
      expect(mapleNodesLive()).toBe(0);
      expect(reports(w.dmesg())).toEqual([]);
    }
  });
});

// Every era's exit leaves nothing behind, victims or not: the mm, its tables and pages are freed.
describe.each(ALL)('%s: teardown frees everything', (era) => {
  it('a plain exit, and an OOM victim with an mlocked VMA', () => {
    for (const victim of [false, true]) {
      const w = world(era, victim);
      if (victim) oom_kill_process(w.victim);
      as(0, w.victim, exit_mm);
      expect(kread(w.victim + TASK.mm)).toBe(0);
      expect(nr_free_pages(), `${era} victim=${victim}`).toBe(w.base);
      expect(reports(w.dmesg())).toEqual([]);
    }
  });
});
