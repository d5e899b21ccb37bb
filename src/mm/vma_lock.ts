// Per-VMA locks (kernel-mm.md §5), one generation per era profile (EraProfile.vmaLock):
//  - rfc-2022-09: the Sep 2022 RFC (lore 20220901173516.702122-1-surenb@google.com): a struct
//    rw_semaphore inside the VMA, vm_lock_seq/mm_lock_seq, vma_mark_locked()/vma_read_trylock()/
//    vma_read_unlock()/vma_mark_unlocked_all(), VMAs freed through call_rcu();
//  - v6.4 (5e31275cc997 and the series): a separately allocated struct vma_lock, the lockless early
//    vm_lock_seq check, vma_start_read()/vma_end_read() (up_read inside an RCU read section, "per
//    Jann Horn", v2 Jan 2023), the detached flag, vm_rcu in a union with vm_start/vm_end,
//    lock_vma_under_rcu() with VMA_LOCK_* counters, exit_mmap freeing directly;
//  - v6.15 ("reimplement per-vma lock as a refcount"): vm_refcnt with VMA_LOCK_OFFSET, readers
//    counted in it, a writer waiting on mm->vma_writer_wait (rcuwait), mm_lock_seq a seqcount
//    (v6.14), VMAs from a SLAB_TYPESAFE_BY_RCU cache (reused at once, checked by the reader).
// Eras without per-VMA locks run NO_PER_VMA_LOCK: the kernel's empty stubs for the hooks the common
// code calls (vma_start_write() and friends are empty inlines without CONFIG_PER_VMA_LOCK) and
// notInEra() for the functions that do not exist.
import { point } from '../cpu/context.js';
import { EAGAIN } from '../kernel/errno.js';
import { mmdrop, mmgrab } from '../kernel/fork.js';
import {
  down_read_trylock,
  down_write,
  init_rwsem,
  rwsem_is_locked,
  up_read,
  up_write,
} from '../kernel/locking/rwsem.js';
import { die, WARN_ON_ONCE } from '../kernel/panic.js';
import { hex8, KERN_EMERG, KERN_WARNING, printk } from '../kernel/printk.js';
import { call_rcu, defineRcuCallback } from '../kernel/rcu/callbacks.js';
import { rcu_read_lock, rcu_read_unlock } from '../kernel/rcu/update.js';
import { rcuwait_wait_event, rcuwait_wake_up } from '../kernel/rcuwait.js';
import { TASK_UNINTERRUPTIBLE } from '../kernel/task_struct.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { kread, kread_locked, kwrite } from './kasan.js';
import { mas_root, mt_in_rcu } from './maple_tree.js';
import { vma_is_anonymous } from './memory.js';
import { MM, ULONG_MAX, VMA } from './mm_types.js';
import { mmap_assert_write_locked } from './mmap_lock.js';
import {
  type KmemCache,
  kmem_cache_alloc,
  kmem_cache_create,
  kmem_cache_free,
  SLAB_TYPESAFE_BY_RCU,
} from './slab.js';
import { MA_STATE, type MaState, mas_find, mm_mt } from './vma_list.js';
import { vmaReadLocked, vmaReadUnlocking } from './vma_read_check.js';

const i32 = (): Int32Array => mem.i32;

/**
 * VMAs per cache: room for the RCU-delayed frees of the per-VMA lock eras (a CPU looping on
 * mmap/munmap outruns rcu_sched on a 2-core host; with 128 its mmaps failed with ENOMEM).
 */
const VMA_OBJECTS = 512;

/** kernel/fork.c vm_area_cachep: the VMA cache of every era up to v6.14. */
export const vm_area_cachep = kmem_cache_create('vm_area_struct', VMA.SIZE, VMA_OBJECTS);
/** kernel/fork.c vm_area_cachep, v6.15: SLAB_TYPESAFE_BY_RCU (a freed VMA may be reused at once). */
export const vm_area_cachep_typesafe = kmem_cache_create(
  'vm_area_struct(typesafe)',
  VMA.SIZE,
  VMA_OBJECTS,
  SLAB_TYPESAFE_BY_RCU,
);
/** kernel/fork.c vma_lock_cachep, v6.4 to v6.14: struct vma_lock { struct rw_semaphore lock; }. */
export const vma_lock_cachep = kmem_cache_create('vma_lock', VMA.vm_lock - VMA.vm_lock_rwsem, VMA_OBJECTS);

// include/linux/vm_event_item.h, CONFIG_PER_VMA_LOCK_STATS (v6.4): /proc/vmstat's vma_lock_*.
export const VMA_LOCK_STATS = defineStatics('vma_lock_stats', [
  'VMA_LOCK_SUCCESS',
  'VMA_LOCK_ABORT',
  'VMA_LOCK_RETRY',
  'VMA_LOCK_MISS',
]);
export type VmaLockEvent = 'VMA_LOCK_SUCCESS' | 'VMA_LOCK_ABORT' | 'VMA_LOCK_RETRY' | 'VMA_LOCK_MISS';

// include/linux/vmstat.h count_vm_vma_lock_event(), v6.4
export function count_vm_vma_lock_event(ev: VmaLockEvent): void {
  Atomics.add(i32(), VMA_LOCK_STATS.base() + VMA_LOCK_STATS.layout[ev], 1);
}

/** /proc/vmstat's vma_lock_success, vma_lock_abort, vma_lock_retry, vma_lock_miss (all 0 without per-VMA locks). */
export function vmstat_vma_lock(): Record<VmaLockEvent, number> {
  const b = VMA_LOCK_STATS.base();
  const L = VMA_LOCK_STATS.layout;
  const r = (f: VmaLockEvent): number => (b < 0 ? 0 : Atomics.load(i32(), b + L[f]));
  return {
    VMA_LOCK_SUCCESS: r('VMA_LOCK_SUCCESS'),
    VMA_LOCK_ABORT: r('VMA_LOCK_ABORT'),
    VMA_LOCK_RETRY: r('VMA_LOCK_RETRY'),
    VMA_LOCK_MISS: r('VMA_LOCK_MISS'),
  };
}

