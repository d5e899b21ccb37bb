// mm/page_alloc.c with include/linux/mm_types.h struct page: a free list of page frames, with the
// free-time checks ("BUG: Bad page state") and page poisoning. A frame is PAGE_WORDS words: enough
// for one page table of 512 32-bit entries; user data is not modelled.
import { cpuCtx } from '../cpu/context.js';
import { spin_lock, spin_unlock } from '../kernel/locking/spinlock.js';
import { add_taint, die, dump_stack, TAINT_BAD_PAGE } from '../kernel/panic.js';
import { hex8, KERN_ALERT, printk } from '../kernel/printk.js';
import { task_comm, task_pid } from '../kernel/task_struct.js';
import type { Arena, RegionSpec } from '../shm/arena.js';
import { mem } from '../shm/arena.js';
import { defineStruct } from '../shm/layout.js';
import { defineStatics } from '../shm/statics.js';
import { internCached } from '../shm/strtab.js';
import { type BadAccess, registerShadow, track } from './kasan.js';

export const PAGE = defineStruct('page', [
  'flags',
  '_refcount',
  '_mapcount',
  'mapping',
  'index',
  'ptl', // split page-table lock (ALLOC_SPLIT_PTLOCKS=n: embedded in struct page)
  'pt_mm',
  'state',
  'alloc_site',
  'alloc_pid',
  'free_site',
  'free_pid',
  'free_cpu',
  'next_free',
]);

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PAGE_WORDS_SHIFT = 9;
export const PAGE_WORDS = 1 << PAGE_WORDS_SHIFT;
/** include/linux/poison.h PAGE_POISON: what a freed frame reads as (CONFIG_PAGE_POISONING). */
export const PAGE_POISON = 0xaaaaaaaa | 0;

/**
 * Thread-local frame templates: a frame is zeroed / poisoned by copying one (`i32.set`, a memcpy:
 * about 90 ns per 2 KiB frame on the SharedArrayBuffer, where `fill` takes 170-330 ns).
 */
const ZERO_FRAME = new Int32Array(PAGE_WORDS);
const POISON_FRAME = new Int32Array(PAGE_WORDS).fill(PAGE_POISON);

/** Interned call-site names (struct page's alloc_site/free_site), one cache per side. */
const allocSiteId = internCached();
const freeSiteId = internCached();

const PS_FREE = 0;
const PS_ALLOCATED = 1;

// page->flags bits (include/linux/page-flags.h)
export const PG_anon = 1 << 0; // PAGE_MAPPING_ANON, kept as a flag for simplicity
export const PG_table = 1 << 1; // PageTable / __SetPageTable

export const __GFP_ZERO = 0x100;
export const GFP_KERNEL = 0xcc0;

export const PAGE_ALLOC = defineStatics('page_alloc', ['zone_lock', 'free_head', 'nr_free', 'nr_pages']);

export const MEM_MAP_REGION = 'mem_map';
export const FRAMES_REGION = 'page_frames';

export function pageAllocRegions(nrPages: number): RegionSpec[] {
  return [
    { name: MEM_MAP_REGION, words: nrPages * PAGE.SIZE },
    { name: FRAMES_REGION, words: nrPages * PAGE_WORDS },
  ];
}

const g = (f: keyof typeof PAGE_ALLOC.layout): number => PAGE_ALLOC.base() + (PAGE_ALLOC.layout[f] as number);
const ZONE_LOCK = PAGE_ALLOC.layout.zone_lock;
const FREE_HEAD = PAGE_ALLOC.layout.free_head;
const NR_FREE = PAGE_ALLOC.layout.nr_free;

// The two regions' bases, looked up by name once per arena (as statics.ts base() does): every
// pfn/page/frame conversion needs one, a fault a dozen or more.
let basesFor: Arena | undefined;
let memMapBase = 0;
let framesBase = 0;
function loadBases(): void {
  const a = mem.arena;
  memMapBase = a.region(MEM_MAP_REGION).base;
  framesBase = a.region(FRAMES_REGION).base;
  basesFor = a;
}
const memMap = (): number => {
  if (basesFor !== mem.arena) loadBases();
  return memMapBase;
};
const frames = (): number => {
  if (basesFor !== mem.arena) loadBases();
  return framesBase;
};

