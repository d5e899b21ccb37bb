// include/linux/mmap_lock.h (the v5.8+ API) over mm->mmap_sem, the field's name in the eras
// modelled here. The kernel's wrappers are static inline, so lockdep and lock_stat see their
// callers as the acquire sites. mmap_assert_*() are the lockdep_assert_held*() halves; the
// VM_BUG_ON_MM() halves need CONFIG_DEBUG_VM and are not modelled.

import { lockdep_assert_held, lockdep_assert_held_write } from '../kernel/locking/lockdep.js';
import {
  down_read,
  down_read_killable,
  down_read_trylock,
  down_write,
  down_write_killable,
  down_write_nested,
  down_write_trylock,
  downgrade_write,
  init_rwsem,
  up_read,
  up_write,
} from '../kernel/locking/rwsem.js';
import { MM } from './mm_types.js';
import { mmap_write_locked, vma_unlock_all } from './vma_lock.js';

const mmap_sem = (mm: number): number => mm + MM.mmap_sem;

// include/linux/mmap_lock.h mmap_init_lock(), v5.8 (the class the kernel names &mm->mmap_sem)
export function mmap_init_lock(mm: number): void {
  init_rwsem(mmap_sem(mm), '&mm->mmap_sem');
}

// include/linux/mmap_lock.h mmap_write_lock(), v5.8
// (v6.14: then mm_lock_seqcount_begin(), vma_lock.ts)
export function mmap_write_lock(mm: number): void {
  down_write(mmap_sem(mm));
  mmap_write_locked(mm);
}

// include/linux/mmap_lock.h mmap_write_lock_nested(), v5.8 (fork: the child's under the parent's)
export function mmap_write_lock_nested(mm: number, subclass: number): void {
  down_write_nested(mmap_sem(mm), subclass);
  mmap_write_locked(mm);
}

// include/linux/mmap_lock.h mmap_write_lock_killable(), v5.8
export function mmap_write_lock_killable(mm: number): number {
  const ret = down_write_killable(mmap_sem(mm));
  if (!ret) mmap_write_locked(mm);
  return ret;
}

// include/linux/mmap_lock.h mmap_write_trylock(), v5.8
export function mmap_write_trylock(mm: number): boolean {
  const ok = down_write_trylock(mmap_sem(mm));
  if (ok) mmap_write_locked(mm);
  return ok;
}

// include/linux/mmap_lock.h mmap_write_unlock(), v5.8 (per-VMA locks: vma_mark_unlocked_all(),
// vma_end_write_all() first, vma_lock.ts)
export function mmap_write_unlock(mm: number): void {
  vma_unlock_all(mm);
  up_write(mmap_sem(mm));
}

// include/linux/mmap_lock.h mmap_write_downgrade(), v5.8
export function mmap_write_downgrade(mm: number): void {
  vma_unlock_all(mm);
  downgrade_write(mmap_sem(mm));
}

// include/linux/mmap_lock.h mmap_read_lock(), v5.8
export function mmap_read_lock(mm: number): void {
  down_read(mmap_sem(mm));
}

// include/linux/mmap_lock.h mmap_read_lock_killable(), v5.8
export function mmap_read_lock_killable(mm: number): number {
  return down_read_killable(mmap_sem(mm));
}

// include/linux/mmap_lock.h mmap_read_trylock(), v5.8
export function mmap_read_trylock(mm: number): boolean {
  return down_read_trylock(mmap_sem(mm));
}

// include/linux/mmap_lock.h mmap_read_unlock(), v5.8
export function mmap_read_unlock(mm: number): void {
  up_read(mmap_sem(mm));
}

// include/linux/mmap_lock.h mmap_assert_locked(), v5.8
export function mmap_assert_locked(mm: number): void {
  lockdep_assert_held(mmap_sem(mm));
}

// include/linux/mmap_lock.h mmap_assert_write_locked(), v5.8
export function mmap_assert_write_locked(mm: number): void {
  lockdep_assert_held_write(mmap_sem(mm));
}
