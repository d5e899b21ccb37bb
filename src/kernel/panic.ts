// kernel/panic.c and arch/x86/kernel/dumpstack.c: taint, WARN, dump_stack and oopses.
import { cpuCtx } from '../cpu/context.js';
import { KernelOops } from '../cpu/errors.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { intern } from '../shm/strtab.js';
import { threadConfig } from '../shm/thread_config.js';
import * as instrumented from './instrumented.js';
import { atomicsChecked } from './instrumented.js';
import { hex8, KERN_ALERT, KERN_ERR, KERN_WARNING, printk } from './printk.js';
import { stackFrames } from './stack_frames.js';
import { task_comm, task_pid } from './task_struct.js';
import { utsname } from './utsname.js';

// Hot imports as module constants: TurboFan folds a module `const` to the value it held when it
// compiled, so a call through one needs no Cell load, hole check and call-target check as an
// imported binding does (a down_read+up_read pair: about 5 ns of 40, scripts/bench-locks.mjs).
const { instrument_atomic_read_write } = instrumented;

const WARNED_SLOTS = 64;
export const PANIC = defineStatics('panic', [
  'tainted_mask',
  'oops_count',
  'warn_count',
  `warned[${WARNED_SLOTS}]`,
]);

export const TAINT_BAD_PAGE = 5;
export const TAINT_DIE = 7;
export const TAINT_WARN = 9;
const TAINT_CHARS = 'PFSRMBUDAWCIOELKXT';

export function panicReset(): void {
  const b = PANIC.base();
  mem.i32.fill(0, b, b + PANIC.layout.SIZE);
}

export function add_taint(flag: number): void {
  const old = Atomics.or(mem.i32, PANIC.base() + PANIC.layout.tainted_mask, 1 << flag);
  if (old === 0) printk(KERN_WARNING, 'Disabling lock debugging due to kernel taint');
}

export function print_tainted(): string {
  const mask = Atomics.load(mem.i32, PANIC.base() + PANIC.layout.tainted_mask);
  if (mask === 0) return 'Not tainted';
  let s = 'Tainted: G';
  for (let i = 1; i < TAINT_CHARS.length; i++) s += mask & (1 << i) ? TAINT_CHARS[i] : ' ';
  return s.trimEnd();
}

/** Emulator machinery that a call trace leaves out. */
const HIDDEN_FRAMES = new Set([
  'dump_stack',
  'callTrace',
  'die',
  'WARN',
  'WARN_ON_ONCE',
  'kasan_report',
  'kasan_report_invalid_free',
  'checkAccess',
  'checkAccessSlow',
  // The out-of-line halves of lock functions (their fast paths stay small): traces print the
  // kernel's function, which is the next frame.
  'down_read_debug',
  'down_read_killable_debug',
  'down_write_debug',
  'down_write_killable_debug',
  'release_debug',
  'spin_lock_debug',
  'spin_release_debug',
  '__up_read_wake',
  'rwsem_read_trylock_overflow',
  'kread',
  'kwrite',
  'kxchg',
  'badAccess',
  'check_kernel_pointer',
  'instrument_atomic_read_write',
  'kasan_check_atomic',
  'page_fault_oops',
  'printk',
]);

/** Does a call trace leave out this kernel function's frame? (lockdep_ip.ts keys traces the same way.) */
export function hiddenFrame(fn: string): boolean {
  return HIDDEN_FRAMES.has(fn);
}

/** Frames a call trace captures: deep enough for any kernel path and the scenario code under it. */
const TRACE_DEPTH = 64;

/**
 * The call trace of the JS stack: mirrored functions keep kernel names, so the kernel frames read
 * as the kernel's; the frames of the user's own scenario code follow with their file and line.
 */
export function callTrace(skip = 0, depth = TRACE_DEPTH): string[] {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = depth;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return stackFrames(stack)
    .filter((f) => f.kind === 'user' || !HIDDEN_FRAMES.has(f.fn))
    .map((f) => ` ${f.text}`)
    .slice(skip);
}

