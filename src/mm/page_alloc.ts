// mm/page_alloc.c with include/linux/mm_types.h struct page: a free list of page frames, with the
// free-time checks ("BUG: Bad page state") and page poisoning. A frame is PAGE_WORDS words: enough
// for one page table of 512 32-bit entries; user data is there only where a scenario stores it
// (a user store through the page tables) and wp_page_copy() copies it (copy_user_highpage()).
//
// User pages are highmem (__GFP_HIGHMEM: i386 PAE has no permanent kernel mapping for them, the
// kernel zeroes one through kmap in clear_user_highpage()). Their frames hold no data here, and
// only a stale table pointer makes kernel code read one, so a zeroed highmem page whose frame still
// holds the poison of its last free is not zeroed at allocation: the first KASAN-checked access
// zeroes it (framesCheck), and a free that finds it untouched need not poison it again. Every
// checked access sees what it saw when the allocator zeroed and poisoned eagerly.
import { cpuCtx } from '../cpu/context.js';
import { spin_lock, spin_unlock } from '../kernel/locking/spinlock.js';
import { add_taint, die, dump_stack, TAINT_BAD_PAGE } from '../kernel/panic.js';
import { hex8, KERN_ALERT, printk } from '../kernel/printk.js';
import { TASK, task_comm } from '../kernel/task_struct.js';
import type { Arena, RegionSpec } from '../shm/arena.js';
import { mem } from '../shm/arena.js';
import { registerRestoreExtent } from '../shm/arena_snapshot.js';
import { defineStruct } from '../shm/layout.js';
import { defineStatics } from '../shm/statics.js';
import { internCached } from '../shm/strtab.js';
import { type BadAccess, kasan_check, registerShadow, track } from './kasan.js';

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

// page->state (mmrace's, for KASAN and the bad-page checks). KASAN's fast path passes PS_ALLOCATED.
/** Free; what its frame holds is not known (a new arena, a page allocated at a reset, a bad write). */
const PS_FREE = 0;
const PS_ALLOCATED = 1;
/** Free, and every word of its frame is PAGE_POISON. */
const PS_FREE_POISONED = 2;
/** Allocated highmem page with __GFP_ZERO pending: its frame still holds the poison. */
const PS_CLEAR = 3;
/** A PS_CLEAR page whose first kernel access is zeroing it now. */
const PS_CLEARING = 4;

// page->flags bits (include/linux/page-flags.h)
export const PG_anon = 1 << 0; // PAGE_MAPPING_ANON, kept as a flag for simplicity
export const PG_table = 1 << 1; // PageTable / __SetPageTable

// include/linux/gfp_types.h, v6.1 values
export const __GFP_HIGHMEM = 0x02;
export const __GFP_MOVABLE = 0x08;
export const __GFP_ZERO = 0x100;
export const __GFP_HARDWALL = 0x100000;
export const GFP_KERNEL = 0xcc0;
export const GFP_USER = GFP_KERNEL | __GFP_HARDWALL;
export const GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM;
/** A user page: do_anonymous_page(), wp_page_copy(), the shmem page cache. */
export const GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE;

/** frames_used (mmrace's): frames [0, frames_used) were handed out since the allocator's reset. */
export const PAGE_ALLOC = defineStatics('page_alloc', [
  'zone_lock',
  'free_head',
  'nr_free',
  'nr_pages',
  'frames_used',
]);

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
const FRAMES_USED = PAGE_ALLOC.layout.frames_used;

// The free list starts in pfn order and a freed page goes back on its head, so the frames handed
// out are always [0, frames_used): a snapshot's restore copies back only those.
registerRestoreExtent(FRAMES_REGION, () => Atomics.load(mem.i32, g('frames_used')) * PAGE_WORDS);

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

/**
 * The frame of page frame number `pfn`: page_address(pfn_to_page(pfn)) without the round trip
 * through struct page (a division by PAGE.SIZE), the page-table walk's step from an entry to the
 * table it points at.
 */
export function pfn_to_frame(pfn: number): number {
  return frames() + pfn * PAGE_WORDS;
}

/** The frame of a page (lowmem: every page has a kernel address). */
export function page_address(page: number): number {
  return pfn_to_frame(page_to_pfn(page));
}

// include/linux/highmem.h copy_user_highpage(), the frame of `from` into the frame of `to` (kmap_local
// both, copy_page()): wp_page_copy()'s cow_user_page(). User data lives in the frames from here on
// only where a scenario stores it (its "MMU": a store through the page tables); the copy is
// KASAN-checked at both ends, which runs a deferred __GFP_ZERO first. Not atomic, as copy_page().
export function copy_user_highpage(to: number, from: number): void {
  const src = page_address(from);
  const dst = page_address(to);
  kasan_check(src, false);
  kasan_check(dst, true);
  mem.i32.copyWithin(dst, src, src + PAGE_WORDS);
}

export function virt_to_page(addr: number): number {
  return pfn_to_page((addr - frames()) >> PAGE_WORDS_SHIFT);
}

