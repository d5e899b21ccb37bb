// "mm: drop oom code from exit_mmap", v2 as Suren Baghdasaryan posted it in May 2022 (lore
// 20220516075619.1277152-1-surenb@google.com), on the vm_next list, over v5.18 (its base, with
// a213e5cf71cb and e4a38402c36e): exit_mmap read-locks for unmap_vmas, sets MMF_OOM_SKIP for
// everyone, write-locks for free_pgtables and the remove_vma loop, and empties mm->mmap. Patch
// 1/2 only: mark_oom_victim still sets the now unused MMF_OOM_VICTIM. Merged, rebased on the
// maple tree, as bf3980c85212 in v6.1.
import { exit_mmap_rfc_2022_05 } from '../mm/exit_mmap.js';
import { unlock_range_v5_18 } from '../mm/mmap.js';
import { __oom_reap_task_mm_v5_18, queue_oom_reaper_v5_18 } from '../mm/oom_reaper.js';
import type { EraProfile } from './profile.js';
import { v5_17 } from './v5_17.js';

export const rfc_2022_05: EraProfile = {
  ...v5_17,
  name: 'rfc-2022-05',
  release: '5.18.0-rfc',
  summary:
    "Suren's May 2022 v2 exit_mmap on v5.18: read lock for unmap_vmas (reapers zap alongside), unconditional MMF_OOM_SKIP, write lock for free_pgtables and remove_vma, mm->mmap = NULL; v5.18's reaper (2 s timer, VM_LOCKED reaped, no munlock). rw_semaphore: v6.1's stands in for v5.18's",
  commits: [
    { id: 'a213e5cf71cb', subject: 'mm/munlock: delete munlock_vma_pages_all(), allow oomreap' },
    {
      id: 'e4a38402c36e',
      subject: 'oom_kill.c: futex: delay the OOM reaper to allow time for proper futex cleanup',
    },
    {
      id: 'bf3980c85212',
      subject: 'mm: drop oom code from exit_mmap (here its v2 as posted, before the maple tree)',
    },
  ],
  mm: {
    ...v5_17.mm,
    exit_mmap: exit_mmap_rfc_2022_05,
    wake_oom_reaper: queue_oom_reaper_v5_18,
    __oom_reap_task_mm: __oom_reap_task_mm_v5_18,
    unlock_range: unlock_range_v5_18,
  },
};
