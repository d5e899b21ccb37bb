// madvise(MADV_DONTNEED) on the boot CPU, in a list era and the maple-tree eras: the range's pages
// are unmapped and freed, the rss counter drops by exactly their number, the VMA stays one VMA
// (same object, same bounds, its anon_vma kept) with its page tables, and the next touch faults
// again; a hole in the range is -ENOMEM after the mapped part is zapped, an mlocked VMA -EINVAL.
import { describe, expect, it } from 'vitest';
import { kread, kwrite } from '../src/mm/kasan.js';
import { do_madvise, MADV_DONTNEED } from '../src/mm/madvise.js';
import { get_mm_counter } from '../src/mm/memory.js';
import { MM_ANONPAGES, VM_LOCKED, VMA } from '../src/mm/mm_types.js';
import { nr_free_pages, page_is_allocated } from '../src/mm/page_alloc.js';
import { reports } from './helpers/boot.js';
import {
  exitAll,
  fault,
  mmap,
  newProcess,
  PAGE_SZ,
  pageAt,
  vmaList,
  walkPageTables,
} from './helpers/process.js';

const BASE = 0x10000000;
const EINVAL = -22;
const ENOMEM = -12;

/** A process with one 16-page VMA at BASE, every page faulted in. */
function populated(era: string) {
  const p = newProcess('madviser', era);
  const vma = mmap(p.mm, BASE, 16);
  for (let i = 0; i < 16; i++) fault(p.mm, BASE + i * PAGE_SZ);
  return { ...p, vma };
}

describe.each(['v4.15', 'v6.1', 'v6.4', 'v6.15'])('madvise(MADV_DONTNEED), %s', (era) => {
  it('frees the range, rss exact, the VMA and its page tables stay, and the pages fault again', () => {
    const p = populated(era);
    const before = vmaList(p.mm);
    const tables = walkPageTables(p.mm).tables;
    const zapped = [4, 5, 6, 7, 8, 9, 10, 11].map((i) => pageAt(p.mm, BASE + i * PAGE_SZ));
    const free0 = nr_free_pages();
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(16);

    expect(do_madvise(p.mm, BASE + 4 * PAGE_SZ, 8 * PAGE_SZ, MADV_DONTNEED)).toBe(0);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(8);
    expect(nr_free_pages()).toBe(free0 + 8);
    for (const page of zapped) expect(page_is_allocated(page)).toBe(false);
    const left = walkPageTables(p.mm);
    expect(left.ptes.map((x) => (x.addr - BASE) / PAGE_SZ)).toEqual([0, 1, 2, 3, 12, 13, 14, 15]);
    expect(left.tables).toEqual(tables);
    expect(vmaList(p.mm)).toEqual(before);
    expect(before).toHaveLength(1);
    expect(before[0]!.anon_vma).not.toBe(0);

    for (let i = 4; i < 12; i++) fault(p.mm, BASE + i * PAGE_SZ);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(16);
    expect(nr_free_pages()).toBe(free0);
    expect(do_madvise(p.mm, BASE, 16 * PAGE_SZ, MADV_DONTNEED)).toBe(0);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(0);
    expect(walkPageTables(p.mm).ptes).toEqual([]);
    expect(vmaList(p.mm)).toEqual(before);
    expect(reports(p.dmesg())).toEqual([]);
    exitAll(p);
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('a range running past the VMA: the mapped part is zapped, then -ENOMEM; bad input changes nothing', () => {
    const p = populated(era);
    expect(do_madvise(p.mm, BASE + 1, PAGE_SZ, MADV_DONTNEED)).toBe(EINVAL);
    expect(do_madvise(p.mm, BASE, 0, MADV_DONTNEED)).toBe(0);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(16);
    expect(do_madvise(p.mm, BASE + 12 * PAGE_SZ, 8 * PAGE_SZ, MADV_DONTNEED)).toBe(ENOMEM);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(12);
    expect(do_madvise(p.mm, BASE + 32 * PAGE_SZ, PAGE_SZ, MADV_DONTNEED)).toBe(ENOMEM);
    // An mlocked VMA refuses MADV_DONTNEED and keeps its pages.
    kwrite(p.vma + VMA.vm_flags, kread(p.vma + VMA.vm_flags) | VM_LOCKED);
    expect(do_madvise(p.mm, BASE, 4 * PAGE_SZ, MADV_DONTNEED)).toBe(EINVAL);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(12);
    kwrite(p.vma + VMA.vm_flags, kread(p.vma + VMA.vm_flags) & ~VM_LOCKED);
    expect(vmaList(p.mm)).toHaveLength(1);
    exitAll(p);
    expect(reports(p.dmesg())).toEqual([]);
  });
});