export function nr_pages(): number {
  return Atomics.load(mem.i32, g('nr_pages'));
}

export function pfn_to_page(pfn: number): number {
  return memMap() + pfn * PAGE.SIZE;
}

export function page_to_pfn(page: number): number {
  return (page - memMap()) / PAGE.SIZE;
}

/** highest_memmap_pfn: a PTE beyond it is a bad pfn. */
export function highest_memmap_pfn(): number {
  return nr_pages() - 1;
}

export function pfn_valid(pfn: number): boolean {
  return pfn >= 0 && pfn < nr_pages();
}

/** The frame of a page (lowmem: every page has a kernel address). */
export function page_address(page: number): number {
  return frames() + page_to_pfn(page) * PAGE_WORDS;
}

export function virt_to_page(addr: number): number {
  return pfn_to_page((addr - frames()) >> PAGE_WORDS_SHIFT);
}

/** Every frame free, in pfn order. */
export function page_alloc_reset(nrPages?: number): void {
  const i32 = mem.i32;
  const n = nrPages ?? Math.floor(mem.arena.region(MEM_MAP_REGION).words / PAGE.SIZE);
  const mm = memMap();
  i32.fill(0, mm, mm + n * PAGE.SIZE);
  for (let pfn = 0; pfn < n; pfn++) {
    const p = mm + pfn * PAGE.SIZE;
    i32[p + PAGE._mapcount] = -1;
    i32[p + PAGE.next_free] = pfn + 1 < n ? p + PAGE.SIZE : 0;
  }
  Atomics.store(i32, g('free_head'), n ? mm : 0);
  Atomics.store(i32, g('nr_free'), n);
  Atomics.store(i32, g('nr_pages'), n);
  Atomics.store(i32, g('zone_lock'), 0);
}

export function nr_free_pages(): number {
  return Atomics.load(mem.i32, g('nr_free'));
}

// mm/page_alloc.c alloc_pages(gfp, 0): returns a struct page, or 0 when out of memory.
export function alloc_page(gfp: number, site: string): number {
  const i32 = mem.i32;
  const z = PAGE_ALLOC.base();
  spin_lock(z + ZONE_LOCK);
  const page = i32[z + FREE_HEAD]!;
  if (page) {
    i32[z + FREE_HEAD] = i32[page + PAGE.next_free]!;
    Atomics.sub(i32, z + NR_FREE, 1);
  }
  spin_unlock(z + ZONE_LOCK);
  if (!page) return 0;
  i32[page + PAGE.flags] = 0;
  i32[page + PAGE._mapcount] = -1;
  i32[page + PAGE.mapping] = 0;
  i32[page + PAGE.index] = 0;
  i32[page + PAGE.pt_mm] = 0;
  i32[page + PAGE.alloc_site] = allocSiteId(site);
  i32[page + PAGE.alloc_pid] = task_pid(cpuCtx.current);
  Atomics.store(i32, page + PAGE._refcount, 1);
  if (gfp & __GFP_ZERO) {
    i32.set(ZERO_FRAME, page_address(page));
  }
  Atomics.store(i32, page + PAGE.state, PS_ALLOCATED);
  return page;
}

export function dump_page(page: number, reason: string): void {
  const i32 = mem.i32;
  printk(
    KERN_ALERT,
    [
      `page:${hex8(page)} refcount:${Atomics.load(i32, page + PAGE._refcount)} mapcount:${Atomics.load(i32, page + PAGE._mapcount) + 1} mapping:${hex8(i32[page + PAGE.mapping]!)} index:0x${(i32[page + PAGE.index]! >>> 0).toString(16)} pfn:0x${page_to_pfn(page).toString(16)}`,
      `flags: 0x${(i32[page + PAGE.flags]! >>> 0).toString(16)}`,
      `page dumped because: ${reason}`,
    ].join('\n'),
  );
}

// mm/page_alloc.c bad_page(): report and leak the page, as the kernel does.
function bad_page(page: number, reason: string): void {
  printk(
    KERN_ALERT,
    `BUG: Bad page state in process ${task_comm(cpuCtx.current)}  pfn:${page_to_pfn(page).toString(16).padStart(5, '0')}`,
  );
  dump_page(page, reason);
  dump_stack(KERN_ALERT);
  add_taint(TAINT_BAD_PAGE);
}

