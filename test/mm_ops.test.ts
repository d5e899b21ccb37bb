// Address-space operations on the boot CPU, each with its exact effects: do_mmap (private, shared,
// MAP_FIXED, MAP_LOCKED, MAP_POPULATE, top-down placement), do_munmap (splits, the hole's pages
// and page tables, floor/ceiling), mprotect (splits, PTE permissions), fork (VMAs, COW PTEs,
// refcounts and mapcounts, rss), the COW fault (copy or reuse), stack expansion; and two seeded
// defects that check_mm and the page allocator's free-time checks report. Each in v4.15 (the
// vm_next list) and in v6.1 and v6.6 (the maple tree, out of and in RCU mode).
import { describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { EBADF, EINVAL, ENOMEM, EPERM } from '../src/kernel/errno.js';
import { hex8 } from '../src/kernel/printk.js';
import { unlock_range } from '../src/mm/era_ops.js';
import { __do_page_fault } from '../src/mm/fault.js';
import { kread, kwrite } from '../src/mm/kasan.js';
import {
  FAULT_FLAG_WRITE,
  get_mm_counter,
  unmap_vmas,
  VM_FAULT_SIGSEGV,
  VM_FAULT_WRITE,
} from '../src/mm/memory.js';
import {
  MM,
  MM_ANONPAGES,
  MM_SHMEMPAGES,
  VM_ACCOUNT,
  VM_GROWSDOWN,
  VM_LOCKED,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_SOFTDIRTY,
  VM_WRITE,
  VMA,
} from '../src/mm/mm_types.js';
import {
  find_vma,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_GROWSDOWN,
  MAP_LOCKED,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MMAP_BASE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  remove_vma_list,
  stack_guard_gap,
  vm_area_cachep,
  vm_mmap,
  vm_munmap,
} from '../src/mm/mmap.js';
import { mmap_read_lock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock } from '../src/mm/mmap_lock.js';
import { tlb_finish_mmu, tlb_gather_mmu } from '../src/mm/mmu_gather.js';
import { mprotect } from '../src/mm/mprotect.js';
import {
  alloc_page,
  GFP_KERNEL,
  nr_free_pages,
  nr_pages,
  page_is_allocated,
  page_ref_count,
  put_page,
} from '../src/mm/page_alloc.js';
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_PRESENT,
  _PAGE_RW,
  _PAGE_USER,
  mk_pte,
  PTE_TABLE_BYTES,
  pgd_offset,
  pmd_offset,
  pte_offset_map_lock,
  pte_pfn,
  pte_unmap_unlock,
} from '../src/mm/pgtable.js';
import {
  ANON_VMA,
  anon_vma_cachep,
  page_add_new_anon_rmap,
  page_mapcount,
  SHMEM,
  shmem_find_page,
  shmem_inode_cachep,
} from '../src/mm/rmap.js';
import { kmem_cache_live } from '../src/mm/slab.js';
import { detach_vmas_to_be_unmapped, detached_destroy, vma_before } from '../src/mm/vma_list.js';
import { mem } from '../src/shm/arena.js';
import { reports } from './helpers/boot.js';
import {
  exitAll,
  fault,
  forkProcess,
  mapleNodesLive,
  newProcess,
  PAGE_SZ,
  type Proc,
  pageAt,
  pteAt,
  vmaList,
  walkPageTables,
} from './helpers/process.js';

const P = PAGE_SZ;
const BASE = 0x10000000;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const FIXED = ANON | MAP_FIXED;
const MAY = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

const field = (mm: number, f: 'map_count' | 'total_vm' | 'locked_vm' | 'pgtables_bytes'): number =>
  Atomics.load(mem.i32, mm + MM[f]);
const anonRefs = (anon_vma: number): number => kread(anon_vma + ANON_VMA.refcount);
const writeFault = (mm: number, addr: number): number => __do_page_fault(mm, addr, FAULT_FLAG_WRITE);
const readFault = (mm: number, addr: number): number => __do_page_fault(mm, addr, 0);

/** Every process exits; the machine must be back to empty and silent. */
function exitClean(...procs: Proc[]): void {
  for (const p of procs) exitAll(p);
  expect(reports(procs[0]!.dmesg())).toEqual([]);
  expect(nr_free_pages()).toBe(nr_pages());
  // After a grace period: RCU mode's retired nodes, and VMAs munmap() freed through call_rcu() (v6.6)
  expect(mapleNodesLive()).toBe(0);
  expect(kmem_cache_live(vm_area_cachep)).toBe(0);
  expect(kmem_cache_live(anon_vma_cachep)).toBe(0);
  expect(kmem_cache_live(shmem_inode_cachep)).toBe(0);
}

