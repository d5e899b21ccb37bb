// mm/rmap.c: the reverse-map counters of an anonymous page. _mapcount starts at -1 (unmapped).
// anon_vma chains are not modelled: no scenario here walks rmap from the page side.
import { mem } from '../shm/arena.js';
import { kread } from './kasan.js';
import { VMA } from './mm_types.js';
import { PAGE, PG_anon } from './page_alloc.js';

// mm/rmap.c page_add_new_anon_rmap(), v4.14
export function page_add_new_anon_rmap(page: number, vma: number, address: number): void {
  const i32 = mem.i32;
  Atomics.store(i32, page + PAGE._mapcount, 0);
  i32[page + PAGE.flags]! |= PG_anon;
  i32[page + PAGE.mapping] = vma;
  i32[page + PAGE.index] = ((address - (kread(vma + VMA.vm_start) >>> 0)) >>> 12) + kread(vma + VMA.vm_pgoff);
}

// mm/rmap.c page_remove_rmap(), v4.14: atomic_add_negative(-1, &page->_mapcount)
export function page_remove_rmap(page: number): void {
  Atomics.sub(mem.i32, page + PAGE._mapcount, 1);
}

// include/linux/mm.h page_mapcount()
export function page_mapcount(page: number): number {
  return Atomics.load(mem.i32, page + PAGE._mapcount) + 1;
}
