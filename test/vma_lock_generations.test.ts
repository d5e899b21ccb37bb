// Per-VMA locks, one generation per era (src/mm/vma_lock.ts), scripted on the boot CPU: each
// generation's state machine (rfc-2022-09: rwsem + vm_lock_seq; v6.4: vma_lock, detached, vm_rcu
// over the bounds; v6.15: vm_refcnt, seqcount, SLAB_TYPESAFE_BY_RCU), the fault entry's per-VMA
// step and its fallbacks with the VMA_LOCK_* counters, the checks (VM_BUG_ON_VMA, WARN_ON_ONCE,
// KASAN) firing on seeded defects and silent on correct code, and the eras' exit_mmap frees.
// Multi-CPU interleavings (a reader against munmap, Jann Horn's unlock-then-free) belong in DFS
// fixtures: here one CPU plays each side in turn.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { KernelOops } from '../src/cpu/errors.js';
import { BootRunner } from '../src/cpu/free.js';
import { EAGAIN } from '../src/kernel/errno.js';
import { mm_alloc, mmdrop, mmgrab, spawnTask } from '../src/kernel/fork.js';
import { rcu_barrier } from '../src/kernel/rcu/callbacks.js';
import { synchronize_rcu } from '../src/kernel/rcu/tree.js';
import { rcu_read_lock, rcu_read_unlock, rcuReadLockNesting } from '../src/kernel/rcu/update.js';
import { __do_page_fault } from '../src/mm/fault.js';
import { kread } from '../src/mm/kasan.js';
import { FAULT_FLAG_WRITE, handle_mm_fault, VM_FAULT_ERROR, VM_FAULT_SIGSEGV } from '../src/mm/memory.js';
import { MM, VMA } from '../src/mm/mm_types.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  vm_mmap,
  vm_munmap,
} from '../src/mm/mmap.js';
import { mmap_write_lock, mmap_write_unlock } from '../src/mm/mmap_lock.js';
import { mprotect } from '../src/mm/mprotect.js';
import { slab_is_live, virt_to_cache } from '../src/mm/slab.js';
import { find_vma } from '../src/mm/vma_list.js';
import {
  FAULT_FLAG_VMA_LOCK,
  lock_vma_under_rcu,
  perVmaLockGeneration,
  VM_FAULT_RETRY,
  VMA_LOCK_OFFSET,
  vm_area_cachep_typesafe,
  vma_assert_attached,
  vma_assert_detached,
  vma_assert_locked,
  vma_assert_write_locked,
  vma_end_read,
  vma_lock_cachep,
  vma_mark_locked,
  vma_read_trylock,
  vma_read_unlock,
  vma_start_read,
  vma_start_write,
  vmstat_vma_lock,
} from '../src/mm/vma_lock.js';
import { as } from './helpers/as_cpu.js';
import { reports } from './helpers/boot.js';
import { exitAll, newProcess, type Proc } from './helpers/process.js';
import { ScriptRunner } from './helpers/script_runner.js';

const P = 4096;
const A = 0x08000000;
const B = 0x08010000;

afterEach(() => {
  cpuCtx.runner = new BootRunner();
  cpuCtx.current = 0;
  cpuCtx.cpu = 0;
});

