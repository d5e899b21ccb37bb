// A ticket spinlock (x86 arch_spinlock_t before qspinlock): one word, `head` in the low half,
// `tail` in the high half. Lock takes a ticket with one fetch-add; unlock is one final store.
import { cpuCtx, point } from '../../cpu/context.js';
import { mem } from '../../shm/arena.js';
import { check_kernel_pointer } from '../panic.js';

export const TICKET_SHIFT = 16;

export function spin_lock_init(lock: number): void {
  Atomics.store(mem.i32, lock, 0);
}

// arch/x86/include/asm/spinlock.h arch_spin_lock(), v3.x ticket lock
export function spin_lock(lock: number): void {
  point('spin_lock');
  check_kernel_pointer(lock, true);
  cpuCtx.preemptCount++;
  const old = Atomics.add(mem.i32, lock, 1 << TICKET_SHIFT);
  const ticket = old >>> TICKET_SHIFT;
  if ((old & 0xffff) === ticket) return;
  const u16 = mem.u16;
  const head = lock * 2;
  const runner = cpuCtx.runner;
  for (let spins = 0; Atomics.load(u16, head) !== ticket; spins++) runner.relax(spins);
}

// arch/x86/include/asm/spinlock.h arch_spin_trylock()
export function spin_trylock(lock: number): boolean {
  point('spin_trylock');
  check_kernel_pointer(lock, true);
  const old = Atomics.load(mem.i32, lock);
  if ((old & 0xffff) !== old >>> TICKET_SHIFT) return false;
  if (Atomics.compareExchange(mem.i32, lock, old, (old + (1 << TICKET_SHIFT)) | 0) !== old) return false;
  cpuCtx.preemptCount++;
  return true;
}

// arch/x86/include/asm/spinlock.h arch_spin_unlock()
export function spin_unlock(lock: number): void {
  check_kernel_pointer(lock, true);
  const head = lock * 2;
  // Only the holder writes `head`, so this store is the unlock and the lock's last access.
  Atomics.store(mem.u16, head, (Atomics.load(mem.u16, head) + 1) & 0xffff);
  cpuCtx.preemptCount--;
  point('spin_unlock');
}

export function spin_is_locked(lock: number): boolean {
  const v = Atomics.load(mem.i32, lock);
  return (v & 0xffff) !== v >>> TICKET_SHIFT;
}

export const raw_spin_lock = spin_lock;
export const raw_spin_unlock = spin_unlock;
