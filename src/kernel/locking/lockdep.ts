// The lock validator (kernel/locking/lockdep.c, v6.6, CONFIG_PROVE_LOCKING + CONFIG_LOCK_STAT):
// the lock_acquire/lock_contended/lock_acquired/lock_release hooks the lock primitives call, the
// held-lock stack, the dependency checks on every new edge, and lockdep_assert_held(). Process
// context only (no irq-state checks); rwsem reads are non-recursive (read = 1), so every edge is
// a strong one. Both halves are switched by the config word in lockdep_state.ts.
import { cpuCtx } from '../../cpu/context.js';
import { strAt } from '../../shm/strtab.js';
import { dump_stack, WARN } from '../panic.js';
import { KERN_DEBUG, printk } from '../printk.js';
import { __lock_acquired, __lock_contended, lock_release_holdtime } from './lock_stat.js';
import { LD_WAIT_CONFIG, LD_WAIT_SLEEP, lockClassOf, mark_usage } from './lockdep_classes.js';
import { add_lock_to_list, bfsPath, hasDependency, lockdepGraphReset } from './lockdep_graph.js';
import {
  find_held_lock,
  HL_ACQUIRE_IP,
  heldLock,
  hlock_class,
  hlockRead,
  hlockSet,
  hlockSetRead,
  hlockTrylock,
  lockdepDepth,
  MAX_LOCK_DEPTH,
  prepareHeldLock,
  pushHeldLock,
  removeHeldLock,
} from './lockdep_held.js';
import { acquireIp, callerIp, LAZY_IP, LAZY_TRACE, save_trace, traceLine } from './lockdep_ip.js';
import {
  lockdep_print_held_locks,
  print_circular_bug,
  print_deadlock_bug,
  print_held_locks_bug,
} from './lockdep_report.js';
import {
  debug_locks,
  debug_locks_off,
  LOCK_STAT,
  lazySites,
  lockDebugFlags,
  lockdep_lock,
  lockdep_unlock,
  lockdepStateReset,
  lockstat_clock,
  PROVE_LOCKING,
  print_lockdep_off,
} from './lockdep_state.js';

// kernel/locking/lockdep.c check_deadlock(), v6.6: the same class already held by this task.
function check_deadlock(t: number, next: number): boolean {
  const depth = lockdepDepth(t);
  for (let i = 0; i < depth; i++) {
    const prev = heldLock(t, i);
    if (hlock_class(prev) !== hlock_class(next)) continue;
    if (hlockRead(next) === 2 && hlockRead(prev)) continue;
    if (debug_locks_off()) print_deadlock_bug(next, prev);
    return false;
  }
  return true;
}

// kernel/locking/lockdep.c check_prev_add(), v6.6: record prev -> next after proving, by a BFS
// from next, that prev cannot already be reached (which would close a cycle).
// (A lazy run leaves the trace to its replay: lockdep_ip.ts LAZY_TRACE.)
function check_prev_add(prev: number, next: number, trace: { ids?: readonly number[] }): boolean {
  const a = hlock_class(prev);
  const b = hlock_class(next);
  if (a === b || hasDependency(a, b)) return true;
  lockdep_lock(); // graph_lock()
  if (!debug_locks()) {
    lockdep_unlock();
    return false;
  }
  if (hasDependency(a, b)) {
    lockdep_unlock();
    return true;
  }
  const path = bfsPath(b, a); // check_noncircular(next, prev)
  trace.ids ??= lazySites() ? LAZY_TRACE : save_trace();
  if (path) {
    lockdep_unlock(); // debug_locks_off_graph_unlock()
    if (debug_locks_off()) print_circular_bug(path, next, prev, trace.ids.map(traceLine));
    return false;
  }
  const added = add_lock_to_list(a, b, trace.ids);
  lockdep_unlock();
  if (!added && debug_locks_off()) {
    print_lockdep_off('BUG: MAX_LOCKDEP_ENTRIES too low!');
    dump_stack();
  }
  return added;
}

