// A scenario written only against mmrace's public API: two threads of one process, one taking
// write faults across an anonymous area while the other unmaps it. Every era must keep the page
// tables, rss counters and page refcounts straight: at the end every page is free and check_mm()
// (at the last mmdrop) is silent. (Unmapping only the upper half shrinks the VMA in place, and the
// Sep 2022 RFC's per-VMA reader can then lock a VMA that no longer covers its address: the
// catalogue's vma-lock-rfc-bounds. That race is a real bug of rfc-2022-09, not of this example.)
//
//   npx mmrace run examples/fault-vs-munmap.mjs --eras all
import {
  __do_page_fault,
  defineScenario,
  do_exit,
  FAULT_FLAG_WRITE,
  mm_alloc,
  mmap_anon_fixed,
  mmap_write_lock,
  mmap_write_unlock,
  mmget,
  nr_free_pages,
  nr_pages,
  point,
  spawnTask,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_READ,
  VM_WRITE,
  vm_munmap,
} from 'mmrace';

const BASE = 0x10000000;
const PAGES = 8;
const PAGE = 4096;

export const scenario = defineScenario({
  id: 'fault-vs-munmap',
  title: 'write faults on one CPU while another unmaps the area',
  refs: ['mm/memory.c handle_mm_fault()', 'mm/mmap.c do_munmap()'],
  description: 'Two threads share an mm; faults race munmap of the whole area. Clean in every era.',
  variants: [{ name: 'any', era: 'v6.1', expected: 'clean' }],
  globals: ['mm', 'faulter', 'unmapper'],
  cpus: [
    {
      name: 'faulter',
      task: 'faulter',
      run(g) {
        // A fault after the munmap gets SIGSEGV (a non-zero result): that is fine here.
        for (let i = 0; i < PAGES; i++) __do_page_fault(g.mm, BASE + i * PAGE, FAULT_FLAG_WRITE);
        do_exit(0);
      },
    },
    {
      name: 'unmapper',
      task: 'unmapper',
      run(g) {
        point('fault-vs-munmap:before');
        vm_munmap(g.mm, BASE, PAGES * PAGE);
        do_exit(0);
      },
    },
  ],
  // setup keeps no state and draws no random numbers: it runs once, each run restores its arena.
  setupOnce: true,
  setup(g) {
    g.mm = mm_alloc();
    mmap_write_lock(g.mm);
    mmap_anon_fixed(g.mm, BASE, PAGES * PAGE, VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE);
    mmap_write_unlock(g.mm);
    g.faulter = spawnTask('faulter', { mm: g.mm });
    mmget(g.mm); // the second thread's reference
    g.unmapper = spawnTask('unmapper', { mm: g.mm });
  },
  checks: [
    {
      name: 'every page freed',
      check: () =>
        nr_free_pages() === nr_pages() ? null : `${nr_pages() - nr_free_pages()} pages still allocated`,
    },
  ],
});