export function cpuLine(): string {
  const t = cpuCtx.current;
  return `CPU: ${cpuCtx.cpu} PID: ${task_pid(t)} Comm: ${task_comm(t)} ${print_tainted()} ${utsname.release} #1`;
}

// lib/dump_stack.c dump_stack()
export function dump_stack(level = KERN_ERR): void {
  printk(level, [cpuLine(), 'Call Trace:', ...callTrace()].join('\n'));
}

/** WARN_ON_ONCE(cond): one warning per call site per run. */
export function WARN_ON_ONCE(cond: boolean, site: string): boolean {
  if (!cond) return false;
  const id = intern(site);
  const b = PANIC.base() + PANIC.layout.warned;
  for (let i = 0; i < WARNED_SLOTS; i++) {
    const v = Atomics.compareExchange(mem.i32, b + i, 0, id);
    if (v === id) return true;
    if (v === 0) break;
  }
  WARN(site);
  return true;
}

export function WARN(site: string, text?: string): void {
  Atomics.add(mem.i32, PANIC.base() + PANIC.layout.warn_count, 1);
  const lines = [`WARNING: CPU: ${cpuCtx.cpu} PID: ${task_pid(cpuCtx.current)} at ${site}`];
  if (text) lines.unshift(text);
  printk(KERN_WARNING, lines.join('\n'));
  add_taint(TAINT_WARN);
  dump_stack(KERN_WARNING);
  printk(KERN_WARNING, '---[ end trace 0000000000000000 ]---');
}

/** An oops: print it, taint, and kill the current task by unwinding its CPU. */
export function die(first: string, how = 'Oops: 0000'): never {
  const n = Atomics.add(mem.i32, PANIC.base() + PANIC.layout.oops_count, 1) + 1;
  printk(KERN_ALERT, first);
  printk(KERN_ALERT, `${how} [#${n}] SMP`);
  add_taint(TAINT_DIE);
  dump_stack(KERN_ALERT);
  printk(KERN_ALERT, '---[ end trace 0000000000000000 ]---');
  throw new KernelOops(first);
}

/**
 * Words in this thread's arena: check_kernel_pointer() runs on every lock operation and tests this
 * module variable rather than loading mem.i32.length (smaller bytecode: TurboFan inlines a lock's
 * fast path whole only while its caller's inlining budget lasts).
 */
var arenaWords = 0; // `var`: no TDZ hole check on lock paths (see cpu/point_gate.ts)
threadConfig(() => {
  arenaWords = mem.i32.length;
});

/** A lock or atomic word: a wild pointer takes the page fault the hardware would; freed memory is a KASAN report. */
export function check_kernel_pointer(addr: number, write: boolean): void {
  // The arena's header words (0..255) are the NULL page: no kernel object lives there.
  // `(addr | 0) === addr`: an int32, which every arena address is (Number.isInteger cost more).
  if (!((addr | 0) === addr && addr >= 256 && addr < arenaWords)) page_fault_oops(addr, write);
  // A live address may still be freed memory: KASAN checks lock and atomic words too. Tested
  // here, so that with KASAN off the call is never made and never inlined (TurboFan's budget).
  if (atomicsChecked !== 0) instrument_atomic_read_write(addr);
}

// arch/x86/mm/fault.c page_fault_oops(): a kernel access to an unmapped address.
export function page_fault_oops(addr: number, write: boolean): never {
  const verb = write ? 'write' : 'read';
  if (addr >= 0 && addr < 256) {
    die(
      `BUG: kernel NULL pointer dereference, address: ${hex8(addr)}\n#PF: supervisor ${verb} access in kernel mode`,
    );
  }
  die(
    `BUG: unable to handle page fault for address: ${hex8(addr)}\n#PF: supervisor ${verb} access in kernel mode`,
  );
}

export function oopsCount(): number {
  return Atomics.load(mem.i32, PANIC.base() + PANIC.layout.oops_count);
}
