// The per-VMA lock RFC of Sep 2022 (Suren Baghdasaryan, lore 20220901173516.702122-1-surenb@google.com,
// LWN 906852; kernel-mm.md §5.1) on v6.1: a struct rw_semaphore and vm_lock_seq in every VMA,
// mm_lock_seq in the mm (a VMA is write-locked while the two are equal; mmap_write_unlock() and
// mmap_write_downgrade() bump mm_lock_seq: vma_mark_unlocked_all()), find_and_lock_anon_vma() for
// anonymous faults under RCU, dup_mmap() marking each parent VMA locked before copy_page_range()
// (patch 07/28), VMAs freed through call_rcu() everywhere (exit_mmap too: seed 002),
// the maple tree in RCU mode (the series carried "mm: enable maple tree RCU mode by default"), and
// stacks grown under the write lock (v6.5's lock_mm_and_find_vma, StackRot; not in the RFC).
// 'rfc-2022-09-seq2' is the same with a 2-bit mm_lock_seq, so a stale vm_lock_seq meets a wrapped
// mm_lock_seq after four write sections: the false "locked" the RFC documents as harmless.
import { dup_mmap_v6_3 } from '../mm/dup_mmap.js';
import { exit_mmap_v6_3 } from '../mm/exit_mmap.js';
import { lock_mm_and_find_vma_v6_5 } from '../mm/fault.js';
import { MAPLE_TREE_V6_3 } from '../mm/maple_tree.js';
import { vmaLockRfc202209 } from '../mm/vma_lock.js';
import type { EraProfile } from './profile.js';
import { v6_1 } from './v6_1.js';

export const rfc_2022_09: EraProfile = {
  ...v6_1,
  name: 'rfc-2022-09',
  release: '6.1.0-rfc',
  summary:
    'v6.1 with the Sep 2022 per-VMA lock RFC: an rw_semaphore in each VMA, vm_lock_seq == mm_lock_seq means write-locked (vma_mark_locked, vma_read_trylock, vma_mark_unlocked_all from mmap_write_unlock/downgrade), anonymous faults under find_and_lock_anon_vma, VMAs freed by call_rcu (exit_mmap too), the maple tree in RCU mode',
  commits: [
    {
      id: '3dd443254941',
      subject: 'mm: enable maple tree RCU mode by default (carried by the RFC as posted, merged for v6.3)',
    },
    {
      id: '5e31275cc997',
      subject:
        'mm: add per-VMA lock and helper functions to control it (here the RFC of Sep 2022 as posted: lore 20220901173516.702122-1-surenb@google.com)',
    },
  ],
  // The fault's lookup with the StackRot fix (c2508ec5a58d, v6.5): a stack grown under the read lock
  // in a tree in RCU mode frees a node under RCU readers (teardown-soak: KASAN in mas_find), a
  // later bug that would mask the lock's own behaviour.
  mm: {
    ...v6_1.mm,
    exit_mmap: exit_mmap_v6_3,
    dup_mmap: dup_mmap_v6_3,
    lock_mm_and_find_vma: lock_mm_and_find_vma_v6_5,
  },
  vma: MAPLE_TREE_V6_3,
  vmaLock: vmaLockRfc202209(32),
};

/** rfc-2022-09 with a 2-bit mm_lock_seq (not in the era matrix): drives the false-locked-on-overflow case. */
export const rfc_2022_09_seq2: EraProfile = {
  ...rfc_2022_09,
  name: 'rfc-2022-09-seq2',
  summary: `${rfc_2022_09.summary}; mm_lock_seq kept in 2 bits so that it wraps after four write sections`,
  vmaLock: vmaLockRfc202209(2),
};
