// Linux v6.4: per-VMA locks merged (5e31275cc997 and the series; kernel-mm.md §5.3, §1 era G) over
// v6.6's rwsem, RCU flavours and reaper as modelled: a separately allocated struct vma_lock, the
// early lockless vm_lock_seq check, vma_start_read()/vma_end_read() with up_read() inside
// rcu_read_lock() (Jann Horn), the detached flag, vm_rcu over vm_start/vm_end, lock_vma_under_rcu()
// (anonymous VMAs with an anon_vma, checked before the lock as in 6.4.0: §6 G4) with the VMA_LOCK_*
// counters, writers taking vma_start_write() (vm_flags, split, munmap detach, free_pgtables in
// exit), exit_mmap freeing directly (remove_vma(vma, true)). mmap_region() stores a new VMA in the
// tree before it is write-locked (6.4.0-6.4.2; §6 G2, latent: fixed 6.4.3 by 33313a747e81); its
// vm_flags_set(VM_SOFTDIRTY) then write-locks it.
// dup_mmap does not lock the parent's VMAs (6.4.0-6.4.2; §6 G1, fixed 6.4.3 by fb49c455323f).
// The fault's lookup is v6.5's lock_mm_and_find_vma (6.4.1 stable, StackRot): a stack grows under
// mmap_lock held for writing but without the VMA write lock (6.4.1; §6 G3, fixed by c137381f71ae
// "mm: lock a vma before stack expansion", v6.5-rc1 and 6.4.2).
// 'v6.4-norcu' (not in the era matrix) is the series before its v2: vma_end_read() without the RCU
// section and munmap freeing VMAs at once, which lets up_read() touch a freed vma_lock (§5.2).
import { exit_mmap_v6_4 } from '../mm/exit_mmap.js';
import { VMA_LOCK_V6_4, VMA_LOCK_V6_4_NORCU } from '../mm/vma_lock.js';
import type { EraProfile } from './profile.js';
import { v6_6 } from './v6_6.js';

export const v6_4: EraProfile = {
  ...v6_6,
  name: 'v6.4',
  release: '6.4.0',
  summary:
    "per-VMA locks as merged: struct vma_lock, vma_start_read/vma_end_read (up_read under rcu_read_lock), detached, vm_rcu over the bounds, lock_vma_under_rcu with VMA_LOCK_* counters, vma_start_write in the writers but not in dup_mmap (parent VMAs), for a growing stack (6.4.0-6.4.1) nor for a new mapping before it enters the tree (6.4.0-6.4.2: vm_flags_set() locks it after), exit_mmap's remove_vma(vma, true) without RCU; the maple tree in RCU mode; v6.6's rwsem and teardown otherwise",
  commits: [
    { id: '5e31275cc997', subject: 'mm: add per-VMA lock and helper functions to control it' },
    { id: '0bff0aaea03e', subject: 'x86/mm: try VMA lock-based page fault handling first' },
    {
      id: 'c2508ec5a58d',
      subject: "mm: introduce new 'lock_mm_and_find_vma()' page fault helper (6.4.1 stable)",
    },
  ],
  mm: { ...v6_6.mm, exit_mmap: exit_mmap_v6_4 },
  vmaLock: VMA_LOCK_V6_4,
};

/** v6.4 with the series' pre-v2 lifetime rules (Jann Horn's unlock-then-free case; not in the era matrix). */
export const v6_4_norcu: EraProfile = {
  ...v6_4,
  name: 'v6.4-norcu',
  summary: `${v6_4.summary}; HAZARD: vma_end_read() without rcu_read_lock() and munmap freeing VMAs without call_rcu()`,
  vmaLock: VMA_LOCK_V6_4_NORCU,
};