// Every test in a list era and in both tree eras (v6.1: not in RCU mode; v6.6: in RCU mode, with
// per-VMA locks).
describe.each(['v4.15', 'v6.1', 'v6.6'])('%s', (era) => {
  describe('do_mmap', () => {
    it('places private mappings top-down below mmap_base, with the kernel flags, allocating nothing', () => {
      const p = newProcess('mapper', era);
      const free0 = nr_free_pages();
      const a = vm_mmap(p.mm, 0, 4 * P, RW, ANON);
      expect(a).toBe(MMAP_BASE - 4 * P);
      const [v] = vmaList(p.mm);
      expect(v).toMatchObject({ start: a, end: a + 4 * P, pgoff: a >>> 12, anon_vma: 0, file: 0 });
      expect(v!.flags).toBe(VM_READ | VM_WRITE | MAY | VM_ACCOUNT | VM_SOFTDIRTY);
      expect(kread(v!.vma + VMA.vm_page_prot)).toBe(_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED);
      expect([field(p.mm, 'map_count'), field(p.mm, 'total_vm'), field(p.mm, 'locked_vm')]).toEqual([
        1, 4, 0,
      ]);
      expect(nr_free_pages()).toBe(free0);

      const b = vm_mmap(p.mm, 0, 2 * P, PROT_READ, ANON);
      expect(b).toBe(a - 2 * P);
      expect(vmaList(p.mm).map((x) => x.start)).toEqual([b, a]);
      expect(vmaList(p.mm)[0]!.flags).toBe(VM_READ | MAY | VM_SOFTDIRTY); // read-only: no VM_ACCOUNT
      // A free hint is taken; a taken one falls back to the top-down search.
      expect(vm_mmap(p.mm, 0x20000000, P, RW, ANON)).toBe(0x20000000);
      expect(vm_mmap(p.mm, a, P, RW, ANON)).toBe(b - P);
      expect([field(p.mm, 'map_count'), field(p.mm, 'total_vm')]).toEqual([4, 8]);
      exitClean(p);
    });

    it('rejects what the kernel rejects', () => {
      const p = newProcess('mapper', era);
      expect(vm_mmap(p.mm, 0, 0, RW, ANON)).toBe(-EINVAL);
      expect(vm_mmap(p.mm, 0, P, RW, MAP_PRIVATE)).toBe(-EBADF);
      expect(vm_mmap(p.mm, BASE + 1, P, RW, FIXED)).toBe(-EINVAL);
      expect(vm_mmap(p.mm, 0, P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN)).toBe(-EINVAL);
      expect(vm_mmap(p.mm, 0, P, RW, MAP_ANONYMOUS)).toBe(-EINVAL); // neither shared nor private
      expect(vm_mmap(p.mm, 0, P, RW, FIXED)).toBe(-EPERM); // below mmap_min_addr
      expect(field(p.mm, 'map_count')).toBe(0);
      exitClean(p);
    });

    it('MAP_FIXED over the middle of a mapping splits it and frees the pages underneath', () => {
      const p = newProcess('mapper', era);
      expect(vm_mmap(p.mm, BASE, 8 * P, RW, FIXED)).toBe(BASE);
      for (let i = 0; i < 8; i++) fault(p.mm, BASE + i * P);
      const pages = Array.from({ length: 8 }, (_, i) => pageAt(p.mm, BASE + i * P));
      const anon_vma = vmaList(p.mm)[0]!.anon_vma;
      const free1 = nr_free_pages();

      expect(vm_mmap(p.mm, BASE + 2 * P, 3 * P, PROT_READ, FIXED)).toBe(BASE + 2 * P);
      const v = vmaList(p.mm);
      expect(v.map(({ start, end, pgoff, anon_vma }) => ({ start, end, pgoff, anon_vma }))).toEqual([
        { start: BASE, end: BASE + 2 * P, pgoff: BASE >>> 12, anon_vma },
        { start: BASE + 2 * P, end: BASE + 5 * P, pgoff: (BASE >>> 12) + 2, anon_vma: 0 },
        { start: BASE + 5 * P, end: BASE + 8 * P, pgoff: (BASE >>> 12) + 5, anon_vma },
      ]);
      expect(v[1]!.flags).toBe(VM_READ | MAY | VM_SOFTDIRTY);
      expect(anonRefs(anon_vma)).toBe(2); // the two halves; the middle one let go in free_pgtables
      for (let i = 0; i < 8; i++) {
        const gone = i >= 2 && i < 5;
        expect(page_is_allocated(pages[i]!)).toBe(!gone);
        expect(pteAt(p.mm, BASE + i * P) === 0).toBe(gone);
      }
      expect(nr_free_pages()).toBe(free1 + 3);
      expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(5);
      expect([field(p.mm, 'map_count'), field(p.mm, 'total_vm')]).toEqual([3, 8]);
      expect(field(p.mm, 'pgtables_bytes')).toBe(2 * PTE_TABLE_BYTES); // the neighbours keep the tables
      exitClean(p);
    });

    it('MAP_SHARED|MAP_ANONYMOUS: a shmem file; its page is shared by parent and child, never COWed', () => {
      const p = newProcess('sharer', era);
      const a = vm_mmap(p.mm, 0, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS);
      const [v] = vmaList(p.mm);
      expect(v!.flags).toBe(VM_READ | VM_WRITE | MAY | VM_SHARED | VM_MAYSHARE | VM_SOFTDIRTY);
      expect(v!.pgoff).toBe(0);
      expect(v!.file).not.toBe(0);
      expect(kread(v!.vma + VMA.vm_page_prot) & _PAGE_RW).toBe(_PAGE_RW); // PAGE_SHARED
      const file = v!.file;

      expect(readFault(p.mm, a)).toBe(0);
      const page = shmem_find_page(file, 0);
      expect(pageAt(p.mm, a)).toBe(page);
      expect(pteAt(p.mm, a) & (_PAGE_RW | _PAGE_DIRTY)).toBe(_PAGE_RW); // writable, not yet dirty
      expect([page_ref_count(page), page_mapcount(page)]).toEqual([2, 1]); // page cache + one PTE
      expect([get_mm_counter(p.mm, MM_SHMEMPAGES), get_mm_counter(p.mm, MM_ANONPAGES)]).toEqual([1, 0]);
      expect(kread(file + SHMEM.nrpages)).toBe(1);

      const c = forkProcess(p, 'child');
      expect(vmaList(c.mm)[0]!.file).toBe(file);
      expect(kread(file + SHMEM.f_count)).toBe(2);
      expect(pteAt(c.mm, a)).toBe(0); // copy_page_range() skips VMAs without an anon_vma
      expect(writeFault(c.mm, a)).toBe(0);
      expect(pageAt(c.mm, a)).toBe(page);
      expect([page_ref_count(page), page_mapcount(page)]).toEqual([3, 2]);
      expect(get_mm_counter(c.mm, MM_SHMEMPAGES)).toBe(1);

      expect(vm_munmap(p.mm, a, 2 * P)).toBe(0);
      expect([page_ref_count(page), page_mapcount(page), kread(file + SHMEM.f_count)]).toEqual([2, 1, 1]);
      expect(get_mm_counter(p.mm, MM_SHMEMPAGES)).toBe(0);
      exitAll(c); // the last fput() evicts the file: its page is freed
      expect(page_is_allocated(page)).toBe(false);
      exitClean(p);
    });

    it('MAP_LOCKED populates every page with write faults and counts locked_vm; munmap munlocks', () => {
      const p = newProcess('locker', era);
      const a = vm_mmap(p.mm, 0, 3 * P, RW, ANON | MAP_LOCKED);
      expect(vmaList(p.mm)[0]!.flags & VM_LOCKED).toBe(VM_LOCKED);
      expect(field(p.mm, 'locked_vm')).toBe(3);
      for (let i = 0; i < 3; i++) {
        expect(pteAt(p.mm, a + i * P) & (_PAGE_RW | _PAGE_DIRTY)).toBe(_PAGE_RW | _PAGE_DIRTY);
      }
      expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(3);
      expect(vm_munmap(p.mm, a + P, P)).toBe(0);
      expect(field(p.mm, 'locked_vm')).toBe(2);
      expect(vmaList(p.mm).map((v) => v.flags & VM_LOCKED)).toEqual([VM_LOCKED, VM_LOCKED]);
      exitClean(p);
    });

    it('munmap munlocks the VMA (VM_LOCKED cleared first) up to v5.17; from v5.18 only locked_vm drops', () => {
      const p = newProcess('unlocker', era);
      const a = vm_mmap(p.mm, 0, 2 * P, RW, ANON | MAP_LOCKED);
      const vma = find_vma(p.mm, a);
      mmap_write_lock(p.mm);
      unlock_range(p.mm, vma, a + 2 * P);
      mmap_write_unlock(p.mm);
      expect(field(p.mm, 'locked_vm')).toBe(0);
      // a213e5cf71cb: no flag change before vma_start_write(), which a per-VMA reader would see.
      expect(vmaList(p.mm)[0]!.flags & VM_LOCKED).toBe(era === 'v4.15' ? 0 : VM_LOCKED);
      expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(2);
      expect(vm_munmap(p.mm, a, 2 * P)).toBe(0);
      exitClean(p);
    });

    it('MAP_POPULATE faults every page in without locking; a read-only one maps read-only', () => {
      const p = newProcess('populator', era);
      const a = vm_mmap(p.mm, 0, 2 * P, RW, ANON | MAP_POPULATE);
      const b = vm_mmap(p.mm, 0, 2 * P, PROT_READ, ANON | MAP_POPULATE);
      expect(field(p.mm, 'locked_vm')).toBe(0);
      for (let i = 0; i < 2; i++) {
        expect(pteAt(p.mm, a + i * P) & _PAGE_RW).toBe(_PAGE_RW);
        expect(pteAt(p.mm, b + i * P) & (_PAGE_PRESENT | _PAGE_RW)).toBe(_PAGE_PRESENT);
      }
      expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(4);
      exitClean(p);
    });
  });

  describe('do_munmap', () => {
    it('a hole in one VMA: two VMAs with their pgoffs, the hole zapped, the shared PTE page kept', () => {
      const p = newProcess('unmapper', era);
      vm_mmap(p.mm, BASE, 8 * P, RW, FIXED);
      for (let i = 0; i < 8; i++) fault(p.mm, BASE + i * P);
      const pages = Array.from({ length: 8 }, (_, i) => pageAt(p.mm, BASE + i * P));
      const anon_vma = vmaList(p.mm)[0]!.anon_vma;
      expect(vm_munmap(p.mm, BASE + 2 * P, 3 * P)).toBe(0);
      expect(vmaList(p.mm).map(({ start, end, pgoff }) => [start, end, pgoff])).toEqual([
        [BASE, BASE + 2 * P, BASE >>> 12],
        [BASE + 5 * P, BASE + 8 * P, (BASE >>> 12) + 5],
      ]);
      expect([field(p.mm, 'map_count'), field(p.mm, 'total_vm')]).toEqual([2, 5]);
      expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(5);
      expect(anonRefs(anon_vma)).toBe(2);
      for (let i = 0; i < 8; i++) {
        const inHole = i >= 2 && i < 5;
        expect(page_is_allocated(pages[i]!)).toBe(!inHole);
        if (!inHole) expect([page_mapcount(pages[i]!), page_ref_count(pages[i]!)]).toEqual([1, 1]);
      }
      expect(field(p.mm, 'pgtables_bytes')).toBe(2 * PTE_TABLE_BYTES);
      exitClean(p);
    });

    it('free_pgtables floor/ceiling: a PTE page goes with its last VMA, the PMD page with the last one', () => {
      const p = newProcess('unmapper', era);
      vm_mmap(p.mm, BASE, P, RW, FIXED); // A
      vm_mmap(p.mm, BASE + 4 * P, P, RW, FIXED); // B: same PTE page as A
      vm_mmap(p.mm, BASE + 0x400000, P, RW, FIXED); // C: another PMD entry, same PMD page
      for (const a of [BASE, BASE + 4 * P, BASE + 0x400000]) fault(p.mm, a);
      expect(walkPageTables(p.mm).tables).toHaveLength(3);
      expect(vm_munmap(p.mm, BASE, P)).toBe(0); // B still uses the PTE page
      expect(field(p.mm, 'pgtables_bytes')).toBe(3 * PTE_TABLE_BYTES);
      expect(pageAt(p.mm, BASE + 4 * P)).not.toBe(0);
      expect(vm_munmap(p.mm, BASE + 4 * P, P)).toBe(0); // now the PTE page goes, the PMD page stays
      expect(field(p.mm, 'pgtables_bytes')).toBe(2 * PTE_TABLE_BYTES);
      expect(vm_munmap(p.mm, BASE + 0x400000, P)).toBe(0); // the last VMA: floor 0, ceiling 0
      expect(field(p.mm, 'pgtables_bytes')).toBe(0);
      expect(nr_pages() - nr_free_pages()).toBe(1); // the PGD
      exitClean(p);
    });

    it('a range over several VMAs trims both ends; an empty range and a bad address are handled', () => {
      const p = newProcess('unmapper', era);
      vm_mmap(p.mm, BASE, 4 * P, RW, FIXED);
      vm_mmap(p.mm, BASE + 4 * P, 4 * P, RW, FIXED); // adjacent, not merged
      expect(field(p.mm, 'map_count')).toBe(2);
      expect(vm_munmap(p.mm, BASE + 2 * P, 4 * P)).toBe(0);
      expect(vmaList(p.mm).map(({ start, end }) => [start, end])).toEqual([
        [BASE, BASE + 2 * P],
        [BASE + 6 * P, BASE + 8 * P],
      ]);
      expect([field(p.mm, 'map_count'), field(p.mm, 'total_vm')]).toEqual([2, 4]);
      expect(vm_munmap(p.mm, 0x30000000, P)).toBe(0);
      expect(vm_munmap(p.mm, BASE + 1, P)).toBe(-EINVAL);
      expect(field(p.mm, 'map_count')).toBe(2);
      exitClean(p);
    });
  });

  describe('mprotect', () => {
    it('splits the VMA, write-protects only its PTEs; RW again leaves them read-only until a write reuses', () => {
      const p = newProcess('protector', era);
      vm_mmap(p.mm, BASE, 6 * P, RW, FIXED);
      for (let i = 0; i < 6; i++) fault(p.mm, BASE + i * P);
      const pages = Array.from({ length: 6 }, (_, i) => pageAt(p.mm, BASE + i * P));
      expect(mprotect(p.mm, BASE + 2 * P, 2 * P, PROT_READ)).toBe(0);
      const v = vmaList(p.mm);
      expect(v.map(({ start, end, pgoff }) => [start, end, pgoff])).toEqual([
        [BASE, BASE + 2 * P, BASE >>> 12],
        [BASE + 2 * P, BASE + 4 * P, (BASE >>> 12) + 2],
        [BASE + 4 * P, BASE + 6 * P, (BASE >>> 12) + 4],
      ]);
      expect(v.map((x) => x.flags & (VM_READ | VM_WRITE))).toEqual([
        VM_READ | VM_WRITE,
        VM_READ,
        VM_READ | VM_WRITE,
      ]);
      expect([field(p.mm, 'map_count'), field(p.mm, 'total_vm')]).toEqual([3, 6]);
      for (let i = 0; i < 6; i++) {
        const ro = i === 2 || i === 3;
        expect(pteAt(p.mm, BASE + i * P) & _PAGE_RW).toBe(ro ? 0 : _PAGE_RW);
        expect(pageAt(p.mm, BASE + i * P)).toBe(pages[i]); // the same pages stay mapped
      }
      expect(writeFault(p.mm, BASE + 2 * P)).toBe(VM_FAULT_SIGSEGV); // access_error()

      expect(mprotect(p.mm, BASE + 2 * P, 2 * P, RW)).toBe(0);
      expect(field(p.mm, 'map_count')).toBe(3); // no vma_merge()
      expect(pteAt(p.mm, BASE + 2 * P) & _PAGE_RW).toBe(0); // PAGE_COPY: still read-only
      const free0 = nr_free_pages();
      expect(writeFault(p.mm, BASE + 2 * P)).toBe(VM_FAULT_WRITE); // do_wp_page(): mapped once, reused
      expect(pageAt(p.mm, BASE + 2 * P)).toBe(pages[2]);
      expect(pteAt(p.mm, BASE + 2 * P) & _PAGE_RW).toBe(_PAGE_RW);
      expect(nr_free_pages()).toBe(free0);
      exitClean(p);
    });

    it('a locked private mapping made writable is populated with write faults: COW broken at once', () => {
      const p = newProcess('protector', era);
      const a = vm_mmap(p.mm, 0, 2 * P, PROT_READ, ANON | MAP_LOCKED);
      const pages = [pageAt(p.mm, a), pageAt(p.mm, a + P)];
      expect(pteAt(p.mm, a) & _PAGE_RW).toBe(0);
      const c = forkProcess(p, 'child');
      expect(page_mapcount(pages[0]!)).toBe(2);
      expect(mprotect(p.mm, a, 2 * P, RW)).toBe(0);
      for (let i = 0; i < 2; i++) {
        expect(pageAt(p.mm, a + i * P)).not.toBe(pages[i]); // the parent's own copies, writable
        expect(pteAt(p.mm, a + i * P) & _PAGE_RW).toBe(_PAGE_RW);
        expect([page_mapcount(pages[i]!), page_ref_count(pages[i]!)]).toEqual([1, 1]); // the child's
        expect(pageAt(c.mm, a + i * P)).toBe(pages[i]);
      }
      exitClean(c, p);
    });

    it('a shared mapping gets writable PTEs back; PROT_NONE refuses every fault; holes are -ENOMEM', () => {
      const p = newProcess('protector', era);
      const a = vm_mmap(p.mm, 0, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS);
      fault(p.mm, a);
      expect(mprotect(p.mm, a, 2 * P, PROT_READ)).toBe(0);
      expect(pteAt(p.mm, a) & _PAGE_RW).toBe(0);
      expect(mprotect(p.mm, a, 2 * P, RW)).toBe(0);
      expect(pteAt(p.mm, a) & _PAGE_RW).toBe(_PAGE_RW); // PAGE_SHARED
      expect(field(p.mm, 'map_count')).toBe(1); // whole VMA: no split

      const b = vm_mmap(p.mm, BASE, 2 * P, RW, FIXED);
      expect(mprotect(p.mm, b, P, PROT_NONE)).toBe(0);
      expect(readFault(p.mm, b)).toBe(VM_FAULT_SIGSEGV);
      expect(readFault(p.mm, b + P)).toBe(0);
      expect(mprotect(p.mm, b, 4 * P, PROT_READ)).toBe(-ENOMEM); // runs past the last VMA
      expect(mprotect(p.mm, 0x30000000, P, PROT_READ)).toBe(-ENOMEM);
      exitClean(p);
    });
  });

  describe('fork (dup_mmap, copy_page_range) and the COW fault', () => {
    it('copies VMAs and PTEs: both write-protected, each page mapped twice, rss in the child', () => {
      const p = newProcess('parent', era);
      vm_mmap(p.mm, BASE, 4 * P, RW, FIXED);
      vm_mmap(p.mm, 0x20000000, 2 * P, RW, FIXED); // never faulted: nothing to copy
      for (let i = 0; i < 3; i++) fault(p.mm, BASE + i * P);
      const pages = Array.from({ length: 3 }, (_, i) => pageAt(p.mm, BASE + i * P));
      const anon_vma = vmaList(p.mm)[0]!.anon_vma;
      const free0 = nr_free_pages();

      const c = forkProcess(p, 'child');
      const strip = (v: ReturnType<typeof vmaList>) => v.map(({ vma: _vma, ...rest }) => rest);
      expect(strip(vmaList(c.mm))).toEqual(strip(vmaList(p.mm)));
      expect(vmaList(c.mm)[0]!.vma).not.toBe(vmaList(p.mm)[0]!.vma);
      expect(kread(vmaList(c.mm)[0]!.vma + VMA.vm_mm)).toBe(c.mm);
      expect(anonRefs(anon_vma)).toBe(2);
      expect([field(c.mm, 'map_count'), field(c.mm, 'total_vm')]).toEqual([2, 6]);
      expect(get_mm_counter(c.mm, MM_ANONPAGES)).toBe(3);
      expect(field(c.mm, 'pgtables_bytes')).toBe(2 * PTE_TABLE_BYTES);
      expect(nr_free_pages()).toBe(free0 - 3); // the child's PGD, PMD and PTE pages
      for (let i = 0; i < 3; i++) {
        const pp = pteAt(p.mm, BASE + i * P);
        const cp = pteAt(c.mm, BASE + i * P);
        expect(pp & _PAGE_RW).toBe(0);
        expect(cp & (_PAGE_RW | _PAGE_ACCESSED)).toBe(0); // pte_wrprotect(), pte_mkold()
        expect(pte_pfn(cp)).toBe(pte_pfn(pp));
        expect([page_ref_count(pages[i]!), page_mapcount(pages[i]!)]).toEqual([2, 2]);
      }
      expect(pteAt(c.mm, BASE + 3 * P)).toBe(0);
      expect(walkPageTables(c.mm).ptes).toHaveLength(3);

      // The child writes: a copy. The parent writes: its page is mapped once now, reused.
      expect(writeFault(c.mm, BASE)).toBe(VM_FAULT_WRITE);
      const copy = pageAt(c.mm, BASE);
      expect(copy).not.toBe(pages[0]);
      expect(pteAt(c.mm, BASE) & _PAGE_RW).toBe(_PAGE_RW);
      expect([page_ref_count(copy), page_mapcount(copy)]).toEqual([1, 1]);
      expect([page_ref_count(pages[0]!), page_mapcount(pages[0]!)]).toEqual([1, 1]);
      expect(pteAt(p.mm, BASE) & _PAGE_RW).toBe(0);
      expect(nr_free_pages()).toBe(free0 - 4);
      expect(writeFault(p.mm, BASE)).toBe(VM_FAULT_WRITE);
      expect(pageAt(p.mm, BASE)).toBe(pages[0]);
      expect(nr_free_pages()).toBe(free0 - 4);
      expect([get_mm_counter(p.mm, MM_ANONPAGES), get_mm_counter(c.mm, MM_ANONPAGES)]).toEqual([3, 3]);
      exitClean(p, c);
    });

    it('the child does not inherit VM_LOCKED or locked_vm; exit order does not matter', () => {
      const p = newProcess('parent', era);
      const a = vm_mmap(p.mm, 0, 2 * P, RW, ANON | MAP_LOCKED);
      const c = forkProcess(p, 'child');
      expect(vmaList(c.mm)[0]!.flags & VM_LOCKED).toBe(0);
      expect([field(p.mm, 'locked_vm'), field(c.mm, 'locked_vm')]).toEqual([2, 0]);
      expect(page_mapcount(pageAt(c.mm, a))).toBe(2);
      exitClean(c, p);
    });

    it('a grandchild shares the anon_vma; pages mapped three times come back after every exit', () => {
      const p = newProcess('parent', era);
      vm_mmap(p.mm, BASE, 2 * P, RW, FIXED);
      fault(p.mm, BASE);
      const page = pageAt(p.mm, BASE);
      const c = forkProcess(p, 'child');
      const g = forkProcess(c, 'grandchild');
      expect([page_ref_count(page), page_mapcount(page)]).toEqual([3, 3]);
      expect(anonRefs(vmaList(p.mm)[0]!.anon_vma)).toBe(3);
      expect(writeFault(c.mm, BASE)).toBe(VM_FAULT_WRITE); // mapcount 3: copy
      expect(page_mapcount(page)).toBe(2);
      exitAll(p);
      expect(page_mapcount(page)).toBe(1);
      expect(writeFault(g.mm, BASE)).toBe(VM_FAULT_WRITE); // now mapped once: reused
      expect(pageAt(g.mm, BASE)).toBe(page);
      exitClean(c, g);
    });
  });

  describe('expand_stack (VM_GROWSDOWN) from the fault path', () => {
    const TOP = 0x30000000;

    it('grows the VMA down to the faulting page: vm_start, vm_pgoff, total_vm, the page', () => {
      const p = newProcess('stack', era);
      expect(vm_mmap(p.mm, TOP, 2 * P, RW, FIXED | MAP_GROWSDOWN)).toBe(TOP);
      expect(vmaList(p.mm)[0]!.flags & VM_GROWSDOWN).toBe(VM_GROWSDOWN);
      expect(writeFault(p.mm, TOP - 3 * P + 8)).toBe(0);
      expect(vmaList(p.mm)[0]).toMatchObject({
        start: TOP - 3 * P,
        end: TOP + 2 * P,
        pgoff: (TOP >>> 12) - 3,
      });
      expect(field(p.mm, 'total_vm')).toBe(5);
      expect(pageAt(p.mm, TOP - 3 * P)).not.toBe(0);
      expect(vmaList(p.mm)[0]!.anon_vma).not.toBe(0);
      // Beyond RLIMIT_STACK (8 MiB): SIGSEGV, nothing changes.
      expect(readFault(p.mm, TOP - 9 * 1024 * 1024)).toBe(VM_FAULT_SIGSEGV);
      expect(vmaList(p.mm)[0]!.start).toBe(TOP - 3 * P);
      exitClean(p);
    });

    it('keeps stack_guard_gap above the mapping below; a locked stack counts its growth in locked_vm', () => {
      const p = newProcess('stack', era);
      const below = TOP - 0x200000;
      vm_mmap(p.mm, below, P, RW, FIXED);
      vm_mmap(p.mm, TOP, P, RW, FIXED | MAP_GROWSDOWN | MAP_LOCKED);
      expect(field(p.mm, 'locked_vm')).toBe(1);
      const gapEnd = below + P + stack_guard_gap;
      expect(readFault(p.mm, gapEnd - P)).toBe(VM_FAULT_SIGSEGV);
      expect(vmaList(p.mm)[1]!.start).toBe(TOP);
      expect(readFault(p.mm, gapEnd)).toBe(0);
      expect(vmaList(p.mm)[1]!.start).toBe(gapEnd);
      expect(field(p.mm, 'locked_vm')).toBe(1 + (TOP - gapEnd) / P);
      expect(field(p.mm, 'total_vm')).toBe(2 + (TOP - gapEnd) / P);
      // A VMA without VM_GROWSDOWN does not grow.
      expect(readFault(p.mm, below - P)).toBe(VM_FAULT_SIGSEGV);
      exitClean(p);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // Seeded defects: the checks fire on broken code and stay silent on the real one.

  /** do_munmap() of whole VMAs whose unmap_region() forgets free_pgtables(). */
  function munmapWithoutFreePgtables(mm: number, start: number, len: number): void {
    mmap_write_lock(mm);
    const vma = find_vma(mm, start);
    const prev = vma_before(mm, vma);
    const mt = detach_vmas_to_be_unmapped(mm, vma, prev, start + len);
    const tlb = tlb_gather_mmu(mm, start, start + len);
    unmap_vmas(tlb, vma, start, start + len, mt);
    tlb_finish_mmu(tlb, start, start + len); // BUG: no free_pgtables() over the hole
    remove_vma_list(mm, vma, mt);
    detached_destroy(mt);
    mmap_write_unlock(mm);
  }

  /** wp_page_copy() that forgets page_remove_rmap() of the old page (the references are right). */
  function cowWithoutRemoveRmap(mm: number, addr: number): void {
    mmap_read_lock(mm);
    const vma = find_vma(mm, addr);
    const pmdval = kread(pmd_offset(kread(pgd_offset(mm, addr)), addr));
    const out = { ptl: 0 };
    const pte = pte_offset_map_lock(pmdval, addr, out);
    const old_page = pageAt(mm, addr);
    const new_page = alloc_page(GFP_KERNEL, 'wp_page_copy');
    page_add_new_anon_rmap(new_page, vma, addr);
    kwrite(pte, mk_pte(new_page, _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_RW | _PAGE_DIRTY));
    // BUG: page_remove_rmap(old_page) is missing
    put_page(old_page, 'wp_page_copy');
    pte_unmap_unlock(out.ptl);
    mmap_read_unlock(mm);
  }

  describe('seeded defects', () => {
    function twoSlots(): Proc {
      const p = newProcess('victim', era);
      vm_mmap(p.mm, 0x10000000, P, RW, FIXED); // PGD slot 0
      vm_mmap(p.mm, 0x50000000, P, RW, FIXED); // PGD slot 1
      fault(p.mm, 0x10000000);
      fault(p.mm, 0x50000000);
      expect(field(p.mm, 'pgtables_bytes')).toBe(4 * PTE_TABLE_BYTES);
      return p;
    }

    it('a munmap that skips free_pgtables: check_mm reports pgtables_bytes, the tables leak', () => {
      const p = twoSlots();
      munmapWithoutFreePgtables(p.mm, 0x10000000, P);
      cpuCtx.current = p.task;
      exitAll(p);
      expect(reports(p.dmesg())).toEqual([
        `BUG: non-zero pgtables_bytes on freeing mm: ${2 * PTE_TABLE_BYTES}`,
      ]);
      expect(nr_pages() - nr_free_pages()).toBe(2); // slot 0's PMD and PTE pages
      expect(kmem_cache_live(anon_vma_cachep)).toBe(1); // and unlink_anon_vmas() never ran
    });

    it('the real munmap of the same VMA is silent', () => {
      const p = twoSlots();
      expect(vm_munmap(p.mm, 0x10000000, P)).toBe(0);
      expect(field(p.mm, 'pgtables_bytes')).toBe(2 * PTE_TABLE_BYTES);
      exitClean(p);
    });

    it('a COW that forgets the old page mapcount drop: "Bad page state" at the last unmap, the page leaks', () => {
      const p = newProcess('parent', era);
      vm_mmap(p.mm, BASE, P, RW, FIXED);
      fault(p.mm, BASE);
      const page = pageAt(p.mm, BASE);
      const c = forkProcess(p, 'child');
      cowWithoutRemoveRmap(c.mm, BASE);
      expect([page_ref_count(page), page_mapcount(page)]).toEqual([1, 2]); // one PTE, mapcount says two
      exitAll(c);
      exitAll(p);
      const lines = p.dmesg();
      expect(reports(lines)).toEqual([
        expect.stringMatching(/^BUG: Bad page state in process \S+ {2}pfn:[0-9a-f]{5}$/),
      ]);
      expect(lines).toContain('page dumped because: nonzero mapcount');
      expect(lines.some((l) => l.startsWith(`page:${hex8(page)} refcount:0 mapcount:1 `))).toBe(true);
      expect(nr_pages() - nr_free_pages()).toBe(1);
    });

    it('the real COW of the same page is silent', () => {
      const p = newProcess('parent', era);
      vm_mmap(p.mm, BASE, P, RW, FIXED);
      fault(p.mm, BASE);
      const c = forkProcess(p, 'child');
      expect(writeFault(c.mm, BASE)).toBe(VM_FAULT_WRITE);
      exitClean(c, p);
    });
  });
});
