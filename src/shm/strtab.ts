// Shared interned strings (allocation/free sites, lock class names): an id is the word address of
// the string's record, the same in every thread. Records are never freed.
import { type Arena, mem } from './arena.js';

const SLOTS = 2048;
const T_CURSOR = 0;
const T_SLOTS = 1;
const T_DATA = T_SLOTS + SLOTS;

export const STRTAB_REGION = { name: 'strtab', words: 64 * 1024 };

const local = new Map<string, number>();
let localArena: Arena | undefined;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function recordEquals(rec: number, s: string): boolean {
  const i32 = mem.i32;
  if (Atomics.load(i32, rec) !== s.length) return false;
  const u16 = mem.u16;
  const base = (rec + 1) * 2;
  for (let i = 0; i < s.length; i++) if (Atomics.load(u16, base + i) !== s.charCodeAt(i)) return false;
  return true;
}

/** Intern `s` and return its shared id (never 0). */
export function intern(s: string): number {
  if (localArena !== mem.arena) {
    local.clear();
    localArena = mem.arena;
  }
  const hit = local.get(s);
  if (hit !== undefined) return hit;
  const r = mem.arena.region(STRTAB_REGION.name);
  const i32 = mem.i32;
  let slot = fnv1a(s) & (SLOTS - 1);
  for (let probes = 0; probes < SLOTS; probes++, slot = (slot + 1) & (SLOTS - 1)) {
    const at = r.base + T_SLOTS + slot;
    let rec = Atomics.load(i32, at);
    if (rec === 0) {
      const words = 1 + Math.ceil(s.length / 2);
      const off = Atomics.add(i32, r.base + T_CURSOR, words);
      if (T_DATA + off + words > r.words) throw new RangeError('string table full');
      const mine = r.base + T_DATA + off;
      const base = (mine + 1) * 2;
      for (let i = 0; i < s.length; i++) Atomics.store(mem.u16, base + i, s.charCodeAt(i));
      Atomics.store(i32, mine, s.length);
      rec = Atomics.compareExchange(i32, at, 0, mine);
      if (rec === 0) rec = mine;
    }
    if (recordEquals(rec, s)) {
      local.set(s, rec);
      return rec;
    }
  }
  throw new RangeError('string table full');
}

/**
 * A one-entry cache in front of `intern` for a call site that interns mostly the same string
 * again and again (an allocator's `site` argument: a fault allocates at 'do_anonymous_page', an
 * exit frees at one site page after page). A hit is one string compare (a pointer compare for
 * the string literals callers pass) instead of a Map lookup; each call of internCached() makes
 * its own cache, so an allocation site and a free site do not evict each other.
 */
export function internCached(): (s: string) => number {
  let lastS = '';
  let lastId = 0;
  let lastArena: Arena | undefined;
  return (s: string): number => {
    if (s === lastS && lastArena === mem.arena) return lastId;
    lastId = intern(s);
    lastS = s;
    lastArena = mem.arena;
    return lastId;
  };
}

/** The string behind an id from `intern`, or '?' for 0 / garbage. */
export function strAt(id: number): string {
  const r = mem.arena.region(STRTAB_REGION.name);
  if (id < r.base + T_DATA || id >= r.base + r.words) return '?';
  const len = Atomics.load(mem.i32, id);
  if (len < 0 || len > 4096) return '?';
  let s = '';
  const base = (id + 1) * 2;
  for (let i = 0; i < len; i++) s += String.fromCharCode(Atomics.load(mem.u16, base + i));
  return s;
}
