// mm/slub.c, as much as KASAN needs: fixed-size caches in the arena; a freed object is poisoned
// (POISON_FREE) and parked in a quarantine, so a use-after-free reads poison and is reported
// with its allocation and free sites.
//
// SLAB_TYPESAFE_BY_RCU caches (include/linux/slab.h) delay the freeing of the slab *page* by a grace
// period, not the freeing of objects: a freed object keeps its contents (no poison), goes to the
// head of the free list (no quarantine) and is handed out again by the very next allocation, and
// allocation does not zero it (slab_want_init_on_alloc() excludes these caches), so a reader that
// raced with the free and the reuse still finds an object of the same type and must re-validate
// it. KASAN does not report accesses to such a freed object while it is type-stable. Slab pages
// are not modelled; instead the object stands for a slab page released at the earliest moment the
// kernel may release it: once a full grace period has elapsed since the free, an access to the
// still-free object is a use-after-free (no reader that was running when it was freed can still be
// inside its read-side section by then).
//
// A constructor (kmem_cache_create's `ctor`) runs on every object when the cache is reset (a new
// slab); caches with a ctor are neither zeroed on allocation nor poisoned on free, as in SLUB.
import { cpuCtx } from '../cpu/context.js';
import { spin_lock, spin_unlock } from '../kernel/locking/spinlock.js';
import { hex8 } from '../kernel/printk.js';
import { call_rcu, defineRcuCallback } from '../kernel/rcu/callbacks.js';
import { get_state_synchronize_rcu, poll_state_synchronize_rcu } from '../kernel/rcu/tree.js';
import { task_pid } from '../kernel/task_struct.js';
import type { RegionSpec } from '../shm/arena.js';
import { mem } from '../shm/arena.js';
import { registerRestoreExtent } from '../shm/arena_snapshot.js';
import { assertLayoutOpen } from '../shm/layout_seal.js';
import { internCached } from '../shm/strtab.js';
import { type BadAccess, kasan_report_invalid_free, registerShadow, track } from './kasan.js';

export const POISON_FREE = 0x6b6b6b6b;
export const SLAB_TYPESAFE_BY_RCU = 0x00080000;

// Object header words (the object follows, 4-word aligned so pointers have two free low bits).
const OH_STATE = 0;
const OH_ALLOC_SITE = 1;
const OH_ALLOC_PID = 2;
const OH_ALLOC_CPU = 3;
const OH_FREE_SITE = 4;
const OH_FREE_PID = 5;
const OH_FREE_CPU = 6;
const OH_NEXT = 7;
const OBJ_HDR = 8;
// SLAB_TYPESAFE_BY_RCU caches only: the get_state_synchronize_rcu() cookie of the last free.
const OH_RCU_COOKIE = 8;
const OBJ_HDR_TYPESAFE = 12;
/** OH_RCU_COOKIE of an object not freed since its allocation (never a gp_seq snapshot: odd). */
const RCU_COOKIE_NONE = 3;

const OBJ_FREE = 0;
const OBJ_LIVE = 1;
const OBJ_QUARANTINED = 2;
/** Freed from a SLAB_TYPESAFE_BY_RCU cache: on the free list, still an object of its type. */
const OBJ_TYPESAFE_FREE = 3;

// Cache header words.
const K_LOCK = 0;
const K_FREE = 1;
const K_QHEAD = 2;
const K_QTAIL = 3;
const K_QLEN = 4;
const K_LIVE = 5;
const K_ALLOCS = 6;
const CACHE_HDR = 8;

export interface KmemCache {
  readonly name: string;
  readonly objWords: number;
  readonly objects: number;
  readonly flags: number;
  /** Header words before each object. */
  readonly hdr: number;
  readonly stride: number;
  readonly region: RegionSpec;
  /** Constructor run on every object of a new slab (here: at every cache reset). */
  readonly ctor?: (obj: number) => void;
}

/** Interned call-site names for the object headers, one cache per side. */
const allocSiteId = internCached();
const freeSiteId = internCached();

const caches = new Map<string, KmemCache>();
const byRegion = new Map<string, KmemCache>();