/** Zeroes the counters (a new run on the same machine). */
export function vmstatVmaLockReset(): void {
  const b = VMA_LOCK_STATS.base();
  if (b < 0) return;
  for (const f of ['VMA_LOCK_SUCCESS', 'VMA_LOCK_ABORT', 'VMA_LOCK_RETRY', 'VMA_LOCK_MISS'] as const) {
    Atomics.store(i32(), b + VMA_LOCK_STATS.layout[f], 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Checks

// mm/debug.c dump_vma(), v6.4
export function dump_vma(vma: number): void {
  const a = i32();
  const w = (f: number): number => Atomics.load(a, vma + f) >>> 0;
  printk(
    KERN_EMERG,
    [
      `vma ${hex8(vma)} start ${hex8(w(VMA.vm_start))} end ${hex8(w(VMA.vm_end))} mm ${hex8(w(VMA.vm_mm))}`,
      `prot ${w(VMA.vm_page_prot).toString(16)} anon_vma ${hex8(w(VMA.anon_vma))} vm_ops 00000000`,
      `pgoff ${w(VMA.vm_pgoff).toString(16)} file ${hex8(w(VMA.vm_file))} private_data 00000000`,
      `flags: 0x${w(VMA.vm_flags).toString(16)}()`,
    ].join('\n'),
  );
}

// include/linux/mmdebug.h VM_BUG_ON_VMA(cond, vma), CONFIG_DEBUG_VM: dump_vma() then BUG().
export function VM_BUG_ON_VMA(cond: boolean, vma: number, site: string): void {
  if (!cond) return;
  dump_vma(vma);
  printk(KERN_WARNING, '------------[ cut here ]------------');
  die(`kernel BUG at ${site}!`, 'invalid opcode: 0000');
}

/**
 * The emulator's check of seed 002's argument (kernel-mm.md §5.2, N1): exit_mmap frees VMAs without
 * RCU (v6.4) because a page-fault reader needs the mm's users, and there are none left. A per-VMA
 * reader of an mm whose mm_users is 0 breaks that argument: WARN (once per run).
 */
function assert_mm_users(mm: number, site: string): void {
  if (Atomics.load(i32(), mm + MM.mm_users) === 0) {
    WARN_ON_ONCE(
      true,
      `${site} (emulator: per-VMA reader of an mm without users; exit_mmap frees its VMAs without RCU)`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The era slot

export interface VmaLockOps {
  /** The generation: 'none', 'rfc-2022-09', 'v6.4', 'v6.15'. */
  readonly generation: string;
  /** The VMA cache the era allocates from. */
  readonly cachep: KmemCache;
  /** mm_lock_seq is kept modulo 2^bits (32: the kernel's int; smaller drives the RFC's overflow case). */
  readonly mmLockSeqBits: number;
  // -- hooks the common mm code calls (empty stubs without per-VMA locks) --
  /** vma_init()'s lock part: vma_init_lock() (RFC), vma_lock_alloc() (v6.4), vma_lock_init() (v6.15). 0 or -ENOMEM. */
  vma_lock_init(vma: number): number;
  /** Take the VMA's write lock under mmap_lock held for writing (vma_mark_locked(), vma_start_write()). */
  vma_write_lock(vma: number): void;
  /**
   * mmap_region()'s lock of the new VMA before it enters the tree: 33313a747e81 "mm: lock newly
   * mapped VMA which can be modified after it becomes visible" with 1c7873e33645 "... with
   * corrected ordering" (v6.5-rc1, 6.4.3); none in 6.4.0-6.4.2 and the RFC (§6 G2).
   */
  vma_new_lock(vma: number): void;
  /** expand_downwards()'s lock: c137381f71ae "mm: lock a vma before stack expansion" (v6.5-rc1, 6.4.2); none in 6.4.0-6.4.1 and the RFC (§6 G3). */
  vma_expand_lock(vma: number): void;
  /** dup_mmap()'s lock of each parent VMA before it is copied: fb49c455323f (v6.5-rc1, 6.4.y); none in 6.4.0 (§6 G1). */
  dup_mmap_lock_parent(vma: number): void;
  /**
   * dup_mmap()'s lock of the parent VMA just before copy_page_range(), after vm_area_dup() and
   * anon_vma_fork(): the RFC's "kernel/fork: mark VMAs as locked before copying pages during fork"
   * (patch 07/28, Aug 2022), dropped before the merge.
   */
  dup_mmap_lock_copy(vma: number): void;
  /** mmap_write_lock()'s part: mm_lock_seqcount_begin() (v6.14+). */
  mmap_write_locked(mm: number): void;
  /** mmap_write_unlock()/mmap_write_downgrade()'s part: vma_mark_unlocked_all(), vma_end_write_all(). */
  vma_unlock_all(mm: number): void;
  /** The VMA was stored in the tree (v6.15 vma_mark_attached()). */
  vma_attach(vma: number): void;
  /** The VMA left the tree, write-locked (v6.4 vma_mark_detached(vma, true), v6.15 vma_mark_detached()). */
  vma_detach(vma: number): void;
  /** vm_area_free(): the free of a VMA other tasks may still reach (call_rcu() in RFC and v6.4). */
  vm_area_free(vma: number): void;
  /** remove_vma(vma, true)'s __vm_area_free() (v6.4+ exit_mmap): no RCU. */
  __vm_area_free(vma: number): void;
  /** The per-VMA step of the fault entry: a VM_FAULT_* result, or LOCK_MM_AND_FIND_VMA to take the mmap_lock path. */
  do_user_addr_fault_vma(mm: number, address: number, flags: number, regs: FaultHooks): number;
  // -- the kernel's names (notInEra() where the era has no such function) --
  vma_mark_locked(vma: number): void;
  vma_read_trylock(vma: number): boolean;
  vma_read_unlock(vma: number): void;
  vma_mark_unlocked_all(mm: number): void;
  find_and_lock_anon_vma(mm: number, address: number): number;
  vma_start_write(vma: number): void;
  vma_start_read(mm: number, vma: number): number;
  vma_end_read(vma: number): void;
  vma_end_write_all(mm: number): void;
  vma_mark_attached(vma: number): void;
  vma_mark_detached(vma: number, detached?: boolean): void;
  lock_vma_under_rcu(mm: number, address: number): number;
  vma_assert_write_locked(vma: number): void;
  vma_assert_locked(vma: number): void;
  vma_assert_attached(vma: number): void;
  vma_assert_detached(vma: number): void;
}

/** What the per-VMA step of the fault needs from arch/x86/mm/fault.c (passed in to avoid an import cycle). */
export interface FaultHooks {
  access_error(flags: number, vma: number): boolean;
  handle_mm_fault(vma: number, address: number, flags: number): number;
}

/** do_user_addr_fault_vma()'s "take the mmap_lock path" (never a VM_FAULT_* value). */
export const LOCK_MM_AND_FIND_VMA = -1;
/** include/linux/mm_types.h FAULT_FLAG_VMA_LOCK, v6.4 (enum fault_flag bit 12). */
export const FAULT_FLAG_VMA_LOCK = 1 << 12;
export const VM_FAULT_RETRY = 0x0400;
export const VM_FAULT_COMPLETED = 0x4000;

function notInEra(name: string): () => never {
  return (): never => {
    throw new Error(`${name} does not exist in this era`);
  };
}

const RFC_NAMES = {
  vma_mark_locked: notInEra('vma_mark_locked'),
  vma_read_trylock: notInEra('vma_read_trylock'),
  vma_read_unlock: notInEra('vma_read_unlock'),
  vma_mark_unlocked_all: notInEra('vma_mark_unlocked_all'),
  find_and_lock_anon_vma: notInEra('find_and_lock_anon_vma'),
};
const MERGED_NAMES = {
  vma_start_write: notInEra('vma_start_write'),
  vma_start_read: notInEra('vma_start_read'),
  vma_end_read: notInEra('vma_end_read'),
  vma_end_write_all: notInEra('vma_end_write_all'),
  vma_mark_attached: notInEra('vma_mark_attached'),
  vma_mark_detached: notInEra('vma_mark_detached'),
  lock_vma_under_rcu: notInEra('lock_vma_under_rcu'),
  vma_assert_write_locked: notInEra('vma_assert_write_locked'),
  vma_assert_locked: notInEra('vma_assert_locked'),
  vma_assert_attached: notInEra('vma_assert_attached'),
  vma_assert_detached: notInEra('vma_assert_detached'),
};

/** Eras without CONFIG_PER_VMA_LOCK (everything before the RFC, v6.1 to v6.3, v6.6 as modelled so far). */
export const NO_PER_VMA_LOCK: VmaLockOps = {
  generation: 'none',
  cachep: vm_area_cachep,
  mmLockSeqBits: 32,
  vma_lock_init: (vma) => {
    kwrite(vma + VMA.vm_lock_seq, -1);
    return 0;
  },
  vma_write_lock: () => {},
  vma_new_lock: () => {},
  vma_expand_lock: () => {},
  dup_mmap_lock_parent: () => {},
  dup_mmap_lock_copy: () => {},
  mmap_write_locked: () => {},
  vma_unlock_all: () => {},
  vma_attach: () => {},
  vma_detach: () => {},
  vm_area_free: (vma) => kmem_cache_free(vm_area_cachep, vma, 'remove_vma'),
  __vm_area_free: (vma) => kmem_cache_free(vm_area_cachep, vma, 'remove_vma'),
  do_user_addr_fault_vma: () => LOCK_MM_AND_FIND_VMA,
  ...RFC_NAMES,
  ...MERGED_NAMES,
};

/** The era's generation, installed by applyEra(). */
export const vmaLockOps: VmaLockOps = { ...NO_PER_VMA_LOCK };

// ---------------------------------------------------------------------------------------------
// Shared pieces

const mm_lock_seq = (mm: number): number => Atomics.load(i32(), mm + MM.mm_lock_seq);
const vm_lock_seq = (vma: number): number => Atomics.load(i32(), vma + VMA.vm_lock_seq);

/** The next mm_lock_seq of the era's width. */
function seqInc(seq: number): number {
  const bits = vmaLockOps.mmLockSeqBits;
  return bits >= 32 ? (seq + 1) | 0 : (seq + 1) & ((1 << bits) - 1);
}

/**
 * mas_walk() under rcu_read_lock(): the VMA covering `address` or 0. A walk of mm->mm_mt as the
 * kernel's (MA_STATE(mas, &mm->mm_mt, address, address)), not find_vma(): that one asserts the
 * mmap_lock (mmap_assert_locked()), which these lockless readers do not hold. Simplified: the
 * bound is read from the VMA, where the kernel reads the node's pivot. `mas` keeps the node the
 * walk read (check_locked_in_tree() compares it with the tree's root).
 */
function mas_walk(mm: number, address: number, mas: MaState = MA_STATE(mm_mt(mm), address)): number {
  const vma = mas_find(mas, ULONG_MAX);
  return vma && kread(vma + VMA.vm_start) >>> 0 <= address >>> 0 ? vma : 0;
}

function in_bounds(vma: number, address: number): boolean {
  return kread(vma + VMA.vm_start) >>> 0 <= address >>> 0 && address >>> 0 < kread(vma + VMA.vm_end) >>> 0;
}

/** vma_pages-free copy of the vm_rcu union: call_rcu() writes its rcu_head over vm_start and vm_end. */
function clobber_vm_rcu(vma: number, func: number): void {
  kwrite(vma + VMA.vm_start, 0); // rcu_head.next
  kwrite(vma + VMA.vm_end, func); // rcu_head.func
}

/**
 * The emulator's check, with no kernel counterpart: a VMA locked for reading cannot leave the tree
 * (the writer waits for the reader), so a lookup must hand the fault one that is still there and
 * covers the address (anything else is the lookup's bug). Each generation's lookup runs it on the
 * VMA it returns, once locked and inside its own RCU read section (the walk needs one), so the
 * check costs no rcu_read_lock()/unlock() pair of its own.
 */
function check_locked_in_tree(
  mm: number,
  vma: number,
  address: number,
  walked: MaState,
  boundsRechecked: boolean,
): void {
  // In RCU mode every change to the tree publishes a new node, and the node the lookup walked
  // cannot be freed and reused inside this read section: the same root means the same entries,
  // so only the VMA's own bounds are left to check, unless the lookup has just re-checked them
  // under the lock (a full walk costs twice the lookup's).
  const mt = mm_mt(mm);
  if (
    walked.node &&
    mt_in_rcu(mt) &&
    mas_root(mt) === walked.node &&
    (boundsRechecked || in_bounds(vma, address))
  )
    return;
  const cur = mas_walk(mm, address);
  if (cur === vma) return;
  const inTree = mas_walk(mm, kread(vma + VMA.vm_start)) === vma;
  const what = inTree ? 'a VMA that does not cover the address' : 'a VMA that is not in the tree';
  WARN_ON_ONCE(true, `arch/x86/mm/fault.c:do_user_addr_fault (emulator: the per-VMA reader holds ${what})`);
}

/**
 * The per-VMA fault step shared by the generations (arch/x86/mm/fault.c do_user_addr_fault(), v6.4,
 * "x86/mm: try VMA lock-based page fault handling first", 0bff0aaea03e). `dropsOnRetry`: v6.6+
 * (the handler released the VMA lock when it returns VM_FAULT_RETRY or VM_FAULT_COMPLETED).
 */
function fault_vma_locked(
  lock: (mm: number, address: number) => number,
  end_read: (vma: number) => void,
  dropsOnRetry: boolean,
  mm: number,
  address: number,
  flags: number,
  hooks: FaultHooks,
): number {
  const vma = lock(mm, address);
  if (!vma) return LOCK_MM_AND_FIND_VMA;
  vmaLockOps.vma_assert_locked(vma);
  VM_BUG_ON_VMA(kread_locked(vma + VMA.vm_mm) !== mm, vma, 'arch/x86/mm/fault.c:do_user_addr_fault');
  if (hooks.access_error(flags, vma)) {
    end_read(vma);
    return LOCK_MM_AND_FIND_VMA; // 6.4: fall back to the mmap_lock path, which reports it
  }
  point('do_user_addr_fault:vma_locked');
  const fault = hooks.handle_mm_fault(vma, address, flags | FAULT_FLAG_VMA_LOCK);
  if (!dropsOnRetry || !(fault & (VM_FAULT_RETRY | VM_FAULT_COMPLETED))) end_read(vma);
  if (!(fault & VM_FAULT_RETRY)) {
    count_vm_vma_lock_event('VMA_LOCK_SUCCESS');
    return fault;
  }
  count_vm_vma_lock_event('VMA_LOCK_RETRY');
  return LOCK_MM_AND_FIND_VMA;
}

// ---------------------------------------------------------------------------------------------
// rfc-2022-09: the rw_semaphore in the VMA

const rfc_lock = (vma: number): number => vma + VMA.vm_lock_rwsem;

// include/linux/mm.h vma_init_lock(), RFC Sep 2022
function vma_init_lock_rfc(vma: number): number {
  init_rwsem(rfc_lock(vma), '&vma->lock');
  kwrite(vma + VMA.vm_lock_seq, -1);
  kwrite(vma + VMA.detached, 0); // RB_CLEAR_NODE() until inserted
  return 0;
}

// include/linux/mm.h vma_mark_locked(), RFC Sep 2022
function vma_mark_locked_rfc(vma: number): void {
  const mm = kread(vma + VMA.vm_mm);
  mmap_assert_write_locked(mm);
  const seq = mm_lock_seq(mm);
  if (vm_lock_seq(vma) === seq) return;
  down_write(rfc_lock(vma));
  kwrite(vma + VMA.vm_lock_seq, seq);
  up_write(rfc_lock(vma));
}

// include/linux/mm.h vma_read_trylock(), RFC Sep 2022
function vma_read_trylock_rfc(vma: number): boolean {
  if (!down_read_trylock(rfc_lock(vma))) return false;
  const mm = kread(vma + VMA.vm_mm);
  if (vm_lock_seq(vma) === mm_lock_seq(mm)) {
    up_read(rfc_lock(vma));
    return false;
  }
  vmaReadLocked(vma);
  return true;
}

// include/linux/mm.h vma_read_unlock(), RFC Sep 2022
function vma_read_unlock_rfc(vma: number): void {
  vmaReadUnlocking(vma, vm_area_cachep);
  up_read(rfc_lock(vma));
}

// include/linux/mm.h vma_mark_unlocked_all(), RFC Sep 2022: every VMA write lock of this mmap_lock
// write section is released at once.
function vma_mark_unlocked_all_rfc(mm: number): void {
  mmap_assert_write_locked(mm);
  Atomics.store(i32(), mm + MM.mm_lock_seq, seqInc(mm_lock_seq(mm)));
}

// include/linux/mm.h vma_assert_write_locked(vma, pos), RFC Sep 2022
function vma_assert_write_locked_rfc(vma: number): void {
  VM_BUG_ON_VMA(
    vm_lock_seq(vma) !== mm_lock_seq(kread(vma + VMA.vm_mm)),
    vma,
    'include/linux/mm.h:vma_assert_write_locked',
  );
}

// include/linux/mm.h vma_assert_locked(), RFC Sep 2022
function vma_assert_locked_rfc(vma: number): void {
  VM_BUG_ON_VMA(
    !rwsem_is_locked(rfc_lock(vma)) && vm_lock_seq(vma) !== mm_lock_seq(kread(vma + VMA.vm_mm)),
    vma,
    'include/linux/mm.h:vma_assert_locked',
  );
}

/** The RCU callback behind the RFC's and v6.4's vm_area_free() (kernel/fork.c vm_area_free_rcu_cb). */
const VM_AREA_FREE_RCU_CB = defineRcuCallback('vm_area_free_rcu_cb', (vma) => {
  vmaLockOps.__vm_area_free(vma);
});

// kernel/fork.c vm_area_free(), RFC Sep 2022 ("mm: rcu safe VMA freeing", Michel Lespinasse)
function vm_area_free_rfc(vma: number): void {
  call_rcu(vma, VM_AREA_FREE_RCU_CB);
}

// kernel/fork.c __vm_area_free() as the RFC's callback ends
function __vm_area_free_rfc(vma: number): void {
  kmem_cache_free(vm_area_cachep, vma, 'vm_area_free_rcu_cb');
}

// mm/memory.c find_and_lock_anon_vma() with find_vma_under_rcu(), RFC Aug/Sep 2022 (patch 21/28,
// lock_vma_under_rcu() from v2): the VMA covering the address, anonymous, read-locked, and still in
// the tree (RB_EMPTY_NODE(&vma->vm_rb) -> VMA_LOCK_MISS; `detached` stands for the cleared rb
// node). The bounds are not re-checked once locked (v2 added that). Simplified: the VMA must have
// an anon_vma, as from v2 (the RFC's anon_vma_prepare() under the VMA lock read unlocked
// neighbours in find_mergeable_anon_vma(), which is why v2 required one; not modelled).
function find_and_lock_anon_vma_rfc(mm: number, address: number): number {
  rcu_read_lock();
  const mas = MA_STATE(mm_mt(mm), address);
  let vma = mas_walk(mm, address, mas);
  if (!vma || !vma_is_anonymous(vma)) vma = 0;
  else if (!kread(vma + VMA.anon_vma)) {
    count_vm_vma_lock_event('VMA_LOCK_ABORT'); // as v2 counts it
    vma = 0;
  } else {
    point('find_and_lock_anon_vma:trylock');
    if (!vma_read_trylock_rfc(vma)) {
      count_vm_vma_lock_event('VMA_LOCK_ABORT');
      vma = 0;
    } else if (kread(vma + VMA.detached)) {
      // Check if the VMA got isolated after we found it
      vma_read_unlock_rfc(vma);
      count_vm_vma_lock_event('VMA_LOCK_MISS');
      vma = 0;
    }
  }
  if (vma) check_locked_in_tree(mm, vma, address, mas, false); // the RFC re-checks no bounds
  rcu_read_unlock();
  return vma;
}

// The RFC's side of VMA isolation: detach_vmas_to_be_unmapped()'s rb_erase leaves the node empty.
function vma_mark_isolated_rfc(vma: number): void {
  kwrite(vma + VMA.detached, 1);
}

/** rfc-2022-09, on v6.1 (the RFC applied on mm-unstable of Aug 2022); `bits`: mm_lock_seq's width. */
export function vmaLockRfc202209(bits = 32): VmaLockOps {
  return {
    ...NO_PER_VMA_LOCK,
    generation: 'rfc-2022-09',
    mmLockSeqBits: bits,
    vma_lock_init: vma_init_lock_rfc,
    vma_write_lock: vma_mark_locked_rfc,
    // None of the RFC's 28 patches locks a VMA before mmap_region() inserts it (§6 G2).
    vma_new_lock: () => {},
    dup_mmap_lock_copy: vma_mark_locked_rfc,
    vma_unlock_all: vma_mark_unlocked_all_rfc,
    vma_detach: vma_mark_isolated_rfc,
    vm_area_free: vm_area_free_rfc,
    __vm_area_free: __vm_area_free_rfc,
    do_user_addr_fault_vma: (mm, address, flags, hooks) =>
      fault_vma_locked(find_and_lock_anon_vma_rfc, vma_read_unlock_rfc, false, mm, address, flags, hooks),
    vma_mark_locked: vma_mark_locked_rfc,
    vma_read_trylock: vma_read_trylock_rfc,
    vma_read_unlock: vma_read_unlock_rfc,
    vma_mark_unlocked_all: vma_mark_unlocked_all_rfc,
    find_and_lock_anon_vma: find_and_lock_anon_vma_rfc,
    vma_assert_write_locked: vma_assert_write_locked_rfc,
    vma_assert_locked: vma_assert_locked_rfc,
  };
}

// ---------------------------------------------------------------------------------------------
// v6.4: struct vma_lock, detached, vm_rcu over vm_start/vm_end

// vma->vm_lock is set when the VMA is allocated and never changes while it lives: a plain load.
const vm_lock = (vma: number): number => kread_locked(vma + VMA.vm_lock);

// kernel/fork.c vma_lock_alloc(), v6.4
function vma_lock_alloc_v6_4(vma: number): number {
  const lock = kmem_cache_alloc(vma_lock_cachep, 'vma_lock_alloc');
  if (!lock) return -12;
  init_rwsem(lock, '&vma->vm_lock->lock');
  kwrite(vma + VMA.vm_lock, lock);
  kwrite(vma + VMA.vm_lock_seq, -1);
  kwrite(vma + VMA.detached, 0); // vma_init(): vma_mark_detached(vma, false)
  return 0;
}

// include/linux/mm.h __is_vma_write_locked(), v6.4
function __is_vma_write_locked_v6_4(vma: number): { locked: boolean; seq: number } {
  const mm = kread(vma + VMA.vm_mm);
  mmap_assert_write_locked(mm);
  const seq = mm_lock_seq(mm);
  return { locked: vm_lock_seq(vma) === seq, seq };
}

// include/linux/mm.h vma_start_write(), v6.4
function vma_start_write_v6_4(vma: number): void {
  const { locked, seq } = __is_vma_write_locked_v6_4(vma);
  if (locked) return;
  const lock = vm_lock(vma);
  down_write(lock);
  kwrite(vma + VMA.vm_lock_seq, seq);
  up_write(lock);
}

// include/linux/mm.h vma_start_read(), v6.4 (with v6.5's b1f02b95758d ordering: all Atomics here)
function vma_start_read_v6_4(mm: number, vma: number): number {
  // Check before locking: a race might cause false locked result, avoids the rwsem's cache line.
  if (vm_lock_seq(vma) === mm_lock_seq(mm)) return 0;
  point('vma_start_read:trylock');
  const lock = vm_lock(vma);
  if (!down_read_trylock(lock)) return 0;
  if (vm_lock_seq(vma) === mm_lock_seq(mm)) {
    up_read(lock);
    return 0;
  }
  vmaReadLocked(vma);
  return 1;
}

// include/linux/mm.h vma_end_read(), v6.4: "keeps vma alive till the end of up_read" (Jann Horn).
function vma_end_read_v6_4(vma: number): void {
  vmaReadUnlocking(vma, vm_area_cachep);
  rcu_read_lock();
  up_read(vm_lock(vma));
  rcu_read_unlock();
}

// vma_end_read() of the series before v2 (Jan 2023): up_read() outside any RCU read section. Together
// with __vm_area_free() at munmap this is Jann Horn's case (kernel-locking.md §1.14).
function vma_end_read_norcu(vma: number): void {
  vmaReadUnlocking(vma, vm_area_cachep);
  up_read(vm_lock(vma));
}

// include/linux/mm.h vma_end_write_all(), v6.4 (v6.5 b1f02b95758d: smp_store_release)
function vma_end_write_all_v6_4(mm: number): void {
  mmap_assert_write_locked(mm);
  Atomics.store(i32(), mm + MM.mm_lock_seq, seqInc(mm_lock_seq(mm)));
}

// include/linux/mm.h vma_assert_write_locked(), v6.4
function vma_assert_write_locked_v6_4(vma: number): void {
  VM_BUG_ON_VMA(!__is_vma_write_locked_v6_4(vma).locked, vma, 'include/linux/mm.h:vma_assert_write_locked');
}

// include/linux/mm.h vma_assert_locked(), v6.4
function vma_assert_locked_v6_4(vma: number): void {
  VM_BUG_ON_VMA(
    !rwsem_is_locked(vm_lock(vma)) && vm_lock_seq(vma) !== mm_lock_seq(kread_locked(vma + VMA.vm_mm)),
    vma,
    'include/linux/mm.h:vma_assert_locked',
  );
}

// include/linux/mm.h vma_mark_detached(), v6.4
function vma_mark_detached_v6_4(vma: number, detached = true): void {
  if (detached) vma_assert_write_locked_v6_4(vma);
  kwrite(vma + VMA.detached, detached ? 1 : 0);
}

// kernel/fork.c vm_area_free(), v6.4: call_rcu(&vma->vm_rcu, vm_area_free_rcu_cb); vm_rcu shares
// memory with vm_start/vm_end, so the queued VMA's bounds are now garbage.
function vm_area_free_v6_4(vma: number): void {
  clobber_vm_rcu(vma, VM_AREA_FREE_RCU_CB);
  call_rcu(vma, VM_AREA_FREE_RCU_CB);
}

// kernel/fork.c __vm_area_free(), v6.4 (vm_area_free_rcu_cb() first asserts the lock is free)
function __vm_area_free_v6_4(vma: number): void {
  const lock = vm_lock(vma);
  VM_BUG_ON_VMA(rwsem_is_locked(lock), vma, 'kernel/fork.c:vm_area_free_rcu_cb');
  kmem_cache_free(vma_lock_cachep, lock, '__vm_area_free');
  kmem_cache_free(vm_area_cachep, vma, '__vm_area_free');
}

/**
 * lock_vma_under_rcu()'s body in v6.4.0 and v6.5/v6.6: anonymous VMAs with an anon_vma, tested
 * before the VMA is locked (`anonFirst`) or after it, not userfaultfd-armed (not modelled), the
 * address re-checked under the lock (vm_rcu may have overwritten the bounds), a detached VMA
 * retried ("The area was replaced with another one").
 */
function lockVmaUnderRcu(mm: number, address: number, anonFirst: boolean): number {
  assert_mm_users(mm, 'mm/memory.c:lock_vma_under_rcu');
  rcu_read_lock();
  for (;;) {
    const mas = MA_STATE(mm_mt(mm), address);
    const vma = mas_walk(mm, address, mas);
    if (!vma || !vma_is_anonymous(vma)) break;
    if (anonFirst && !kread(vma + VMA.anon_vma)) break;
    if (!vmaLockOps.vma_start_read(mm, vma)) break;
    point('lock_vma_under_rcu:locked');
    // find_mergeable_anon_vma uses adjacent vmas which are not locked: no anon_vma, no VMA lock.
    if ((!anonFirst && !kread(vma + VMA.anon_vma)) || !in_bounds(vma, address)) {
      vmaLockOps.vma_end_read(vma);
      break;
    }
    if (kread(vma + VMA.detached)) {
      vmaLockOps.vma_end_read(vma);
      count_vm_vma_lock_event('VMA_LOCK_MISS');
      continue;
    }
    check_locked_in_tree(mm, vma, address, mas, true);
    rcu_read_unlock();
    return vma;
  }
  rcu_read_unlock();
  count_vm_vma_lock_event('VMA_LOCK_ABORT');
  return 0;
}

// mm/memory.c lock_vma_under_rcu(), v6.4.0: anon_vma tested before the lock (§6 G4).
function lock_vma_under_rcu_v6_4(mm: number, address: number): number {
  return lockVmaUnderRcu(mm, address, true);
}

// mm/memory.c lock_vma_under_rcu(), v6.5/v6.6: anon_vma tested once the VMA is locked
// (657b5146955e, Jann Horn: tested before, a concurrent anon_vma_prepare() could be missed).
function lock_vma_under_rcu_v6_5(mm: number, address: number): number {
  return lockVmaUnderRcu(mm, address, false);
}

function vmaLockV6_4(end_read: (vma: number) => void, free: (vma: number) => void): VmaLockOps {
  return {
    ...NO_PER_VMA_LOCK,
    generation: 'v6.4',
    vma_lock_init: vma_lock_alloc_v6_4,
    vma_write_lock: vma_start_write_v6_4,
    // 6.4.0-6.4.1: a growing stack is not write-locked (§6 G3; c137381f71ae "mm: lock a vma
    // before stack expansion", v6.5-rc1, 6.4.2): VMA_LOCK_V6_6 has it.
    vma_expand_lock: () => {},
    // 6.4.0-6.4.2: the new VMA enters the tree unlocked (§6 G2; 33313a747e81, 6.4.3): VMA_LOCK_V6_6 has it.
    vma_new_lock: () => {},
    vma_unlock_all: vma_end_write_all_v6_4,
    vma_detach: (vma) => vma_mark_detached_v6_4(vma, true),
    vm_area_free: free,
    __vm_area_free: __vm_area_free_v6_4,
    do_user_addr_fault_vma: (mm, address, flags, hooks) =>
      fault_vma_locked(lock_vma_under_rcu_v6_4, end_read, false, mm, address, flags, hooks),
    vma_start_write: vma_start_write_v6_4,
    vma_start_read: vma_start_read_v6_4,
    vma_end_read: end_read,
    vma_end_write_all: vma_end_write_all_v6_4,
    vma_mark_detached: vma_mark_detached_v6_4,
    lock_vma_under_rcu: lock_vma_under_rcu_v6_4,
    vma_assert_write_locked: vma_assert_write_locked_v6_4,
    vma_assert_locked: vma_assert_locked_v6_4,
  };
}

/** v6.4 as merged. */
export const VMA_LOCK_V6_4: VmaLockOps = vmaLockV6_4(vma_end_read_v6_4, vm_area_free_v6_4);
/**
 * v6.6: v6.4's lock with the 6.4.y/6.5 fixes (the parent's VMAs write-locked in dup_mmap,
 * fb49c455323f; a new VMA write-locked before it enters the tree, 33313a747e81; a growing stack
 * write-locked, "mm: lock a vma before stack expansion"; anon_vma
 * tested once locked, 657b5146955e) and handlers that drop the VMA lock
 * themselves when they return VM_FAULT_RETRY or VM_FAULT_COMPLETED (v6.6).
 */
export const VMA_LOCK_V6_6: VmaLockOps = {
  ...VMA_LOCK_V6_4,
  generation: 'v6.4',
  dup_mmap_lock_parent: vma_start_write_v6_4,
  vma_new_lock: vma_start_write_v6_4,
  vma_expand_lock: vma_start_write_v6_4,
  do_user_addr_fault_vma: (mm, address, flags, hooks) =>
    fault_vma_locked(lock_vma_under_rcu_v6_5, vma_end_read_v6_4, true, mm, address, flags, hooks),
  lock_vma_under_rcu: lock_vma_under_rcu_v6_5,
};
/** v6.4 with the series' v1 lifetime: vma_end_read() without RCU, munmap freeing VMAs at once (Jann Horn's case). */
export const VMA_LOCK_V6_4_NORCU: VmaLockOps = {
  ...vmaLockV6_4(vma_end_read_norcu, __vm_area_free_v6_4),
  generation: 'v6.4-norcu',
};

// ---------------------------------------------------------------------------------------------
// v6.15: vm_refcnt

/** include/linux/mm_types.h VMA_LOCK_OFFSET, v6.15 */
export const VMA_LOCK_OFFSET = 0x40000000;
/** include/linux/mm_types.h VMA_REF_LIMIT, v6.15 */
export const VMA_REF_LIMIT = VMA_LOCK_OFFSET - 1;

const refcnt = (vma: number): number => Atomics.load(i32(), vma + VMA.vm_refcnt);

// include/linux/mmap_lock.h is_vma_writer_only(), v6.15
function is_vma_writer_only(cnt: number): boolean {
  return (cnt & VMA_LOCK_OFFSET) !== 0 && cnt <= VMA_LOCK_OFFSET + 1;
}

// include/linux/mmap_lock.h vma_lock_init(vma, reset_refcnt), v6.15
function vma_lock_init_v6_15(vma: number): number {
  Atomics.store(i32(), vma + VMA.vm_refcnt, 0);
  kwrite(vma + VMA.vm_lock_seq, -1); // UINT_MAX
  return 0;
}

// include/linux/mmap_lock.h mm_lock_seqcount_begin(), v6.14 (from mmap_write_lock()): odd.
function mm_lock_seqcount_begin(mm: number): void {
  Atomics.store(i32(), mm + MM.mm_lock_seq, seqInc(mm_lock_seq(mm)));
}

// include/linux/mmap_lock.h vma_end_write_all() = mm_lock_seqcount_end(), v6.14: even again.
function vma_end_write_all_v6_15(mm: number): void {
  mmap_assert_write_locked(mm);
  Atomics.store(i32(), mm + MM.mm_lock_seq, seqInc(mm_lock_seq(mm)));
}

// include/linux/mmap_lock.h __is_vma_write_locked(), v6.15
function __is_vma_write_locked_v6_15(vma: number): { locked: boolean; seq: number } {
  const mm = kread(vma + VMA.vm_mm);
  mmap_assert_write_locked(mm);
  const seq = mm_lock_seq(mm); // mm->mm_lock_seq.sequence
  return { locked: vm_lock_seq(vma) === seq, seq };
}

// mm/mmap_lock.c __vma_enter_locked(), v6.15: false when the VMA is detached.
function __vma_enter_locked(vma: number, detaching: boolean): boolean {
  const a = i32();
  const tgt = detaching ? VMA_LOCK_OFFSET : VMA_LOCK_OFFSET + 1;
  // refcount_add_not_zero(VMA_LOCK_OFFSET, &vma->vm_refcnt)
  for (;;) {
    const c = Atomics.load(a, vma + VMA.vm_refcnt);
    if (c === 0) return false;
    if (Atomics.compareExchange(a, vma + VMA.vm_refcnt, c, c + VMA_LOCK_OFFSET) === c) break;
  }
  const mm = kread(vma + VMA.vm_mm);
  rcuwait_wait_event(mm + MM.vma_writer_wait, () => refcnt(vma) === tgt, TASK_UNINTERRUPTIBLE);
  return true;
}

// mm/mmap_lock.c __vma_exit_locked(), v6.15: whether the count reached 0 (detached).
function __vma_exit_locked(vma: number): boolean {
  return Atomics.sub(i32(), vma + VMA.vm_refcnt, VMA_LOCK_OFFSET) - VMA_LOCK_OFFSET === 0;
}

// mm/mmap_lock.c __vma_start_write(), v6.15
function __vma_start_write(vma: number, seq: number): void {
  const locked = __vma_enter_locked(vma, false);
  kwrite(vma + VMA.vm_lock_seq, seq);
  if (locked) WARN_ON_ONCE(__vma_exit_locked(vma), 'mm/mmap_lock.c:__vma_start_write');
}

// include/linux/mmap_lock.h vma_start_write(), v6.15
function vma_start_write_v6_15(vma: number): void {
  const { locked, seq } = __is_vma_write_locked_v6_15(vma);
  if (locked) return;
  __vma_start_write(vma, seq);
}

// include/linux/mmap_lock.h vma_refcount_put(), v6.15: the last access to the VMA is the decrement;
// the wake-up goes to the mm read before it.
function vma_refcount_put(vma: number): void {
  const mm = kread(vma + VMA.vm_mm);
  point('vma_refcount_put');
  const old = Atomics.sub(i32(), vma + VMA.vm_refcnt, 1);
  const now = old - 1;
  if (now !== 0 && is_vma_writer_only(now)) rcuwait_wake_up(mm + MM.vma_writer_wait);
}

// include/linux/mmap_lock.h vma_start_read(mm, vma), v6.15 (with 9bbffee67ffd's vm_mm check): the
// VMA (1), 0 (NULL: locked or recycled), or -EAGAIN (detached). Caller holds rcu_read_lock().
function vma_start_read_v6_15(mm: number, vma: number): number {
  // (1) pessimistic: a writer holds it; the sequence may be stale, giving a false "locked".
  if (vm_lock_seq(vma) === mm_lock_seq(mm)) return 0;
  point('vma_start_read:inc');
  // (2) __refcount_inc_not_zero_limited_acquire(&vma->vm_refcnt, &oldcnt, VMA_REF_LIMIT)
  const a = i32();
  for (;;) {
    const c = Atomics.load(a, vma + VMA.vm_refcnt);
    if (c === 0) return -EAGAIN; // detached
    if (c + 1 > VMA_REF_LIMIT) return 0; // a writer is in
    if (Atomics.compareExchange(a, vma + VMA.vm_refcnt, c, c + 1) === c) break;
  }
  point('vma_start_read:recheck');
  // (3) the object was freed and reused by another mm (SLAB_TYPESAFE_BY_RCU)
  const other = kread(vma + VMA.vm_mm);
  if (other !== mm) {
    rcu_read_unlock();
    mmgrab(other);
    vma_refcount_put(vma);
    mmdrop(other);
    rcu_read_lock();
    return 0;
  }
  // (4) a writer locked it after (1); ACQUIRE pairs with vma_end_write_all()'s RELEASE
  if (vm_lock_seq(vma) === mm_lock_seq(mm)) {
    vma_refcount_put(vma);
    return 0;
  }
  vmaReadLocked(vma);
  return 1;
}

// include/linux/mmap_lock.h vma_end_read(), v6.15
function vma_end_read_v6_15(vma: number): void {
  vmaReadUnlocking(vma, vm_area_cachep_typesafe);
  vma_refcount_put(vma);
}

// include/linux/mmap_lock.h vma_assert_write_locked(), v6.15
function vma_assert_write_locked_v6_15(vma: number): void {
  VM_BUG_ON_VMA(
    !__is_vma_write_locked_v6_15(vma).locked,
    vma,
    'include/linux/mmap_lock.h:vma_assert_write_locked',
  );
}

// include/linux/mmap_lock.h vma_assert_locked(), v6.15
function vma_assert_locked_v6_15(vma: number): void {
  VM_BUG_ON_VMA(
    refcnt(vma) <= 1 && vm_lock_seq(vma) !== mm_lock_seq(kread_locked(vma + VMA.vm_mm)),
    vma,
    'include/linux/mmap_lock.h:vma_assert_locked',
  );
}

// include/linux/mmap_lock.h vma_assert_attached() / vma_assert_detached(), v6.15
function vma_assert_attached_v6_15(vma: number): void {
  WARN_ON_ONCE(refcnt(vma) === 0, 'include/linux/mmap_lock.h:vma_assert_attached');
}
function vma_assert_detached_v6_15(vma: number): void {
  WARN_ON_ONCE(refcnt(vma) !== 0, 'include/linux/mmap_lock.h:vma_assert_detached');
}

// include/linux/mmap_lock.h vma_mark_attached(), v6.15
function vma_mark_attached_v6_15(vma: number): void {
  vma_assert_write_locked_v6_15(vma);
  vma_assert_detached_v6_15(vma);
  Atomics.store(i32(), vma + VMA.vm_refcnt, 1); // refcount_set_release()
}

// mm/mmap_lock.c vma_mark_detached(), v6.15
function vma_mark_detached_v6_15(vma: number): void {
  vma_assert_write_locked_v6_15(vma);
  vma_assert_attached_v6_15(vma);
  // A reader may have raised the count before seeing the write lock: wait for it to leave.
  if (Atomics.sub(i32(), vma + VMA.vm_refcnt, 1) - 1 !== 0) {
    if (__vma_enter_locked(vma, true)) {
      WARN_ON_ONCE(!__vma_exit_locked(vma), 'mm/mmap_lock.c:vma_mark_detached');
    }
  }
}

// kernel/fork.c vm_area_free(), v6.15: into the SLAB_TYPESAFE_BY_RCU cache, at once.
function vm_area_free_v6_15(vma: number): void {
  vma_assert_detached_v6_15(vma);
  kmem_cache_free(vm_area_cachep_typesafe, vma, 'vm_area_free');
}

// mm/mmap_lock.c lock_vma_under_rcu(), v6.15: no anon/uffd filter (the handlers decide).
function lock_vma_under_rcu_v6_15(mm: number, address: number): number {
  assert_mm_users(mm, 'mm/mmap_lock.c:lock_vma_under_rcu');
  rcu_read_lock();
  for (;;) {
    const mas = MA_STATE(mm_mt(mm), address);
    const vma = mas_walk(mm, address, mas);
    if (!vma) break;
    const r = vma_start_read_v6_15(mm, vma);
    if (r === -EAGAIN) {
      count_vm_vma_lock_event('VMA_LOCK_MISS');
      continue; // the VMA got detached: look again
    }
    if (!r) break;
    point('lock_vma_under_rcu:locked');
    // The VMA may have been reused (same type) for another range: check the bounds now it is ours.
    if (!in_bounds(vma, address)) {
      vma_end_read_v6_15(vma);
      break;
    }
    check_locked_in_tree(mm, vma, address, mas, true);
    rcu_read_unlock();
    return vma;
  }
  rcu_read_unlock();
  count_vm_vma_lock_event('VMA_LOCK_ABORT');
  return 0;
}

export const VMA_LOCK_V6_15: VmaLockOps = {
  ...NO_PER_VMA_LOCK,
  generation: 'v6.15',
  cachep: vm_area_cachep_typesafe,
  vma_lock_init: vma_lock_init_v6_15,
  vma_write_lock: vma_start_write_v6_15,
  vma_new_lock: vma_start_write_v6_15,
  vma_expand_lock: vma_start_write_v6_15,
  dup_mmap_lock_parent: vma_start_write_v6_15,
  mmap_write_locked: mm_lock_seqcount_begin,
  vma_unlock_all: vma_end_write_all_v6_15,
  vma_attach: vma_mark_attached_v6_15,
  vma_detach: vma_mark_detached_v6_15,
  vm_area_free: vm_area_free_v6_15,
  __vm_area_free: vm_area_free_v6_15,
  do_user_addr_fault_vma: (mm, address, flags, hooks) =>
    fault_vma_locked(lock_vma_under_rcu_v6_15, vma_end_read_v6_15, true, mm, address, flags, hooks),
  vma_start_write: vma_start_write_v6_15,
  vma_start_read: vma_start_read_v6_15,
  vma_end_read: vma_end_read_v6_15,
  vma_end_write_all: vma_end_write_all_v6_15,
  vma_mark_attached: vma_mark_attached_v6_15,
  vma_mark_detached: vma_mark_detached_v6_15,
  lock_vma_under_rcu: lock_vma_under_rcu_v6_15,
  vma_assert_write_locked: vma_assert_write_locked_v6_15,
  vma_assert_locked: vma_assert_locked_v6_15,
  vma_assert_attached: vma_assert_attached_v6_15,
  vma_assert_detached: vma_assert_detached_v6_15,
};

// ---------------------------------------------------------------------------------------------
// Era-neutral entry points: the kernel's names, through the era's slot.

export function vma_lock_init(vma: number): number {
  return vmaLockOps.vma_lock_init(vma);
}
export const vm_area_cache = (): KmemCache => vmaLockOps.cachep;
export function vm_area_free(vma: number): void {
  vmaLockOps.vm_area_free(vma);
}
export function __vm_area_free(vma: number): void {
  vmaLockOps.__vm_area_free(vma);
}
/** Internal hook: the era's VMA write lock, a no-op without per-VMA locks. */
export function vma_write_lock(vma: number): void {
  vmaLockOps.vma_write_lock(vma);
}
export function vma_new_lock(vma: number): void {
  vmaLockOps.vma_new_lock(vma);
}
export function vma_expand_lock(vma: number): void {
  vmaLockOps.vma_expand_lock(vma);
}
export function dup_mmap_lock_parent(vma: number): void {
  vmaLockOps.dup_mmap_lock_parent(vma);
}
export function dup_mmap_lock_copy(vma: number): void {
  vmaLockOps.dup_mmap_lock_copy(vma);
}
export function mmap_write_locked(mm: number): void {
  vmaLockOps.mmap_write_locked(mm);
}
export function vma_unlock_all(mm: number): void {
  vmaLockOps.vma_unlock_all(mm);
}
export function vma_attach(vma: number): void {
  vmaLockOps.vma_attach(vma);
}
export function vma_detach(vma: number): void {
  vmaLockOps.vma_detach(vma);
}
export function vma_mark_locked(vma: number): void {
  vmaLockOps.vma_mark_locked(vma);
}
export function vma_read_trylock(vma: number): boolean {
  return vmaLockOps.vma_read_trylock(vma);
}
export function vma_read_unlock(vma: number): void {
  vmaLockOps.vma_read_unlock(vma);
}
export function vma_mark_unlocked_all(mm: number): void {
  vmaLockOps.vma_mark_unlocked_all(mm);
}
export function find_and_lock_anon_vma(mm: number, address: number): number {
  return vmaLockOps.find_and_lock_anon_vma(mm, address);
}
export function vma_start_write(vma: number): void {
  vmaLockOps.vma_start_write(vma);
}
/** 1 locked, 0 not (NULL), -EAGAIN detached (v6.15). The caller holds rcu_read_lock(). */
export function vma_start_read(mm: number, vma: number): number {
  return vmaLockOps.vma_start_read(mm, vma);
}
export function vma_end_read(vma: number): void {
  vmaLockOps.vma_end_read(vma);
}
export function vma_end_write_all(mm: number): void {
  vmaLockOps.vma_end_write_all(mm);
}
export function vma_mark_attached(vma: number): void {
  vmaLockOps.vma_mark_attached(vma);
}
export function vma_mark_detached(vma: number, detached = true): void {
  vmaLockOps.vma_mark_detached(vma, detached);
}
export function lock_vma_under_rcu(mm: number, address: number): number {
  return vmaLockOps.lock_vma_under_rcu(mm, address);
}
export function vma_assert_write_locked(vma: number): void {
  vmaLockOps.vma_assert_write_locked(vma);
}
export function vma_assert_locked(vma: number): void {
  vmaLockOps.vma_assert_locked(vma);
}
export function vma_assert_attached(vma: number): void {
  vmaLockOps.vma_assert_attached(vma);
}
export function vma_assert_detached(vma: number): void {
  vmaLockOps.vma_assert_detached(vma);
}
/** The era's per-VMA lock generation ('none', 'rfc-2022-09', 'v6.4', 'v6.4-norcu', 'v6.15'). */
export function perVmaLockGeneration(): string {
  return vmaLockOps.generation;
}
