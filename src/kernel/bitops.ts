// include/asm-generic/bitops/atomic.h on one 32-bit word.
import { mem } from '../shm/arena.js';

export function test_bit(nr: number, addr: number): boolean {
  return (Atomics.load(mem.i32, addr) & (1 << nr)) !== 0;
}

export function set_bit(nr: number, addr: number): void {
  Atomics.or(mem.i32, addr, 1 << nr);
}

export function clear_bit(nr: number, addr: number): void {
  Atomics.and(mem.i32, addr, ~(1 << nr));
}

export function test_and_set_bit(nr: number, addr: number): boolean {
  return (Atomics.or(mem.i32, addr, 1 << nr) & (1 << nr)) !== 0;
}