// mm/slab_common.c kmem_cache_create() (static: caches are part of the machine's layout)
export function kmem_cache_create(
  name: string,
  objWords: number,
  objects: number,
  flags = 0,
  ctor?: (obj: number) => void,
): KmemCache {
  assertLayoutOpen(`kmem_cache_create('${name}')`);
  const hdr = flags & SLAB_TYPESAFE_BY_RCU ? OBJ_HDR_TYPESAFE : OBJ_HDR;
  const stride = hdr + Math.ceil(objWords / 4) * 4;
  const c: KmemCache = {
    name,
    objWords,
    objects,
    flags,
    hdr,
    stride,
    region: { name: `slab:${name}`, words: CACHE_HDR + objects * stride },
    ...(ctor ? { ctor } : {}),
  };
  caches.set(name, c);
  byRegion.set(c.region.name, c);
  // Never-used objects go out in index order, each counted in K_ALLOCS; a freed one goes out
  // again only from the quarantine or the head of the free list: runs write a prefix of slots.
  // Every object handed out (or garbage in the count): the whole region, its padding included.
  registerRestoreExtent(c.region.name, () => {
    const allocs = mem.i32[base(c) + K_ALLOCS]!;
    return allocs < c.objects ? CACHE_HDR + allocs * c.stride : Number.POSITIVE_INFINITY;
  });
  registerShadow(c.region.name, {
    check: (addr) => slabCheck(c, addr),
    // A live object's words; everything else (the cache header, slot headers, a freed object,
    // a type-stable one) is for slabCheck to decide.
    objects: () => ({
      base: base(c) + CACHE_HDR,
      stride: c.stride,
      objLo: c.hdr,
      objHi: c.hdr + c.objWords,
      stateAt: base(c) + CACHE_HDR + OH_STATE,
      stateStride: c.stride,
      live: OBJ_LIVE,
    }),
  });
  return c;
}

export function slabRegions(): RegionSpec[] {
  return [...caches.values()].map((c) => c.region).sort((a, b) => a.name.localeCompare(b.name));
}

export function allCaches(): KmemCache[] {
  return [...caches.values()];
}

const baseCache = new WeakMap<KmemCache, { arena: unknown; base: number }>();

function base(c: KmemCache): number {
  const hit = baseCache.get(c);
  if (hit && hit.arena === mem.arena) return hit.base;
  const b = mem.arena.region(c.region.name).base;
  baseCache.set(c, { arena: mem.arena, base: b });
  return b;
}

function slot(c: KmemCache, i: number): number {
  return base(c) + CACHE_HDR + i * c.stride;
}

function typesafe(c: KmemCache): boolean {
  return (c.flags & SLAB_TYPESAFE_BY_RCU) !== 0;
}

/** Allocation leaves the previous contents (SLUB's slab_want_init_on_alloc() is false). */
function keepsContents(c: KmemCache): boolean {
  return typesafe(c) || c.ctor !== undefined;
}

/** Empties the cache: every object free, nothing quarantined. */
export function kmem_cache_reset(c: KmemCache): void {
  const i32 = mem.i32;
  const b = base(c);
  i32.fill(0, b, b + CACHE_HDR);
  const first = b + CACHE_HDR;
  const { objects, stride } = c;
  const keeps = keepsContents(c);
  const rcu = typesafe(c);
  for (let i = 0; i < objects; i++) {
    const s = first + i * stride;
    i32[s + OH_STATE] = OBJ_FREE;
    i32[s + OH_NEXT] = i + 1 < objects ? s + stride : 0;
    if (keeps) {
      // A new slab: objects start zeroed and constructed, since allocation will not touch them.
      i32.fill(0, s + OBJ_HDR, s + stride);
      if (rcu) i32[s + OH_RCU_COOKIE] = RCU_COOKIE_NONE;
      c.ctor?.(s + c.hdr);
    }
  }
  i32[b + K_FREE] = c.objects ? slot(c, 0) : 0;
  Atomics.store(i32, b + K_LOCK, 0);
}

// mm/slub.c kmem_cache_alloc(): returns the object (zeroed), or 0 when the cache is exhausted.
export function kmem_cache_alloc(c: KmemCache, site: string): number {
  const i32 = mem.i32;
  const b = base(c);
  spin_lock(b + K_LOCK);
  let s = i32[b + K_FREE]!;
  if (s) i32[b + K_FREE] = i32[s + OH_NEXT]!;
  else if (i32[b + K_QLEN]! > 0) {
    // Out of never-used objects: recycle the oldest quarantined one.
    s = i32[b + K_QHEAD]!;
    i32[b + K_QHEAD] = i32[s + OH_NEXT]!;
    if (!i32[b + K_QHEAD]) i32[b + K_QTAIL] = 0;
    i32[b + K_QLEN]!--;
  }
  if (s) {
    i32[b + K_LIVE]!++;
    i32[b + K_ALLOCS]!++;
  }
  spin_unlock(b + K_LOCK);
  if (!s) return 0;
  const obj = s + c.hdr;
  if (!keepsContents(c)) i32.fill(0, obj, obj + c.objWords);
  i32[s + OH_ALLOC_SITE] = allocSiteId(site);
  i32[s + OH_ALLOC_PID] = task_pid(cpuCtx.current);
  i32[s + OH_ALLOC_CPU] = cpuCtx.cpu;
  i32[s + OH_FREE_SITE] = 0;
  if (typesafe(c)) Atomics.store(i32, s + OH_RCU_COOKIE, RCU_COOKIE_NONE);
  Atomics.store(i32, s + OH_STATE, OBJ_LIVE);
  return obj;
}

