// Lock classes (struct lock_class) and the instance -> class side table. A spinlock is one word
// and an rw_semaphore's layout has no dep_map, so what the kernel keeps in the lock's
// struct lockdep_map (class, last CPU, last acquire ip) lives in a shared open-addressing table
// keyed by the lock's address. A class is keyed by its init site's name: spin_lock_init(lock,
// 'ptlock') and init_rwsem(sem, '&mm->mmap_sem'). A lock nobody initialised while lockdep was on
// gets a static key, its own address (the kernel's static_obj() case), named after its place.
import { cpuCtx } from '../../cpu/context.js';
import { mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';
import { intern, strAt } from '../../shm/strtab.js';
import { dump_stack } from '../panic.js';
import { debug_locks_off, lockdep_lock, lockdep_unlock, print_lockdep_off } from './lockdep_state.js';

/** Class indexes are 1..MAX_LOCKDEP_KEYS-1; 0 means "no class". */
export const MAX_LOCKDEP_KEYS = 256;
// include/linux/lockdep_types.h MAX_LOCK_SUBCLASSES, v6.6
export const MAX_LOCK_SUBCLASSES = 8;
const CLASS_WORDS = 4;
const C_KEY = 0; // interned name
const C_WAIT_TYPE = 1;
const C_USAGE = 2;

const INSTANCE_BITS = 13;
const INSTANCE_SLOTS = 1 << INSTANCE_BITS;
const INSTANCE_WORDS = 4;
const I_ADDR = 0;
const I_CLASS = 1;
/** lockdep_map.cpu: the CPU that last acquired this instance (for the bounce counts). */
export const I_CPU = 2;
/** lockdep_map.ip: where this instance was last acquired (lock_stat's contending point). */
export const I_IP = 3;

// include/linux/lockdep_types.h enum lockdep_wait_type (no CONFIG_PROVE_RAW_LOCK_NESTING)
export const LD_WAIT_SPIN = 2;
export const LD_WAIT_CONFIG = LD_WAIT_SPIN;
export const LD_WAIT_SLEEP = 3;

/** class usage bits: acquired for write / for read (always with irqs enabled here). */
const USED_WRITE = 1;
const USED_READ = 2;

const CLASSES = defineStatics('lockdep_classes', [
  'nr_lock_classes',
  `lock_classes[${MAX_LOCKDEP_KEYS * CLASS_WORDS}]`,
  `instances[${INSTANCE_SLOTS * INSTANCE_WORDS}]`,
]);

const cls = (idx: number): number => CLASSES.base() + CLASSES.layout.lock_classes + idx * CLASS_WORDS;

/** kernel/locking/lockdep.c nr_lock_classes: classes in use are 1..nrLockClasses(). */
export function nrLockClasses(): number {
  return Atomics.load(mem.i32, CLASSES.base() + CLASSES.layout.nr_lock_classes);
}

export function className(idx: number): string {
  return strAt(Atomics.load(mem.i32, cls(idx) + C_KEY));
}

export function classWaitType(idx: number): number {
  return Atomics.load(mem.i32, cls(idx) + C_WAIT_TYPE);
}

// kernel/locking/lockdep.c mark_usage(), v6.6, reduced: process context, irqs always enabled
export function mark_usage(idx: number, read: number): void {
  Atomics.or(mem.i32, cls(idx) + C_USAGE, read ? USED_READ : USED_WRITE);
}

// kernel/locking/lockdep.c get_usage_chars(), v6.6: {hardirq, hardirq-read, softirq, softirq-read}
export function get_usage_chars(idx: number): string {
  const u = Atomics.load(mem.i32, cls(idx) + C_USAGE);
  const w = u & USED_WRITE ? '+' : '.';
  const r = u & USED_READ ? '+' : '.';
  return w + r + w + r;
}

/** Slot address of `lock` in the instance table, or 0 when it has none. Lock-free. */
export function instanceSlot(lock: number): number {
  const i32 = mem.i32;
  const base = CLASSES.base() + CLASSES.layout.instances;
  let h = Math.imul(lock, 0x9e3779b1) >>> (32 - INSTANCE_BITS);
  for (let n = 0; n < INSTANCE_SLOTS; n++, h = (h + 1) & (INSTANCE_SLOTS - 1)) {
    const s = base + h * INSTANCE_WORDS;
    const a = Atomics.load(i32, s + I_ADDR);
    if (a === lock) return s;
    if (a === 0) return 0;
  }
  return 0;
}

/** Caller holds lockdep_lock. The slot for `lock`, claimed if new; 0 when the table is full. */
function claimSlot(lock: number): number {
  const i32 = mem.i32;
  const base = CLASSES.base() + CLASSES.layout.instances;
  let h = Math.imul(lock, 0x9e3779b1) >>> (32 - INSTANCE_BITS);
  for (let n = 0; n < INSTANCE_SLOTS - 1; n++, h = (h + 1) & (INSTANCE_SLOTS - 1)) {
    const s = base + h * INSTANCE_WORDS;
    const a = Atomics.load(i32, s + I_ADDR);
    if (a === lock) return s;
    if (a === 0) return -s; // free: the caller fills it and publishes the address last
  }
  return 0;
}

// kernel/locking/lockdep.c register_lock_class(), v6.6 (caller holds lockdep_lock): the class
// with this key, created if new; 0 when MAX_LOCKDEP_KEYS is exhausted.
function register_lock_class(key: number, wait_type: number): number {
  const i32 = mem.i32;
  const nrAt = CLASSES.base() + CLASSES.layout.nr_lock_classes;
  const nr = Atomics.load(i32, nrAt);
  for (let idx = 1; idx <= nr; idx++) if (Atomics.load(i32, cls(idx) + C_KEY) === key) return idx;
  if (nr + 1 >= MAX_LOCKDEP_KEYS) return 0;
  const idx = nr + 1;
  Atomics.store(i32, cls(idx) + C_WAIT_TYPE, wait_type);
  Atomics.store(i32, cls(idx) + C_USAGE, 0);
  Atomics.store(i32, cls(idx) + C_KEY, key);
  Atomics.store(i32, nrAt, idx);
  return idx;
}

/** Caller holds lockdep_lock; returns the class or 0 (and an error message) on overflow. */
function setInstanceClass(lock: number, key: number, wait_type: number): number | string {
  const idx = register_lock_class(key, wait_type);
  if (!idx) return 'BUG: MAX_LOCKDEP_KEYS too low!';
  const s = claimSlot(lock);
  if (s === 0) return 'BUG: lockdep instance table too small!';
  const i32 = mem.i32;
  const slot = Math.abs(s);
  Atomics.store(i32, slot + I_CLASS, idx);
  Atomics.store(i32, slot + I_CPU, cpuCtx.cpu);
  Atomics.store(i32, slot + I_IP, 0);
  if (s < 0) Atomics.store(i32, slot + I_ADDR, lock);
  return idx;
}

function overflow(msg: string): void {
  if (!debug_locks_off()) return;
  print_lockdep_off(msg);
  dump_stack();
}

// kernel/locking/lockdep.c lockdep_init_map_type(), v6.6: bind `lock` to the class `name`.
export function lockdep_init_map(lock: number, name: string, wait_type: number): void {
  const key = intern(name);
  lockdep_lock();
  const r = setInstanceClass(lock, key, wait_type);
  lockdep_unlock();
  if (typeof r === 'string') overflow(r);
}

/** The static key name of a lock that was never initialised under lockdep: where it lives. */
function staticKeyName(lock: number): string {
  const id = mem.arena.regionOf(lock);
  if (id < 0) return `lock@${(lock >>> 0).toString(16)}`;
  const r = mem.arena.regions[id]!;
  return `${r.name.replace(/^data:/, '')}+0x${(lock - r.base).toString(16)}`;
}

// kernel/locking/lockdep.c look_up_lock_class() + register_lock_class(), v6.6: the class of `lock`
// (of its `subclass`: down_write_nested() and the like), registered on first sight, with a static
// key when the lock was never initialised under lockdep; 0 when lockdep ran out of room or the
// subclass is out of range.
export function lockClassOf(lock: number, wait_type: number, subclass = 0): number {
  if (subclass !== 0) return subclassOf(lock, wait_type, subclass);
  const s = instanceSlot(lock);
  if (s) {
    const idx = Atomics.load(mem.i32, s + I_CLASS);
    if (idx) return idx;
  }
  const key = intern(staticKeyName(lock));
  lockdep_lock();
  const slot = instanceSlot(lock);
  const r = slot ? Atomics.load(mem.i32, slot + I_CLASS) : setInstanceClass(lock, key, wait_type);
  lockdep_unlock();
  if (typeof r === 'string') {
    overflow(r);
    return 0;
  }
  return r;
}

/**
 * The class of `lock`'s subclass: the kernel keys it by the lock's key plus the subclass
 * (lock_class_key.subkeys + subclass) and prints it as the class name with "/subclass"
 * (__print_lock_name()), so here it is the class named `<name>/<subclass>`. Nested acquisitions
 * are rare (fork's second mmap_lock and PTE lock), so it is looked up by name every time.
 */
function subclassOf(lock: number, wait_type: number, subclass: number): number {
  if (subclass < 0 || subclass >= MAX_LOCK_SUBCLASSES) {
    // look_up_lock_class(): debug_locks_off(), the message, dump_stack()
    if (debug_locks_off()) {
      print_lockdep_off(`BUG: looking up invalid subclass: ${subclass}`);
      dump_stack();
    }
    return 0;
  }
  const base = lockClassOf(lock, wait_type);
  if (!base) return 0;
  const key = intern(`${className(base)}/${subclass}`);
  lockdep_lock();
  const idx = register_lock_class(key, classWaitType(base));
  lockdep_unlock();
  if (!idx) overflow('BUG: MAX_LOCKDEP_KEYS too low!');
  return idx;
}

/** The name lockdep knows `lock` by, or null (lockdep and lock_stat off, or never initialised). */
export function lockNameOf(lock: number): string | null {
  const s = instanceSlot(lock);
  const idx = s ? Atomics.load(mem.i32, s + I_CLASS) : 0;
  return idx ? className(idx) : null;
}

export function lockdepClassesReset(): void {
  const b = CLASSES.base();
  mem.i32.fill(0, b, b + CLASSES.layout.SIZE);
}