// mm/page_alloc.c free_pages_prepare() checks + __free_pages_ok(): the page goes back poisoned.
export function free_unref_page(page: number, site: string): void {
  const i32 = mem.i32;
  if (Atomics.load(i32, page + PAGE.state) !== PS_ALLOCATED) {
    bad_page(page, 'freeing a free page');
    return;
  }
  let bad = '';
  if (Atomics.load(i32, page + PAGE._mapcount) !== -1) bad = 'nonzero mapcount';
  else if (Atomics.load(i32, page + PAGE._refcount) !== 0) bad = 'nonzero _refcount';
  else if (i32[page + PAGE.mapping] !== 0 && !(i32[page + PAGE.flags]! & PG_anon)) bad = 'non-NULL mapping';
  if (bad) {
    bad_page(page, bad); // the page is leaked, as the kernel does
    return;
  }
  i32[page + PAGE.free_site] = freeSiteId(site);
  i32[page + PAGE.free_pid] = task_pid(cpuCtx.current);
  i32[page + PAGE.free_cpu] = cpuCtx.cpu;
  i32[page + PAGE.flags] = 0;
  i32[page + PAGE.mapping] = 0;
  Atomics.store(i32, page + PAGE.state, PS_FREE);
  // Poison with plain stores: only a buggy, racing reader can look at a free frame.
  i32.set(POISON_FRAME, page_address(page));
  const z = PAGE_ALLOC.base();
  spin_lock(z + ZONE_LOCK);
  i32[page + PAGE.next_free] = i32[z + FREE_HEAD]!;
  i32[z + FREE_HEAD] = page;
  Atomics.add(i32, z + NR_FREE, 1);
  spin_unlock(z + ZONE_LOCK);
}

export function __free_page(page: number, site: string): void {
  if (put_page_testzero(page)) free_unref_page(page, site);
}

export function page_ref_count(page: number): number {
  return Atomics.load(mem.i32, page + PAGE._refcount);
}

export function get_page(page: number): void {
  Atomics.add(mem.i32, page + PAGE._refcount, 1);
}

// include/linux/mm.h put_page_testzero(): VM_BUG_ON_PAGE(page_ref_count(page) == 0, page)
export function put_page_testzero(page: number): boolean {
  if (page_ref_count(page) === 0) {
    dump_page(page, 'VM_BUG_ON_PAGE(page_ref_count(page) == 0)');
    die('kernel BUG at include/linux/mm.h:put_page_testzero!', 'invalid opcode: 0000');
  }
  return Atomics.sub(mem.i32, page + PAGE._refcount, 1) === 1;
}

// include/linux/mm.h put_page()
export function put_page(page: number, site = 'put_page'): void {
  if (put_page_testzero(page)) free_unref_page(page, site);
}

export function page_is_allocated(page: number): boolean {
  return Atomics.load(mem.i32, page + PAGE.state) === PS_ALLOCATED;
}

function framesCheck(addr: number): BadAccess | null {
  const pfn = (addr - frames()) >> PAGE_WORDS_SHIFT;
  const page = pfn_to_page(pfn);
  const i32 = mem.i32;
  if (Atomics.load(i32, page + PAGE.state) === PS_ALLOCATED) return null;
  return {
    kind: 'use-after-free',
    details: [
      `The buggy address belongs to the physical page:`,
      `page:${hex8(page)} refcount:${Atomics.load(i32, page + PAGE._refcount)} mapcount:${Atomics.load(i32, page + PAGE._mapcount) + 1} pfn:0x${pfn.toString(16)}`,
      ...track('page last allocated', i32[page + PAGE.alloc_pid]!, -1, i32[page + PAGE.alloc_site]!),
      ...track(
        'page last freed',
        i32[page + PAGE.free_pid]!,
        i32[page + PAGE.free_cpu]!,
        i32[page + PAGE.free_site]!,
      ),
    ],
  };
}

registerShadow(FRAMES_REGION, {
  check: framesCheck,
  // A frame may be accessed while its struct page is allocated.
  objects: () => ({
    base: frames(),
    stride: PAGE_WORDS,
    objLo: 0,
    objHi: PAGE_WORDS,
    stateAt: memMap() + PAGE.state,
    stateStride: PAGE.SIZE,
    live: PS_ALLOCATED,
  }),
});