// mm/slub.c kmem_cache_free(): a double or invalid free is reported by KASAN and ignored.
export function kmem_cache_free(c: KmemCache, obj: number, site: string): void {
  const i32 = mem.i32;
  const s = obj - c.hdr;
  const rel = s - base(c) - CACHE_HDR;
  if (rel < 0 || rel % c.stride !== 0 || rel / c.stride >= c.objects) {
    kasan_report_invalid_free(obj, c.name, 'invalid-free');
    return;
  }
  const freed = typesafe(c) ? OBJ_TYPESAFE_FREE : OBJ_QUARANTINED;
  if (Atomics.compareExchange(i32, s + OH_STATE, OBJ_LIVE, freed) !== OBJ_LIVE) {
    kasan_report_invalid_free(obj, c.name, 'double-free');
    return;
  }
  if (freed === OBJ_TYPESAFE_FREE) {
    freeTypesafeObject(c, s, site);
    return;
  }
  if (!c.ctor) i32.fill(POISON_FREE, obj, obj + c.objWords);
  i32[s + OH_FREE_SITE] = freeSiteId(site);
  i32[s + OH_FREE_PID] = task_pid(cpuCtx.current);
  i32[s + OH_FREE_CPU] = cpuCtx.cpu;
  const b = base(c);
  spin_lock(b + K_LOCK);
  i32[s + OH_NEXT] = 0;
  const tail = i32[b + K_QTAIL]!;
  if (tail) i32[tail + OH_NEXT] = s;
  else i32[b + K_QHEAD] = s;
  i32[b + K_QTAIL] = s;
  i32[b + K_QLEN]!++;
  i32[b + K_LIVE]!--;
  spin_unlock(b + K_LOCK);
}

/** The rest of kmem_cache_free() for a SLAB_TYPESAFE_BY_RCU cache: no poison, no quarantine. */
function freeTypesafeObject(c: KmemCache, s: number, site: string): void {
  const i32 = mem.i32;
  i32[s + OH_FREE_SITE] = freeSiteId(site);
  i32[s + OH_FREE_PID] = task_pid(cpuCtx.current);
  i32[s + OH_FREE_CPU] = cpuCtx.cpu;
  // From here a grace period must pass before the object's slab may be released.
  Atomics.store(i32, s + OH_RCU_COOKIE, get_state_synchronize_rcu());
  const b = base(c);
  spin_lock(b + K_LOCK);
  i32[s + OH_NEXT] = i32[b + K_FREE]!;
  i32[b + K_FREE] = s;
  i32[b + K_LIVE]!--;
  spin_unlock(b + K_LOCK);
}

/** Every live object of the cache (a debugging walk, as /proc/slabinfo users or for_each_process do). */
export function kmem_cache_live_objects(c: KmemCache): number[] {
  const out: number[] = [];
  for (let i = 0; i < c.objects; i++) {
    const s = slot(c, i);
    if (Atomics.load(mem.i32, s + OH_STATE) === OBJ_LIVE) out.push(s + OBJ_HDR);
  }
  return out;
}

export function kmem_cache_live(c: KmemCache): number {
  return Atomics.load(mem.i32, base(c) + K_LIVE);
}

export function slab_is_live(c: KmemCache, obj: number): boolean {
  return Atomics.load(mem.i32, obj - c.hdr + OH_STATE) === OBJ_LIVE;
}

// mm/slab.h virt_to_cache(), v6.6: the cache an object belongs to, from its address alone.
export function virt_to_cache(obj: number): KmemCache | undefined {
  const id = mem.arena.regionOf(obj);
  return id < 0 ? undefined : byRegion.get(mem.arena.regions[id]!.name);
}