// kernel/locking/lockdep.c check_prevs_add(), v6.6: an edge from the lock held last, and from
// each trylock above the last blocking one.
function check_prevs_add(t: number, next: number): boolean {
  const trace: { ids?: readonly number[] } = {};
  for (let depth = lockdepDepth(t); depth > 0; depth--) {
    const prev = heldLock(t, depth - 1);
    if (hlockRead(prev) !== 2) {
      if (!check_prev_add(prev, next, trace)) return false;
      if (!hlockTrylock(prev)) break;
    }
  }
  return true;
}

// kernel/locking/lockdep.c validate_chain(), v6.6 (no chain-key cache: the adjacency bitmap
// makes the "already validated" test one load per held lock)
function validate_chain(t: number, next: number): boolean {
  if (hlockTrylock(next)) return true;
  if (!check_deadlock(t, next)) return false;
  return check_prevs_add(t, next);
}

// kernel/locking/lockdep.c __lock_acquire(), v6.6
function __lock_acquire(
  t: number,
  flags: number,
  lock: number,
  trylock: number,
  read: number,
  wait_type: number,
  ip: number,
  subclass: number,
): void {
  const depth = lockdepDepth(t);
  const class_idx = lockClassOf(lock, wait_type, subclass);
  if (!class_idx) return;
  if (depth >= MAX_LOCK_DEPTH) {
    if (debug_locks_off()) {
      print_lockdep_off('BUG: MAX_LOCK_DEPTH too low!');
      printk(
        KERN_DEBUG,
        [`depth: ${depth}  max: ${MAX_LOCK_DEPTH}!`, ...lockdep_print_held_locks(t)].join('\n'),
      );
      dump_stack();
    }
    return;
  }
  const prove = (flags & PROVE_LOCKING) !== 0 && debug_locks();
  const stamp = flags & LOCK_STAT ? lockstat_clock() : 0;
  const h = prepareHeldLock(t, class_idx, read, trylock, lock, prove ? ip : 0, stamp);
  if (prove) {
    mark_usage(class_idx, read);
    validate_chain(t, h);
  }
  pushHeldLock(t);
}

/**
 * kernel/locking/lockdep.c lock_acquire(), v6.6, as the lock primitives call it before they
 * block: trylock and read (0 exclusive, 1 shared) as in the kernel, plus the lock's wait type
 * (for a lock that was never initialised under lockdep) and the name of the calling lock API
 * function, whose caller is _RET_IP_; `ip`, that site when the caller has already found it;
 * `subclass`, the kernel's subclass argument (0, or SINGLE_DEPTH_NESTING... from the *_nested()
 * lock functions: the same lock class nested in itself, a class of its own to lockdep).
 */
export function lock_acquire(
  lock: number,
  trylock: number,
  read: number,
  wait_type: number,
  api: string,
  ip?: number,
  subclass = 0,
): void {
  const t = cpuCtx.current;
  const flags = lockDebugFlags();
  if (t === 0 || flags === 0) return;
  __lock_acquire(
    t,
    flags,
    lock,
    trylock,
    read,
    wait_type,
    ip ?? (wantsIp(flags) ? (lazySites() ? LAZY_IP : callerIp(api, lock_acquire)) : 0),
    subclass,
  );
}

// include/linux/lockdep.h SINGLE_DEPTH_NESTING, v6.6: the subclass of a lock taken while another
// lock of its class is held (fork's child mmap_lock, the source PTE lock of copy_pte_range()).
export const SINGLE_DEPTH_NESTING = 1;

/** Will lock_acquire() record the acquisition's site? (Only a validating lockdep does.) */
function wantsIp(flags: number): boolean {
  return (flags & PROVE_LOCKING) !== 0 && debug_locks();
}

/** hookSite()'s answer when the hook must find its site with acquireIp() (never an ip: ids are interned). */
const CAPTURE = 1;

