// mm/slub.c, as much as KASAN needs: fixed-size caches in the arena; a freed object is poisoned
// (POISON_FREE) and parked in a quarantine, so a use-after-free reads poison and is reported
// with its allocation and free sites.
import { cpuCtx } from '../cpu/context.js';
import { spin_lock, spin_unlock } from '../kernel/locking/spinlock.js';
import { hex8 } from '../kernel/printk.js';
import { task_pid } from '../kernel/task_struct.js';
import type { RegionSpec } from '../shm/arena.js';
import { mem } from '../shm/arena.js';
import { intern } from '../shm/strtab.js';
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

const OBJ_FREE = 0;
const OBJ_LIVE = 1;
const OBJ_QUARANTINED = 2;

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
  readonly stride: number;
  readonly region: RegionSpec;
}

const caches = new Map<string, KmemCache>();

// mm/slab_common.c kmem_cache_create() (static: caches are part of the machine's layout)
export function kmem_cache_create(name: string, objWords: number, objects: number, flags = 0): KmemCache {
  const stride = OBJ_HDR + Math.ceil(objWords / 4) * 4;
  const c: KmemCache = {
    name,
    objWords,
    objects,
    flags,
    stride,
    region: { name: `slab:${name}`, words: CACHE_HDR + objects * stride },
  };
  caches.set(name, c);
  registerShadow(c.region.name, { check: (addr) => slabCheck(c, addr) });
  return c;
}

export function slabRegions(): RegionSpec[] {
  return [...caches.values()].map((c) => c.region).sort((a, b) => a.name.localeCompare(b.name));
}

export function allCaches(): KmemCache[] {
  return [...caches.values()];
}

function base(c: KmemCache): number {
  return mem.arena.region(c.region.name).base;
}

function slot(c: KmemCache, i: number): number {
  return base(c) + CACHE_HDR + i * c.stride;
}

/** Empties the cache: every object free, nothing quarantined. */
export function kmem_cache_reset(c: KmemCache): void {
  const i32 = mem.i32;
  const b = base(c);
  i32.fill(0, b, b + CACHE_HDR);
  for (let i = 0; i < c.objects; i++) {
    const s = slot(c, i);
    i32[s + OH_STATE] = OBJ_FREE;
    i32[s + OH_NEXT] = i + 1 < c.objects ? slot(c, i + 1) : 0;
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
  const obj = s + OBJ_HDR;
  i32.fill(0, obj, obj + c.objWords);
  i32[s + OH_ALLOC_SITE] = intern(site);
  i32[s + OH_ALLOC_PID] = task_pid(cpuCtx.current);
  i32[s + OH_ALLOC_CPU] = cpuCtx.cpu;
  i32[s + OH_FREE_SITE] = 0;
  Atomics.store(i32, s + OH_STATE, OBJ_LIVE);
  return obj;
}

// mm/slub.c kmem_cache_free(): a double or invalid free is reported by KASAN and ignored.
export function kmem_cache_free(c: KmemCache, obj: number, site: string): void {
  const i32 = mem.i32;
  const s = obj - OBJ_HDR;
  const rel = s - base(c) - CACHE_HDR;
  if (rel < 0 || rel % c.stride !== 0 || rel / c.stride >= c.objects) {
    kasan_report_invalid_free(obj, c.name, 'invalid-free');
    return;
  }
  if (Atomics.compareExchange(i32, s + OH_STATE, OBJ_LIVE, OBJ_QUARANTINED) !== OBJ_LIVE) {
    kasan_report_invalid_free(obj, c.name, 'double-free');
    return;
  }
  i32.fill(POISON_FREE, obj, obj + c.objWords);
  i32[s + OH_FREE_SITE] = intern(site);
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

export function kmem_cache_live(c: KmemCache): number {
  return Atomics.load(mem.i32, base(c) + K_LIVE);
}

export function slab_is_live(_c: KmemCache, obj: number): boolean {
  return Atomics.load(mem.i32, obj - OBJ_HDR + OH_STATE) === OBJ_LIVE;
}

function slabCheck(c: KmemCache, addr: number): BadAccess | null {
  const i32 = mem.i32;
  const rel = addr - base(c) - CACHE_HDR;
  const idx = Math.floor(rel / c.stride);
  const inSlot = rel - idx * c.stride;
  const s = base(c) + CACHE_HDR + idx * c.stride;
  const state = rel < 0 ? -1 : Atomics.load(i32, s + OH_STATE);
  if (state === OBJ_LIVE && inSlot >= OBJ_HDR && inSlot - OBJ_HDR < c.objWords) return null;
  const obj = s + OBJ_HDR;
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
  ];
  if (!freed) return { kind: 'slab-out-of-bounds', details };
  return { kind: state === OBJ_QUARANTINED ? 'slab-use-after-free' : 'use-after-free', details };
}
