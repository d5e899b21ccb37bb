// Linux v6.15: per-VMA locks as a reference count ("reimplement per-vma lock as a refcount", v10
// Feb 2025; kernel-mm.md §5.5, §1 era H): vm_refcnt (0 detached, 1 attached, +1 per reader,
// +VMA_LOCK_OFFSET while a writer waits), vma_mark_attached()/vma_mark_detached(), writers waiting on
// mm->vma_writer_wait (rcuwait), mm_lock_seq a seqcount (v6.14: odd while mmap_lock is held for
// writing), the VMA cache SLAB_TYPESAFE_BY_RCU (a freed VMA may be reused at once; the reader
// re-checks vm_mm, the refcount and the bounds), lock_vma_under_rcu() without the anon/uffd filter
// (vmf_anon_prepare() retries when it cannot create the anon_vma), the VMA lock dropped by the
// handler on VM_FAULT_RETRY (v6.6), dup_mmap locking the parent's VMAs (fb49c455323f), exit_mmap
// detaching each VMA before freeing it. v6.6's rwsem, RCU flavours and reaper as modelled.
import { exit_mmap_v6_15 } from '../mm/exit_mmap.js';
import { VMA_LOCK_V6_15 } from '../mm/vma_lock.js';
import type { EraProfile } from './profile.js';
import { v6_6 } from './v6_6.js';

export const v6_15: EraProfile = {
  ...v6_6,
  name: 'v6.15',
  release: '6.15.0',
  summary:
    'per-VMA locks as a refcount: vm_refcnt with VMA_LOCK_OFFSET, vma_mark_attached/detached, writers waiting on mm->vma_writer_wait (rcuwait), mm_lock_seq a seqcount, the VMA cache SLAB_TYPESAFE_BY_RCU; exit_mmap detaches then frees; v6.6 otherwise',
  commits: [
    { id: 'fb49c455323f', subject: 'fork: lock VMAs of the parent process when forking' },
    { id: 'b1f02b95758d', subject: 'mm: fix memory ordering for mm_lock_seq and vm_lock_seq' },
    { id: '657b5146955e', subject: 'mm: lock_vma_under_rcu() must check vma->anon_vma under vma lock' },
    {
      id: '9bbffee67ffd',
      subject:
        'mm: fix a UAF when vma->mm is freed after vma->vm_refcnt got dropped (stable 6.15.10; here with the refcount series, v10 Feb 2025)',
    },
  ],
  mm: { ...v6_6.mm, exit_mmap: exit_mmap_v6_15 },
  vmaLock: VMA_LOCK_V6_15,
};
