// Linux v5.17-rc1..rc6: exit_mmap holds mmap_lock for writing over munlock, unmap_vmas,
// free_pgtables and the remove_vma loop (64591e8605d6), process_mrelease is back to mmgrab with a
// recheck of MMF_OOM_SKIP under the read lock (ba535c1caf3e), but mm->mmap still points at freed
// VMAs afterwards: a non-victim's later process_mrelease walks them (E1, syzbot, fixed in rc7).
import { exit_mmap_v5_17_rc1 } from '../mm/exit_mmap.js';
import { process_mrelease_v5_17 } from '../mm/process_mrelease.js';
import type { EraProfile } from './profile.js';
import { v5_15 } from './v5_15.js';

export const v5_17_rc1: EraProfile = {
  ...v5_15,
  name: 'v5.17-rc1',
  release: '5.17.0-rc1',
  summary:
    "exit_mmap under mmap_write_lock, without mm->mmap = NULL: a process_mrelease after it walks freed VMAs (E1). rw_semaphore: v6.1's stands in for v5.17's",
  commits: [
    { id: '64591e8605d6', subject: 'mm: protect free_pgtables with mmap_lock write lock in exit_mmap' },
    { id: 'ba535c1caf3e', subject: 'mm/oom_kill: allow process_mrelease to run under mmap_lock protection' },
  ],
  mm: {
    ...v5_15.mm,
    exit_mmap: exit_mmap_v5_17_rc1,
    process_mrelease: process_mrelease_v5_17,
  },
};