/** Every frame free, in pfn order. Frames are not touched: a free one known poisoned stays so. */
export function page_alloc_reset(nrPages?: number): void {
  const i32 = mem.i32;
  const n = nrPages ?? Math.floor(mem.arena.region(MEM_MAP_REGION).words / PAGE.SIZE);
  const mm = memMap();
  const poisoned = new Uint8Array(n);
  for (let pfn = 0; pfn < n; pfn++)
    poisoned[pfn] = +(i32[mm + pfn * PAGE.SIZE + PAGE.state] === PS_FREE_POISONED);
  i32.fill(0, mm, mm + n * PAGE.SIZE);
  for (let pfn = 0; pfn < n; pfn++) {
    const p = mm + pfn * PAGE.SIZE;
    i32[p + PAGE._mapcount] = -1;
    i32[p + PAGE.next_free] = pfn + 1 < n ? p + PAGE.SIZE : 0;
    if (poisoned[pfn]) i32[p + PAGE.state] = PS_FREE_POISONED;
  }
  Atomics.store(i32, g('free_head'), n ? mm : 0);
  Atomics.store(i32, g('nr_free'), n);
  Atomics.store(i32, g('nr_pages'), n);
  Atomics.store(i32, g('frames_used'), 0);
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
    const used = (page - memMap()) / PAGE.SIZE + 1;
    if (used > i32[z + FRAMES_USED]!) i32[z + FRAMES_USED] = used;
  }
  spin_unlock(z + ZONE_LOCK);
  if (!page) return 0;
  i32[page + PAGE.flags] = 0;
  i32[page + PAGE._mapcount] = -1;
  i32[page + PAGE.mapping] = 0;
  i32[page + PAGE.index] = 0;
  i32[page + PAGE.pt_mm] = 0;
  i32[page + PAGE.alloc_site] = allocSiteId(site);
  i32[page + PAGE.alloc_pid] = current_pid();
  Atomics.store(i32, page + PAGE._refcount, 1);
  if (gfp & __GFP_ZERO) {
    // A highmem page still poisoned from its free is zeroed by its first kernel access, if any.
    if (
      gfp & __GFP_HIGHMEM &&
      Atomics.compareExchange(i32, page + PAGE.state, PS_FREE_POISONED, PS_CLEAR) === PS_FREE_POISONED
    )
      return page;
    i32.set(ZERO_FRAME, page_address(page));
  }
  Atomics.store(i32, page + PAGE.state, PS_ALLOCATED);
  return page;
}

/** task_pid(current) for the page's tracks: a task's pid is set before it runs and never changes. */
function current_pid(): number {
  const t = cpuCtx.current;
  return t > 0 && t < mem.i32.length ? mem.i32[t + TASK.pid]! : 0;
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
  let state = Atomics.load(i32, page + PAGE.state);
  if (!allocated(state)) {
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
  i32[page + PAGE.free_pid] = current_pid();
  i32[page + PAGE.free_cpu] = cpuCtx.cpu;
  i32[page + PAGE.flags] = 0;
  i32[page + PAGE.mapping] = 0;
  // A racing first access may be zeroing a PS_CLEAR frame (framesCheck): let it finish.
  while (state === PS_CLEARING) state = Atomics.load(i32, page + PAGE.state);
  // Untouched since its allocation, the frame still holds the poison; else poison it now.
  if (
    state !== PS_CLEAR ||
    Atomics.compareExchange(i32, page + PAGE.state, PS_CLEAR, PS_FREE_POISONED) !== PS_CLEAR
  ) {
    Atomics.store(i32, page + PAGE.state, PS_FREE_POISONED);
    // Poison with plain stores: only a buggy, racing reader can look at a free frame.
    i32.set(POISON_FRAME, page_address(page));
  }
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

const allocated = (state: number): boolean =>
  state === PS_ALLOCATED || state === PS_CLEAR || state === PS_CLEARING;

export function page_is_allocated(page: number): boolean {
  return allocated(Atomics.load(mem.i32, page + PAGE.state));
}

// KASAN's slow path for a frame: not PS_ALLOCATED. A PS_CLEAR frame is zeroed here (the
// allocator's deferred __GFP_ZERO) and passes; a free one is reported.
function framesCheck(addr: number, write: boolean): BadAccess | null {
  const pfn = (addr - frames()) >> PAGE_WORDS_SHIFT;
  const page = pfn_to_page(pfn);
  const i32 = mem.i32;
  const at = page + PAGE.state;
  let state = Atomics.load(i32, at);
  for (; allocated(state); state = Atomics.load(i32, at)) {
    if (state === PS_ALLOCATED) return null;
    if (state === PS_CLEAR && Atomics.compareExchange(i32, at, PS_CLEAR, PS_CLEARING) === PS_CLEAR) {
      i32.set(ZERO_FRAME, page_address(page));
      Atomics.store(i32, at, PS_ALLOCATED);
      return null;
    }
    // PS_CLEARING: another CPU's first access is zeroing the frame (no preemption point inside).
  }
  // A bad write goes on (as KASAN lets it): the free frame is no longer all poison.
  if (write && state === PS_FREE_POISONED) Atomics.compareExchange(i32, at, PS_FREE_POISONED, PS_FREE);
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
