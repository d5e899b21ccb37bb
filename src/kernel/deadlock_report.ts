// The controlled runner's deadlock report: no CPU can run and no timer is pending. For every CPU,
// its task, what it waits on (the lock and the mode) and who holds that lock, every reader of an
// rwsem included, then every task's held locks. The kernel has no such single report; this is what
// sysrq-t (show_state) plus sysrq-d (debug_show_all_locks) would print on a machine that froze.
import type { StalledCpu } from '../cpu/controlled.js';
import { kmem_cache_live_objects } from '../mm/slab.js';
import { mem } from '../shm/arena.js';
import { task_struct_cachep } from './fork.js';
import { lockNameOf } from './locking/lockdep_classes.js';
import { HL_INSTANCE, heldLock, hlockGet, hlockRead, lockdepDepth } from './locking/lockdep_held.js';
import { lockdep_print_held_locks } from './locking/lockdep_report.js';
import { lockdepEnabled } from './locking/lockdep_state.js';
import {
  RWSEM,
  RWSEM_READER_OWNED,
  rwsem_owner,
  rwsem_reader_count,
  rwsem_waiters,
} from './locking/rwsem.js';
import { hex8 } from './printk.js';
import { TASK, task_comm, task_pid } from './task_struct.js';

const who = (t: number) => (t ? `${task_comm(t)}/${task_pid(t)}` : 'none');

/** A lock as lockdep would name it, with its address. */
export function lockLabel(lock: number, kind: string): string {
  const name = lockNameOf(lock);
  return name ? `${kind} ${name} (${hex8(lock)})` : `${kind} ${hex8(lock)}`;
}

/**
 * Every task holding `lock`, from the lockdep held-lock stacks, with its mode. lock_acquire() runs
 * before the wait, so a waiter has the lock on its stack too: the wait queue's tasks are left out.
 */
function lockdepHolders(lock: number, tasks: readonly number[], waiting: ReadonlySet<number>): string[] {
  const out: string[] = [];
  for (const t of tasks) {
    if (waiting.has(t)) continue;
    const depth = lockdepDepth(t);
    for (let i = 0; i < depth; i++) {
      const h = heldLock(t, i);
      if (hlockGet(h, HL_INSTANCE) === lock) out.push(`${who(t)} (${hlockRead(h) ? 'R' : 'W'})`);
    }
  }
  return out;
}

/** Who holds the rw_semaphore `sem`: from lockdep when it is on, else from the owner word. */
export function rwsemHolders(sem: number, tasks: readonly number[]): string {
  const readerOwned = (Atomics.load(mem.i32, sem + RWSEM.owner) & RWSEM_READER_OWNED) !== 0;
  if (lockdepEnabled()) {
    const waiting = new Set(rwsem_waiters(sem).map((w) => w.task));
    const holders = lockdepHolders(sem, tasks, waiting);
    return holders.length > 0 ? holders.join(', ') : 'nobody (per lockdep)';
  }
  const owner = rwsem_owner(sem);
  if (readerOwned) {
    // v4.14's readers leave no task in the owner word, v6.6's the last one's.
    const last = owner ? `, the last ${who(owner)}` : '';
    return `${rwsem_reader_count(sem)} reader(s)${last} (--lockdep names every reader)`;
  }
  return owner ? `${who(owner)} (W)` : 'no owner';
}

/** The tasks asleep on `sem`, in queue order, each with the mode it waits for. */
export function rwsemQueue(sem: number): string {
  return rwsem_waiters(sem)
    .map((w) => `${who(w.task)} (${w.write ? 'W' : 'R'})`)
    .join(', ');
}

function describeCpu(c: StalledCpu, tasks: readonly number[]): string[] {
  const head = `CPU${c.cpu}: ${c.task ? `task ${task_comm(c.task)}:${task_pid(c.task)}` : 'no task'}`;
  if (c.state === 'exited') return [`${head} has finished`];
  if (c.state === 'spinning') return [`${head} spins (cpu_relax) on a lock whose holder cannot run`];
  if (c.state === 'runnable') return [`${head} is runnable`];
  const sem = c.task ? Atomics.load(mem.i32, c.task + TASK.w_lock) : 0;
  if (!sem) return [`${head} sleeps on word ${hex8(c.word)}`];
  const mine = rwsem_waiters(sem).find((w) => w.task === c.task);
  const mode = mine?.write ? 'write' : 'read';
  return [
    `${head} blocked in down_${mode}() on ${lockLabel(sem, 'rw_semaphore')} count:${hex8(Atomics.load(mem.i32, sem + RWSEM.count))}`,
    `  held by: ${rwsemHolders(sem, tasks)}`,
    `  queue: ${rwsemQueue(sem)}`,
  ];
}

/** The report, one line per element; the caller prints or returns it. */
export function deadlock_report(cpus: readonly StalledCpu[], headline: string): string[] {
  const tasks = kmem_cache_live_objects(task_struct_cachep);
  const lines = [headline];
  for (const c of cpus) lines.push(...describeCpu(c, tasks));
  lines.push('', 'Showing all locks held in the system:');
  if (!lockdepEnabled()) lines.push('INFO: lockdep is turned off.');
  else for (const t of tasks) if (lockdepDepth(t) > 0) lines.push(...lockdep_print_held_locks(t));
  lines.push('=============================================');
  return lines;
}