/** An anonymous private RW mapping of `pages` pages at `addr`, through the kernel's own mmap_write_lock(). */
function map(p: Proc, addr: number, pages = 2): number {
  expect(
    vm_mmap(p.mm, addr, pages * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
  ).toBe(addr);
  return find_vma(p.mm, addr);
}

const fault = (p: Proc, addr: number): number => __do_page_fault(p.mm, addr, FAULT_FLAG_WRITE);
const seq = (p: Proc): number => kread(p.mm + MM.mm_lock_seq);
const refcnt = (vma: number): number => kread(vma + VMA.vm_refcnt);
const counters = (): number[] => {
  const c = vmstat_vma_lock();
  return [c.VMA_LOCK_SUCCESS, c.VMA_LOCK_ABORT, c.VMA_LOCK_RETRY, c.VMA_LOCK_MISS];
};

/** `f` must oops with VM_BUG_ON_VMA's dump of `vma` then "kernel BUG at <site>!". */
function expectVmBug(p: Proc, vma: number, site: string, f: () => void): void {
  expect(f).toThrow(KernelOops);
  const log = p.dmesg().join('\n');
  const hex = (x: number): string => (x >>> 0).toString(16).padStart(8, '0');
  expect(log).toMatch(
    new RegExp(`vma ${hex(vma)} start [0-9a-f]{8} end [0-9a-f]{8} mm ${hex(kread(vma + VMA.vm_mm))}`),
  );
  expect(log).toContain(`kernel BUG at ${site}!`);
}

describe('eras without per-VMA locks', () => {
  it('v6.1: the fault never tries a VMA lock, the counters stay 0, the functions do not exist', () => {
    const p = newProcess('t', 'v6.1');
    expect(perVmaLockGeneration()).toBe('none');
    map(p, A);
    expect(fault(p, A) & VM_FAULT_ERROR).toBe(0);
    expect(fault(p, A + P) & VM_FAULT_ERROR).toBe(0);
    expect(counters()).toEqual([0, 0, 0, 0]);
    expect(() => lock_vma_under_rcu(p.mm, A)).toThrow('lock_vma_under_rcu does not exist in this era');
    expect(() => vma_mark_locked(find_vma(p.mm, A))).toThrow('vma_mark_locked does not exist in this era');
    exitAll(p);
    expect(reports(p.dmesg())).toEqual([]);
  });
});

describe('rfc-2022-09: rw_semaphore in the VMA, vm_lock_seq == mm_lock_seq means write-locked', () => {
  it('a write section locks the VMAs it changes and mmap_write_unlock() releases them all at once', () => {
    const p = newProcess('t', 'rfc-2022-09');
    expect(() => lock_vma_under_rcu(p.mm, A)).toThrow('does not exist in this era');
    const s0 = seq(p);
    const vma = map(p, A);
    // mmap_region() marked it locked at s0; mmap_write_unlock() moved mm_lock_seq on.
    expect(kread(vma + VMA.vm_lock_seq)).toBe(s0);
    expect(seq(p)).toBe(s0 + 1);
    expect(vma_read_trylock(vma)).toBe(true);
    vma_assert_locked(vma); // held for reading: silent
    vma_read_unlock(vma);
    mmap_write_lock(p.mm);
    vma_mark_locked(vma);
    vma_assert_write_locked(vma); // silent
    expect(vma_read_trylock(vma)).toBe(false); // the sequence matches: locked
    mmap_write_unlock(p.mm);
    expect(vma_read_trylock(vma)).toBe(true);
    vma_read_unlock(vma);
    expect(reports(p.dmesg())).toEqual([]);
    exitAll(p);
    rcu_barrier();
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('seeded defect: vma_assert_write_locked() on a VMA not write-locked is VM_BUG_ON_VMA', () => {
    const p = newProcess('t', 'rfc-2022-09');
    const vma = map(p, A);
    mmap_write_lock(p.mm);
    expectVmBug(p, vma, 'include/linux/mm.h:vma_assert_write_locked', () => vma_assert_write_locked(vma));
  });

  it('fault: the first fault (no anon_vma) aborts to mmap_lock, the next is handled under the VMA lock', () => {
    const p = newProcess('t', 'rfc-2022-09');
    map(p, A);
    expect(fault(p, A) & VM_FAULT_ERROR).toBe(0);
    expect(counters()).toEqual([0, 1, 0, 0]); // ABORT: find_and_lock_anon_vma() wants an anon_vma
    expect(fault(p, A + P) & VM_FAULT_ERROR).toBe(0);
    expect(counters()).toEqual([1, 1, 0, 0]);
    exitAll(p);
    rcu_barrier();
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('rfc-2022-09-seq2: mm_lock_seq wraps after four write sections, a stale mark reads as locked (falls back, harmless)', () => {
    const p = newProcess('t', 'rfc-2022-09-seq2');
    const vma = map(p, A);
    expect(fault(p, A) & VM_FAULT_ERROR).toBe(0); // anon_vma now
    const marked = kread(vma + VMA.vm_lock_seq);
    expect(vma_read_trylock(vma)).toBe(true);
    vma_read_unlock(vma);
    for (let i = 0; i < 3; i++) {
      mmap_write_lock(p.mm);
      mmap_write_unlock(p.mm);
    }
    expect(seq(p)).toBe(marked); // 2 bits: wrapped
    expect(vma_read_trylock(vma)).toBe(false); // false "locked"
    const before = counters();
    expect(fault(p, A + P) & VM_FAULT_ERROR).toBe(0); // handled by the mmap_lock path
    expect(counters()[1]).toBe(before[1]! + 1);
    exitAll(p);
  });
});

describe('v6.4: struct vma_lock, detached, vm_rcu, lock_vma_under_rcu', () => {
  it('the lock is a separate object; readers fail on a write-locked VMA; the counters', () => {
    const p = newProcess('t', 'v6.4');
    expect(perVmaLockGeneration()).toBe('v6.4');
    const vma = map(p, A);
    const lock = kread(vma + VMA.vm_lock);
    expect(virt_to_cache(lock)).toBe(vma_lock_cachep);
    expect(fault(p, A) & VM_FAULT_ERROR).toBe(0);
    expect(counters()).toEqual([0, 1, 0, 0]); // no anon_vma: abort before locking (6.4.0)
    expect(fault(p, A + P) & VM_FAULT_ERROR).toBe(0);
    expect(counters()).toEqual([1, 1, 0, 0]);
    const v = lock_vma_under_rcu(p.mm, A);
    expect(v).toBe(vma);
    vma_assert_locked(v);
    vma_end_read(v);
    mmap_write_lock(p.mm);
    vma_start_write(vma);
    rcu_read_lock();
    expect(vma_start_read(p.mm, vma)).toBe(0); // the early lockless check
    rcu_read_unlock();
    mmap_write_unlock(p.mm);
    // mprotect changes vm_flags: vma_start_write() first, the reader falls back while it is held.
    expect(mprotect(p.mm, A, P, PROT_READ)).toBe(0);
    expect(lock_vma_under_rcu(p.mm, B)).toBe(0); // nothing there
    expect(reports(p.dmesg())).toEqual([]);
    exitAll(p);
  });

  it('munmap: write-locked, detached, queued by call_rcu with vm_rcu over the bounds; freed after the grace period', () => {
    const p = newProcess('t', 'v6.4');
    const vma = map(p, A);
    const lock = kread(vma + VMA.vm_lock);
    expect(vm_munmap(p.mm, A, 2 * P)).toBe(0);
    expect(kread(vma + VMA.detached)).toBe(1);
    expect(kread(vma + VMA.vm_start)).toBe(0); // rcu_head.next
    expect(kread(vma + VMA.vm_end)).not.toBe(A + 2 * P); // rcu_head.func
    expect(slab_is_live(virt_to_cache(vma)!, vma)).toBe(true);
    rcu_barrier();
    expect(slab_is_live(virt_to_cache(vma)!, vma)).toBe(false);
    expect(slab_is_live(vma_lock_cachep, lock)).toBe(false);
    expect(reports(p.dmesg())).toEqual([]);
    exitAll(p);
  });

  it('exit_mmap (era G) frees the VMAs and their locks at once, no RCU; a later read is a KASAN use-after-free', () => {
    const p = newProcess('t', 'v6.4');
    const vma = map(p, A);
    expect(fault(p, A) & VM_FAULT_ERROR).toBe(0);
    exitAll(p);
    expect(slab_is_live(virt_to_cache(vma)!, vma)).toBe(false); // before any grace period
    kread(vma + VMA.vm_start); // seeded defect: a reader that outlived mm_users
    expect(reports(p.dmesg())[0]).toMatch(/^BUG: KASAN: slab-use-after-free/);
  });

  it("v6.4-norcu (Jann Horn's case set up): munmap frees the VMA and its vma_lock without waiting for RCU", () => {
    const p = newProcess('t', 'v6.4-norcu');
    const vma = map(p, A);
    const lock = kread(vma + VMA.vm_lock);
    expect(vm_munmap(p.mm, A, 2 * P)).toBe(0);
    expect(slab_is_live(vma_lock_cachep, lock)).toBe(false);
    expect(slab_is_live(virt_to_cache(vma)!, vma)).toBe(false);
    exitAll(p);
  });
});

describe('v6.15: vm_refcnt, seqcount mm_lock_seq, SLAB_TYPESAFE_BY_RCU', () => {
  it('attach, readers counted, the seqcount odd while mmap_lock is write-held', () => {
    const p = newProcess('t', 'v6.15');
    const s0 = seq(p);
    expect(s0 % 2).toBe(0);
    const vma = map(p, A);
    expect(virt_to_cache(vma)).toBe(vm_area_cachep_typesafe);
    expect(refcnt(vma)).toBe(1); // attached
    expect(kread(vma + VMA.vm_lock_seq)).toBe(s0 + 1); // locked in the (odd) section that mapped it
    expect(seq(p)).toBe(s0 + 2);
    // vmf_anon_prepare() creates the anon_vma under mmap_read_trylock(): no fallback in v6.15.
    expect(fault(p, A) & VM_FAULT_ERROR).toBe(0);
    expect(counters()).toEqual([1, 0, 0, 0]);
    const v = lock_vma_under_rcu(p.mm, A);
    expect(v).toBe(vma);
    expect(refcnt(vma)).toBe(2);
    vma_assert_locked(v);
    vma_end_read(v);
    expect(refcnt(vma)).toBe(1);
    mmap_write_lock(p.mm);
    expect(seq(p) % 2).toBe(1);
    vma_start_write(vma); // no reader: no wait
    expect(refcnt(vma)).toBe(1);
    rcu_read_lock();
    expect(vma_start_read(p.mm, vma)).toBe(0);
    rcu_read_unlock();
    mmap_write_unlock(p.mm);
    vma_assert_attached(vma);
    expect(reports(p.dmesg())).toEqual([]);
    exitAll(p);
  });

  it('munmap: detached (refcnt 0), freed at once into the typesafe cache: a reader gets -EAGAIN; no KASAN until a grace period', () => {
    const p = newProcess('t', 'v6.15');
    const vma = map(p, A);
    expect(vm_munmap(p.mm, A, 2 * P)).toBe(0);
    expect(refcnt(vma)).toBe(0);
    vma_assert_detached(vma);
    rcu_read_lock();
    expect(vma_start_read(p.mm, vma)).toBe(-EAGAIN);
    kread(vma + VMA.vm_start); // type-stable: not a use-after-free
    rcu_read_unlock();
    expect(reports(p.dmesg())).toEqual([]);
    synchronize_rcu();
    kread(vma + VMA.vm_start); // the slab may have gone back to the page allocator
    expect(reports(p.dmesg())[0]).toMatch(/^BUG: KASAN: use-after-free/);
  });

  it('a VMA reused at once by another mm: the reader checks vm_mm and puts its reference back', () => {
    const p = newProcess('t', 'v6.15');
    const vma = map(p, A);
    expect(vm_munmap(p.mm, A, 2 * P)).toBe(0);
    const mm2 = mm_alloc();
    const t2 = spawnTask('other', { mm: mm2 });
    const q: Proc = { dmesg: p.dmesg, mm: mm2, task: t2 };
    const [c, cur] = [cpuCtx.current, t2];
    cpuCtx.current = cur;
    const reused = map(q, B);
    cpuCtx.current = c;
    expect(reused).toBe(vma); // SLAB_TYPESAFE_BY_RCU: the same object, another owner
    rcu_read_lock();
    expect(vma_start_read(p.mm, vma)).toBe(0); // vm_mm != mm
    rcu_read_unlock();
    expect(refcnt(vma)).toBe(1);
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('seeded defects: a detached VMA asserted attached WARNs once; a reader check on an unlocked VMA is VM_BUG_ON_VMA', () => {
    const p = newProcess('t', 'v6.15');
    const vma = map(p, A);
    const other = map(p, B);
    expect(vm_munmap(p.mm, A, 2 * P)).toBe(0);
    vma_assert_attached(vma);
    expect(reports(p.dmesg())).toEqual([
      expect.stringMatching(
        /^WARNING: CPU: -?\d+ PID: \d+ at include\/linux\/mmap_lock.h:vma_assert_attached/,
      ),
    ]);
    expectVmBug(p, other, 'include/linux/mmap_lock.h:vma_assert_locked', () => vma_assert_locked(other));
  });

  it('vma_start_write() on an attached VMA with a reader in: the writer bit is added, then the wait', () => {
    const p = newProcess('t', 'v6.15');
    const vma = map(p, A);
    expect(fault(p, A) & VM_FAULT_ERROR).toBe(0);
    const v = lock_vma_under_rcu(p.mm, A);
    expect(refcnt(v)).toBe(2);
    // The writer would sleep on mm->vma_writer_wait until refcnt == VMA_LOCK_OFFSET + 1; on one CPU
    // the reader leaves first, then the writer passes without waiting.
    vma_end_read(v);
    mmap_write_lock(p.mm);
    vma_start_write(vma);
    expect(refcnt(vma)).toBe(1);
    expect(refcnt(vma) & VMA_LOCK_OFFSET).toBe(0);
    mmap_write_unlock(p.mm);
    exitAll(p);
    expect(reports(p.dmesg())).toEqual([]);
  });
});

describe('fallback rules and the exit_mmap argument (seed 002)', () => {
  it('v6.15: a first anonymous fault under the VMA lock while mmap_lock is write-held elsewhere: vmf_anon_prepare() drops the VMA lock, VM_FAULT_RETRY', () => {
    const p = newProcess('t', 'v6.15');
    const vma = map(p, A);
    const other = spawnTask('writer', { mm: p.mm });
    const v = lock_vma_under_rcu(p.mm, A);
    expect(v).toBe(vma);
    expect(refcnt(vma)).toBe(2);
    cpuCtx.current = other;
    mmap_write_lock(p.mm); // another task holds it: the trylock fails
    cpuCtx.current = p.task;
    expect(handle_mm_fault(v, A, FAULT_FLAG_WRITE | FAULT_FLAG_VMA_LOCK)).toBe(VM_FAULT_RETRY);
    expect(refcnt(vma)).toBe(1); // the handler released the VMA lock itself (v6.6+ rule)
    expect(kread(vma + VMA.anon_vma)).toBe(0);
    cpuCtx.current = other;
    mmap_write_unlock(p.mm);
    cpuCtx.current = p.task;
    expect(reports(p.dmesg())).toEqual([]);
    exitAll(p);
  });

  it.each([
    'v6.4',
    'v6.15',
  ])('%s: a per-VMA reader of an mm whose users are gone is reported; a live mm is silent', (era) => {
    const p = newProcess('t', era);
    map(p, A);
    expect(fault(p, A) & VM_FAULT_ERROR).toBe(0);
    expect(fault(p, A + P) & VM_FAULT_ERROR).toBe(0);
    expect(reports(p.dmesg())).toEqual([]);
    mmgrab(p.mm); // mm_count only: the struct stays, the address space goes
    exitAll(p);
    expect(lock_vma_under_rcu(p.mm, A)).toBe(0); // the tree was destroyed
    expect(reports(p.dmesg())).toEqual([
      expect.stringMatching(
        /^WARNING: .* at mm\/(memory|mmap_lock)\.c:lock_vma_under_rcu \(emulator: per-VMA reader of an mm without users/,
      ),
    ]);
    mmdrop(p.mm);
  });
});

describe('v6.15 across two CPUs, scripted on the boot CPU', () => {
  it("VMA_LOCK_MISS: munmap detaches and frees the VMA between the reader's lookup and its refcount increment", () => {
    const p = newProcess('t', 'v6.15');
    map(p, A);
    expect(fault(p, A) & VM_FAULT_ERROR).toBe(0);
    const writer = spawnTask('writer', { mm: p.mm });
    let done = false;
    cpuCtx.runner = new ScriptRunner((ev) => {
      if (ev !== 'vma_start_read:inc' || done) return;
      done = true;
      expect(as(1, writer, () => vm_munmap(p.mm, A, 2 * P))).toBe(0);
    });
    const before = counters();
    expect(fault(p, A)).toBe(VM_FAULT_SIGSEGV); // retried, found nothing, the mmap_lock path says SIGSEGV
    cpuCtx.runner = new BootRunner();
    expect(done).toBe(true);
    const after = counters();
    expect(after.map((n, i) => n - before[i]!)).toEqual([0, 1, 0, 1]); // ABORT after one MISS
    expect(reports(p.dmesg())).toEqual([]);
    exitAll(p);
  });

  it("a writer waits on mm->vma_writer_wait until the reader leaves; the reader's put wakes it", () => {
    const p = newProcess('t', 'v6.15');
    const vma = map(p, A);
    expect(fault(p, A) & VM_FAULT_ERROR).toBe(0);
    const reader = spawnTask('reader', { mm: p.mm });
    const v = as(1, reader, () => lock_vma_under_rcu(p.mm, A));
    expect(refcnt(v)).toBe(2);
    let seen = -1;
    const runner = new ScriptRunner((ev) => {
      if (ev !== 'wait' || seen >= 0) return;
      seen = refcnt(vma);
      expect(kread(p.mm + MM.vma_writer_wait)).toBe(p.task);
      as(1, reader, () => vma_end_read(v));
    });
    cpuCtx.runner = runner;
    expect(mprotect(p.mm, A, 2 * P, PROT_READ)).toBe(0); // vm_flags change: vma_start_write()
    cpuCtx.runner = new BootRunner();
    expect(seen).toBe(VMA_LOCK_OFFSET + 2); // the writer's bit and the reader's reference
    expect(runner.woken.length).toBeGreaterThan(0);
    expect(refcnt(vma)).toBe(1);
    expect(kread(p.mm + MM.vma_writer_wait)).toBe(0);
    expect(reports(p.dmesg())).toEqual([]);
    exitAll(p);
  });
});

describe("v6.4: the reader side of Jann Horn's case, scripted on the boot CPU", () => {
  it.each([
    ['v6.4', 1],
    ['v6.4-norcu', 0],
  ])('%s: up_read() of vma_end_read() runs inside an RCU read section: nesting %i', (era, nesting) => {
    const p = newProcess('t', era);
    map(p, A);
    expect(fault(p, A) & VM_FAULT_ERROR).toBe(0);
    const v = lock_vma_under_rcu(p.mm, A);
    expect(v).not.toBe(0);
    let seen = -1;
    cpuCtx.runner = new ScriptRunner((ev) => {
      if (ev === 'up_read' && seen < 0) seen = rcuReadLockNesting(cpuCtx.cpu);
    });
    vma_end_read(v);
    cpuCtx.runner = new BootRunner();
    expect(seen).toBe(nesting);
    exitAll(p);
  });

  it('v6.4: a writer blocks in vma_start_write() until the reader leaves (the rwsem), then detaches and queues the VMA for RCU', () => {
    const p = newProcess('t', 'v6.4');
    const vma = map(p, A);
    expect(fault(p, A) & VM_FAULT_ERROR).toBe(0);
    const reader = spawnTask('reader', { mm: p.mm });
    cpuCtx.cpu = 1;
    cpuCtx.current = reader;
    const v = lock_vma_under_rcu(p.mm, A);
    cpuCtx.cpu = 0;
    cpuCtx.current = p.task;
    expect(v).toBe(vma);
    let released = false;
    cpuCtx.runner = new ScriptRunner((ev) => {
      if (released || (ev !== 'wait' && ev !== 'relax')) return;
      released = true;
      const [c, t] = [cpuCtx.cpu, cpuCtx.current];
      cpuCtx.cpu = 1;
      cpuCtx.current = reader;
      vma_end_read(v);
      cpuCtx.cpu = c;
      cpuCtx.current = t;
    });
    expect(vm_munmap(p.mm, A, 2 * P)).toBe(0);
    cpuCtx.runner = new BootRunner();
    expect(released).toBe(true);
    expect(kread(vma + VMA.detached)).toBe(1);
    expect(slab_is_live(virt_to_cache(vma)!, vma)).toBe(true); // call_rcu: the reader may still be in up_read()
    rcu_barrier();
    expect(slab_is_live(virt_to_cache(vma)!, vma)).toBe(false);
    expect(reports(p.dmesg())).toEqual([]);
    exitAll(p);
  });
});

describe('a reader whose VMA munmap() removed or shrank after the lookup', () => {
  // munmap() runs whole at the reader's lock step. [A, A+2P) removed: every generation sees it
  // (the RFC: RB_EMPTY_NODE, MISS; v6.4: vm_rcu bounds or detached; v6.15: MISS) and the fault
  // ends in bad_area. [A+P, A+2P) removed: the VMA stays in the tree, shrunk in place; the RFC as
  // posted does not re-check the bounds once locked, so the fault maps a page in the hole
  // (vma-lock-rfc-bounds); v6.4 and v6.15 do (v2 of the series) and fall back.
  it.each([
    ['rfc-2022-09', 'find_and_lock_anon_vma:trylock', A, 'not in the tree', false],
    ['v6.4', 'vma_start_read:trylock', A, 'not in the tree', false],
    ['v6.15', 'vma_start_read:inc', A, 'not in the tree', false],
    ['rfc-2022-09', 'find_and_lock_anon_vma:trylock', A + P, 'does not cover the address', true],
    ['v6.4', 'vma_start_read:trylock', A + P, 'does not cover the address', false],
    ['v6.15', 'vma_start_read:inc', A + P, 'does not cover the address', false],
  ])('%s: munmap at %s from %i; reported (%s): %s', (era, at, from, what, reported) => {
    const p = newProcess('t', era);
    map(p, A);
    expect(fault(p, A) & VM_FAULT_ERROR).toBe(0); // the anon_vma
    const writer = spawnTask('writer', { mm: p.mm });
    let done = false;
    cpuCtx.runner = new ScriptRunner((ev) => {
      if (ev !== at || done) return;
      done = true;
      const [c, t] = [cpuCtx.cpu, cpuCtx.current];
      cpuCtx.cpu = 1;
      cpuCtx.current = writer;
      expect(vm_munmap(p.mm, from, A + 2 * P - from)).toBe(0);
      cpuCtx.cpu = c;
      cpuCtx.current = t;
    });
    const r = fault(p, A + P);
    cpuCtx.runner = new BootRunner();
    expect(done).toBe(true);
    if (reported) {
      expect(reports(p.dmesg()).filter((l) => l.includes(`holds a VMA that ${what}`))).toHaveLength(1);
      expect(r & VM_FAULT_ERROR).toBe(0); // a page mapped where no VMA is
    } else {
      expect(reports(p.dmesg())).toEqual([]);
      expect(r).toBe(VM_FAULT_SIGSEGV);
    }
  });
});
