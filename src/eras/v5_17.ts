// Linux v5.17: exit_mmap under mmap_write_lock (64591e8605d6) ending with mm->mmap = NULL
// (f798a1d4f94d); process_mrelease with mmgrab and the MMF_OOM_SKIP recheck (ba535c1caf3e); the
// last era with munlock in exit_mmap and with VM_LOCKED skipped by the reaper.
import { exit_mmap_v5_17 } from '../mm/exit_mmap.js';
import type { EraProfile } from './profile.js';
import { v5_17_rc1 } from './v5_17_rc1.js';

export const v5_17: EraProfile = {
  ...v5_17_rc1,
  name: 'v5.17',
  release: '5.17.0',
  summary:
    "exit_mmap holds mmap_write_lock from munlock to the last remove_vma and empties mm->mmap; process_mrelease mmgrabs and rechecks MMF_OOM_SKIP under the read lock. rw_semaphore: v6.1's stands in for v5.17's",
  commits: [
    { id: '64591e8605d6', subject: 'mm: protect free_pgtables with mmap_lock write lock in exit_mmap' },
    { id: 'ba535c1caf3e', subject: 'mm/oom_kill: allow process_mrelease to run under mmap_lock protection' },
    { id: 'f798a1d4f94d', subject: 'mm: fix use-after-free bug when mm->mmap is reused after being freed' },
  ],
  mm: {
    ...v5_17_rc1.mm,
    exit_mmap: exit_mmap_v5_17,
  },
};
