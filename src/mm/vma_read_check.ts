// An emulator check with no kernel counterpart: a VMA that a per-VMA reader holds must not change
// under it. The VMA read lock is what lets a fault use vm_start, vm_end, vm_flags and vm_page_prot
// without mmap_lock: every writer takes vma_start_write() first, which waits for the readers. A
// writer that skips it (a VMA made visible before it was write-locked, kernel-mm.md §6 G2; a stack
// grown without the lock, G3) changes them under the fault, which then acts on a VMA that is no
// longer the one it checked.
//
// The reading task keeps the four words from its vma_start_read() (or the RFC's trylock) to its
// vma_end_read() in its task_struct (TASK.vma_read): one VMA per task, as a fault holds one. Five
// stores at the lock and five loads at the unlock; nothing when the era has no per-VMA lock.
// Those task words are plain accesses: only the task itself, on the one CPU that runs it, ever
// reads or writes them (no kernel code has them). At the unlock the VMA's words are loaded through
// Atomics: a writer that skipped vma_start_write() may be storing them right now, which is what is
// checked.
import { dump_stack } from '../kernel/panic.js';
import { hex8, KERN_ALERT, printk } from '../kernel/printk.js';
import { get_current } from '../kernel/sched.js';
import { TASK, task_comm, task_pid } from '../kernel/task_struct.js';
import { mem } from '../shm/arena.js';
import { VMA } from './mm_types.js';
import { type KmemCache, slab_is_live } from './slab.js';

const FIELDS = [
  ['vm_start', VMA.vm_start],
  ['vm_end', VMA.vm_end],
  ['vm_flags', VMA.vm_flags],
  ['vm_page_prot', VMA.vm_page_prot],
] as const;

/** The reader got the VMA's read lock: remember what it may rely on. */
export function vmaReadLocked(vma: number): void {
  const t = get_current();
  if (!t) return;
  const a = mem.i32;
  if (a[t + TASK.vma_read]) return; // a second VMA: only the first is watched
  a[t + TASK.vma_read] = vma;
  // Plain loads: the fault itself reads these words plainly under the lock (kread_locked()); a
  // writer racing this snapshot is still caught by the unlock's Atomics loads below.
  for (let i = 0; i < FIELDS.length; i++) a[t + TASK.vma_read_snap + i] = a[vma + FIELDS[i]![1]]!;
}

/**
 * The reader is about to drop the VMA's read lock (still holding it): report a field that changed.
 * A VMA freed under the reader is KASAN's to report (at the unlock's own access), not this check's.
 */
export function vmaReadUnlocking(vma: number, cachep: KmemCache): void {
  const t = get_current();
  if (!t) return;
  const a = mem.i32;
  if (a[t + TASK.vma_read] !== vma) return;
  a[t + TASK.vma_read] = 0;
  if (!slab_is_live(cachep, vma)) return;
  for (let i = 0; i < FIELDS.length; i++) {
    const [name, off] = FIELDS[i]!;
    const was = a[t + TASK.vma_read_snap + i]!;
    const now = Atomics.load(a, vma + off);
    if (was !== now) {
      report(t, vma, name, was, now);
      return;
    }
  }
}

function report(t: number, vma: number, field: string, was: number, now: number): void {
  printk(
    KERN_ALERT,
    [
      `BUG: mmrace: VMA modified under a per-VMA reader, in process ${task_comm(t)} pid:${task_pid(t)} vma:${hex8(vma)}`,
      `${field} was ${hex8(was >>> 0)}, now ${hex8(now >>> 0)}: a writer changed it without vma_start_write(), which waits for the readers`,
    ].join('\n'),
  );
  dump_stack(KERN_ALERT);
}
