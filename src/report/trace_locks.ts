// Names for the locks of a trace. The CPUs record a lock by its address only (no cost at the
// lock); here, after the run, the address is mapped back through the arena's layout: its region,
// the slab object or struct page it falls in, and the struct field (mm_struct.mmap_sem,
// page.ptl, mm_struct.mmap_sem.wait_lock, oom_kill.oom_reaper_lock). Works on freed memory too:
// only addresses and layouts are used, never the lock's contents.
import { RWSEM } from '../kernel/locking/rwsem_types.js';
import { SIGNAL, TASK } from '../kernel/task_struct.js';
import { MM, VMA } from '../mm/mm_types.js';
import { OOM } from '../mm/oom_kill.js';
import { MEM_MAP_REGION, PAGE, PAGE_ALLOC } from '../mm/page_alloc.js';
import { allCaches, type KmemCache } from '../mm/slab.js';
import type { Arena } from '../shm/arena.js';

type AnyLayout = { readonly SIZE: number; readonly NAME: string } & Record<string, number | string>;

const SLAB_LAYOUTS: Record<string, AnyLayout> = {
  mm_struct: MM as unknown as AnyLayout,
  vm_area_struct: VMA as unknown as AnyLayout,
  task_struct: TASK as unknown as AnyLayout,
  signal_cache: SIGNAL as unknown as AnyLayout,
};

const STATICS_LAYOUTS: Record<string, AnyLayout> = {
  [OOM.region.name]: OOM.layout as unknown as AnyLayout,
  [PAGE_ALLOC.region.name]: PAGE_ALLOC.layout as unknown as AnyLayout,
};

export interface LockLabel {
  /** The lock's class-like name: struct.field ('mm_struct.mmap_sem', 'page.ptl'). */
  name: string;
  /** Which instance: 'mm_struct #0', 'pfn 0x13', or the region. */
  instance: string;
}

/** Field `off` words into a struct of `layout`: 'mmap_sem', 'mmap_sem.wait_lock', 'rss_stat+2'. */
export function fieldName(layout: AnyLayout, off: number): string {
  const fields = Object.entries(layout)
    .filter((e): e is [string, number] => e[0] !== 'SIZE' && e[0] !== 'NAME' && typeof e[1] === 'number')
    .sort((a, b) => a[1] - b[1]);
  let at = -1;
  for (let i = 0; i < fields.length; i++) if (fields[i]![1] <= off) at = i;
  if (at < 0 || off >= layout.SIZE) return `+${off}`;
  const [name, start] = fields[at]!;
  const size = (at + 1 < fields.length ? fields[at + 1]![1] : layout.SIZE) - start;
  const sub = off - start;
  if (sub === 0) return name;
  if (size === RWSEM.SIZE) return `${name}.${fieldName(RWSEM as unknown as AnyLayout, sub)}`;
  return `${name}+${sub}`;
}

/** A resolver of lock addresses for `arena` (the arena the trace was recorded in). */
export function lockNamer(arena: Arena): (addr: number) => LockLabel {
  const caches = new Map<string, KmemCache>();
  for (const c of allCaches()) caches.set(c.region.name, c);
  const memo = new Map<number, LockLabel>();
  const resolve = (addr: number): LockLabel => {
    const id = arena.regionOf(addr);
    if (id < 0) return { name: `lock@0x${(addr >>> 0).toString(16)}`, instance: 'outside the arena' };
    const r = arena.regions[id]!;
    const off = addr - r.base;
    const cache = caches.get(r.name);
    if (cache) {
      const hdrWords = cache.region.words - cache.objects * cache.stride; // the cache's own header
      const rel = off - hdrWords;
      const i = Math.floor(rel / cache.stride);
      const inObj = rel - i * cache.stride - cache.hdr;
      const layout = SLAB_LAYOUTS[cache.name];
      if (rel < 0 || i >= cache.objects || inObj < 0)
        return { name: off === 0 ? `kmem_cache(${cache.name}).lock` : `${r.name}+${off}`, instance: r.name };
      return {
        name: layout ? `${cache.name}.${fieldName(layout, inObj)}` : `${cache.name}+${inObj}`,
        instance: `${cache.name} #${i}`,
      };
    }
    if (r.name === MEM_MAP_REGION) {
      const pfn = Math.floor(off / PAGE.SIZE);
      return {
        name: `page.${fieldName(PAGE as unknown as AnyLayout, off - pfn * PAGE.SIZE)}`,
        instance: `pfn 0x${pfn.toString(16)}`,
      };
    }
    const statics = STATICS_LAYOUTS[r.name];
    if (statics) return { name: `${r.name.slice(5)}.${fieldName(statics, off)}`, instance: r.name };
    return { name: `${r.name}+${off}`, instance: r.name };
  };
  return (addr) => {
    let l = memo.get(addr);
    if (!l) memo.set(addr, (l = resolve(addr)));
    return l;
  };
}