/** The site an acquisition hook records: none (0), LAZY_IP, or CAPTURE. */
function hookSite(): number {
  if (cpuCtx.current === 0 || !wantsIp(lockDebugFlags())) return 0;
  return lazySites() ? LAZY_IP : CAPTURE;
}

// kernel/locking/lockdep.c lock_release(), v6.6
// (Pops the entry even when the switches went off meanwhile, so the stack drains.)
export function lock_release(lock: number): void {
  const t = cpuCtx.current;
  if (t === 0) return;
  const i = find_held_lock(t, lock);
  if (i < 0) return; // taken before lockdep was switched on, or past MAX_LOCK_DEPTH
  if (lockDebugFlags() & LOCK_STAT) lock_release_holdtime(heldLock(t, i));
  removeHeldLock(t, i);
}

// kernel/locking/lockdep.c lock_contended(), v6.6
export function lock_contended(lock: number, api: string): void {
  const t = cpuCtx.current;
  if (t === 0 || !(lockDebugFlags() & LOCK_STAT)) return;
  const i = find_held_lock(t, lock);
  if (i >= 0) __lock_contended(heldLock(t, i), lock, callerIp(api, lock_contended));
}

// kernel/locking/lockdep.c lock_acquired(), v6.6
export function lock_acquired(lock: number): void {
  const t = cpuCtx.current;
  if (t === 0 || !(lockDebugFlags() & LOCK_STAT)) return;
  const i = find_held_lock(t, lock);
  if (i >= 0) __lock_acquired(heldLock(t, i), lock);
}

// kernel/locking/lockdep.c lock_downgrade(), v6.6: the held write lock becomes a read lock.
export function lock_downgrade(lock: number, api: string): void {
  const t = cpuCtx.current;
  const flags = lockDebugFlags();
  if (t === 0) return;
  const i = find_held_lock(t, lock);
  if (i < 0) return;
  const h = heldLock(t, i);
  hlockSetRead(h, 1);
  if (flags & PROVE_LOCKING) {
    hlockSet(h, HL_ACQUIRE_IP, lazySites() ? LAZY_IP : callerIp(api, lock_downgrade));
    mark_usage(hlock_class(h), 1);
  }
}

// include/linux/lockdep.h LOCK_CONTENDED(), v6.6: with lock_stat, a trylock first; if it fails,
// the contention is recorded before the blocking lock; lock_acquired() either way.
export function LOCK_CONTENDED(
  lock: number,
  api: string,
  trylock: (lock: number) => boolean,
  lockfn: (lock: number) => void,
): void {
  if (!(lockDebugFlags() & LOCK_STAT)) {
    lockfn(lock);
    return;
  }
  if (!trylock(lock)) {
    lock_contended(lock, api);
    lockfn(lock);
  }
  lock_acquired(lock);
}

// include/linux/lockdep.h LOCK_CONTENDED_RETURN(), v6.6
export function LOCK_CONTENDED_RETURN(
  lock: number,
  api: string,
  trylock: (lock: number) => boolean,
  lockfn: (lock: number) => number,
): number {
  if (!(lockDebugFlags() & LOCK_STAT)) return lockfn(lock);
  let err = 0;
  if (!trylock(lock)) {
    lock_contended(lock, api);
    err = lockfn(lock);
  }
  if (!err) lock_acquired(lock);
  return err;
}

// include/linux/lockdep.h spin_acquire(), v6.6 (the kernel's subclass argument last here)
export function spin_acquire(lock: number, trylock: number, api: string, subclass = 0): void {
  const s = hookSite();
  const ip = s === CAPTURE ? acquireIp(api, spin_acquire) : s;
  lock_acquire(lock, trylock, 0, LD_WAIT_CONFIG, api, ip, subclass);
}

// include/linux/lockdep.h rwsem_acquire(), v6.6
export function rwsem_acquire(lock: number, trylock: number, api: string, subclass = 0): void {
  const s = hookSite();
  const ip = s === CAPTURE ? acquireIp(api, rwsem_acquire) : s;
  lock_acquire(lock, trylock, 0, LD_WAIT_SLEEP, api, ip, subclass);
}

