// vma-lock-exit-mmap with an illegal reader (kernel-mm.md §5.2, §6 N1): the reader keeps its VMA
// past its own mmput(). The owner's mmput() is then the last: exit_mmap() write-locks the VMA
// (waiting for the reader) and frees it directly (v6.4: remove_vma(vma, true), no RCU);
// vma_end_read()'s rcu_read_lock() does not cover a free without RCU, so the reader's up_read()
// wake-up runs on freed memory: KASAN slab-use-after-free in rwsem_wake(). No kernel reader does
// this: the scenario shows what Suren's argument rests on (every per-VMA reader holds mm_users).
// Found by id (`mmrace repro vma-lock-exit-mmap-past-mmput`), not in the default run: the reader's
// bug is the scenario's, not an era's. Measured: PCT 4 hits in 2,000 runs; the schedule of the
// first replays 10/10 (test/vma_lock_scenarios.test.ts).
import { defineBuiltinScenario } from './scenario.js';
import { exitMmapBody, scenario as legal } from './vma-lock-exit-mmap.js';

export const scenario = defineBuiltinScenario({
  id: 'vma-lock-exit-mmap-past-mmput',
  title: "exit_mmap's direct VMA free under a reader that kept its VMA past its mmput() (illegal reader)",
  refs: legal.refs,
  description:
    'As vma-lock-exit-mmap, but the reader mmput()s before it is done with the VMA it locked with ' +
    "lock_vma_under_rcu(): the owner's exit is the last user, exit_mmap() waits for the reader's VMA " +
    'lock, then frees the VMA without RCU while up_read() is still waking it.',
  variants: [{ name: 'v6.4', era: 'v6.4', expected: 'reproduces', note: 'the reader breaks the rule' }],
  expectFailIn: ['v6.4'],
  symptoms: {
    expected: ['KASAN: slab-use-after-free in spin_lock', 'KASAN: slab-use-after-free in spin_unlock'],
    acceptable: ['KASAN: slab-use-after-free', 'per-VMA reader of an mm without users'],
  },
  ...exitMmapBody(true),
});