/** The built-in RCU callback behind kfree_rcu(): frees the object into the cache it belongs to. */
const KFREE_RCU_CB = defineRcuCallback('kfree_rcu', (obj) => {
  const c = virt_to_cache(obj);
  if (c) kmem_cache_free(c, obj, 'kfree_rcu');
  else kasan_report_invalid_free(obj, '?', 'invalid-free');
});

// include/linux/rcupdate.h kfree_rcu(), v6.6 (kvfree_call_rcu() in kernel/rcu/tree.c): free `obj`
// into `c` after a grace period. The emulator's callback record holds the pointer, so the object
// needs no embedded rcu_head.
export function kfree_rcu(c: KmemCache, obj: number): void {
  if (virt_to_cache(obj) !== c) {
    kasan_report_invalid_free(obj, c.name, 'invalid-free');
    return;
  }
  call_rcu(obj, KFREE_RCU_CB);
}

/**
 * A word between objects (a slot's header or its padding): KASAN's redzone, slab-out-of-bounds
 * whatever the neighbours' states, described against the object to its left as the kernel does.
 */
function redzone(c: KmemCache, addr: number, idx: number, inSlot: number): BadAccess {
  const left = inSlot < c.hdr ? idx - 1 : idx;
  const size = c.objWords * 4;
  if (left < 0)
    return {
      kind: 'slab-out-of-bounds',
      details: [`The buggy address ${hex8(addr)} is in the cache ${c.name}'s first redzone`],
    };
  const s = base(c) + CACHE_HDR + left * c.stride;
  const obj = s + c.hdr;
  const i32 = mem.i32;
  return {
    kind: 'slab-out-of-bounds',
    details: [
      ...track('Allocated', i32[s + OH_ALLOC_PID]!, i32[s + OH_ALLOC_CPU]!, i32[s + OH_ALLOC_SITE]!),
      '',
      `The buggy address belongs to the object at ${hex8(obj)}`,
      ` which belongs to the cache ${c.name} of size ${size}`,
      `The buggy address is located ${(addr - obj - c.objWords) * 4} bytes to the right of`,
      ` ${size}-byte region [${hex8(obj)}, ${hex8(obj + c.objWords)})`,
    ],
  };
}

function slabCheck(c: KmemCache, addr: number): BadAccess | null {
  const i32 = mem.i32;
  const rel = addr - base(c) - CACHE_HDR;
  if (rel < 0) return null; // the cache's own header (its lock, lists): not an object
  const idx = Math.floor(rel / c.stride);
  const inSlot = rel - idx * c.stride;
  const s = base(c) + CACHE_HDR + idx * c.stride;
  const state = rel < 0 ? -1 : Atomics.load(i32, s + OH_STATE);
  const inObject = inSlot >= c.hdr && inSlot - c.hdr < c.objWords;
  if (state === OBJ_LIVE && inObject) return null;
  let released = false;
  if (state === OBJ_TYPESAFE_FREE && inObject) {
    // Type-stable until a grace period has elapsed since the free (read after the state: a racing
    // reallocation resets the cookie to RCU_COOKIE_NONE).
    const cookie = Atomics.load(i32, s + OH_RCU_COOKIE);
    if (cookie === RCU_COOKIE_NONE || !poll_state_synchronize_rcu(cookie)) return null;
    released = true;
  }
  if (!inObject) return redzone(c, addr, idx, inSlot);
  const obj = s + c.hdr;
  const size = c.objWords * 4;
  const off = (addr - obj) * 4;
  const freed = state !== OBJ_LIVE;
  const details = [
    ...track('Allocated', i32[s + OH_ALLOC_PID]!, i32[s + OH_ALLOC_CPU]!, i32[s + OH_ALLOC_SITE]!),
    '',
    ...(freed ? track('Freed', i32[s + OH_FREE_PID]!, i32[s + OH_FREE_CPU]!, i32[s + OH_FREE_SITE]!) : []),
    '',
    `The buggy address belongs to the object at ${hex8(obj)}`,
    ` which belongs to the cache ${c.name} of size ${size}`,
    `The buggy address is located ${off} bytes inside of`,
    ` ${freed ? 'freed ' : ''}${size}-byte region [${hex8(obj)}, ${hex8(obj + c.objWords)})`,
    ...(released
      ? [
          `The cache ${c.name} is SLAB_TYPESAFE_BY_RCU and a grace period has elapsed since the free:`,
          ' the slab holding the object may have been returned to the page allocator',
        ]
      : []),
  ];
  if (!freed) return { kind: 'slab-out-of-bounds', details };
  return { kind: state === OBJ_QUARANTINED ? 'slab-use-after-free' : 'use-after-free', details };
}