// include/linux/lockdep.h rwsem_acquire_read(), v6.6
export function rwsem_acquire_read(lock: number, trylock: number, api: string, subclass = 0): void {
  const s = hookSite();
  const ip = s === CAPTURE ? acquireIp(api, rwsem_acquire_read) : s;
  lock_acquire(lock, trylock, 1, LD_WAIT_SLEEP, api, ip, subclass);
}

// include/linux/lockdep.h rwsem_release(), v6.6: lockdep's half of up_read() and up_write() (for a
// test's own broken unlock, which must still tell lockdep, as the kernel's wrapper would).
export function rwsem_release(lock: number): void {
  lock_release(lock);
}

// include/linux/lockdep.h enum { LOCK_STATE_UNKNOWN = -1, LOCK_STATE_NOT_HELD, LOCK_STATE_HELD }
export const LOCK_STATE_UNKNOWN = -1;
export const LOCK_STATE_NOT_HELD = 0;
export const LOCK_STATE_HELD = 1;

// kernel/locking/lockdep.c lock_is_held_type(), v6.6 (read: -1 any, 0 write, 1 read)
export function lock_is_held_type(lock: number, read: number): number {
  const t = cpuCtx.current;
  if (t === 0 || !(lockDebugFlags() & PROVE_LOCKING) || !debug_locks()) return LOCK_STATE_UNKNOWN;
  const i = find_held_lock(t, lock);
  if (i < 0) return LOCK_STATE_NOT_HELD;
  if (read === -1 || (hlockRead(heldLock(t, i)) !== 0) === (read !== 0)) return LOCK_STATE_HELD;
  return LOCK_STATE_NOT_HELD;
}

// include/linux/lockdep.h lockdep_assert(), v6.6: WARN_ON(debug_locks && !cond), at the caller
function lockdep_assert(held: number, api: string): void {
  if (held !== LOCK_STATE_NOT_HELD) return;
  const ip = callerIp(api, lockdep_assert);
  const m = /^(\S+) \((.*)\)$/.exec(ip ? strAt(ip) : '');
  WARN(m ? `${m[2]} ${m[1]}` : ip ? strAt(ip) : `kernel/locking/lockdep.c:${api}`);
}

// include/linux/lockdep.h lockdep_assert_held(), v6.6: WARN unless current holds `lock`.
export function lockdep_assert_held(lock: number): void {
  lockdep_assert(lock_is_held_type(lock, -1), 'lockdep_assert_held');
}

// include/linux/lockdep.h lockdep_assert_held_write(), v6.6
export function lockdep_assert_held_write(lock: number): void {
  lockdep_assert(lock_is_held_type(lock, 0), 'lockdep_assert_held_write');
}

// include/linux/lockdep.h lockdep_assert_held_read(), v6.6
export function lockdep_assert_held_read(lock: number): void {
  lockdep_assert(lock_is_held_type(lock, 1), 'lockdep_assert_held_read');
}

/**
 * A fresh lockdep for a new run: debug_locks back on and no dependencies, so that a run's
 * reports do not depend on the runs before it. Classes (keyed by name or by a static lock's
 * address, the same in every run) and lock_stat's counts are kept; lockStatClear() zeroes those.
 * The switches (lockdep_enable, lock_stat_enable) are kept too.
 */
export function lockdepReset(): void {
  lockdepStateReset();
  lockdepGraphReset();
}

// kernel/locking/lockdep.c debug_check_no_locks_held(), v6.6: do_exit() reads current's held-lock
// stack, which must still be there (the task_struct is freed only after the last switch away).
export function debug_check_no_locks_held(): void {
  const t = cpuCtx.current;
  if (t !== 0 && lockDebugFlags() !== 0 && lockdepDepth(t) > 0) print_held_locks_bug();
}
