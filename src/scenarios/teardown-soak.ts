// A soak of the whole teardown, per era (issue 10): a multi-threaded process whose address space
// is busy (faults, COW after fork, mmap/munmap/mprotect) is OOM-killed mid-way; its threads exit
// (the last mmput() runs exit_mmap()) while the oom_reaper reaps it and lmkd calls
// process_mrelease(2) on it. The kernel code is correct in every era except where a release really
// had a bug on one of these paths, so any report is either that bug or a bug of the model.
//
// CPUs (6):
//   CPU0 oom_reaper   the kthread of the era (pins mm_users in v4.13, 2 s timer from v5.18).
//   CPU1 main         the process's main thread: mmap (private, shared, MAP_LOCKED), munmap and
//                     mprotect that split VMAs, one fork(); then, once killed, do_exit().
//   CPU2 fault-w      a thread (CLONE_VM): write faults (first touch, COW after the fork, stack
//                     growth, the mlocked and the shared mapping).
//   CPU3 fault-r      a thread: read faults, writes to the shared mapping and to the ranges main
//                     munmaps and mprotects (SIGSEGV there is expected). Its 10th fault's
//                     allocation fails: the OOM kill, in the era's form (oom_kill_process():
//                     SIGKILL, mark_oom_victim(), wake_oom_reaper() or the v5.18 2 s timer), and
//                     SIGKILL to the other threads. In a third of the runs it is then held up ~2 s
//                     in its exit path (a "D state" exit, as a robust-futex cleanup that faults):
//                     the case the reaper exists for, and the only way the v5.18+ reaper, which
//                     waits 2 s, meets exit_mmap().
//   CPU4 child        the forked child: COW write faults on its copy, reads, exit (after the kill).
//   CPU5 lmkd         waits for the kill, then process_mrelease() on the process (-ENOSYS before
//                     v5.15: nothing to do).
//
// Threads: mmrace has no thread groups (one task per signal_struct), so the process's threads are
// tasks sharing the mm. In the kernel they share signal->oom_mm, so each of them is
// tsk_is_oom_victim() once the process is killed, which v4.14's exit_mmap() barrier tests on the
// task that does the last mmput(). The killer marks each thread (mark_oom_victim under task_lock, as
// out_of_memory() does for an exiting thread that allocates) before it signals it, which gives the
// same: without it the last mmput() of an unmarked thread would skip the v4.14 barrier (B1, a real
// bug for CLONE_VM processes that are not threads, but not this process's).
//
// Expected: clean in every era but two, whose kernels have a bug on these paths:
//  - v5.15-rc1: process_mrelease() (884a7e5964e0) pins only mm_count and never re-tests
//    MMF_OOM_SKIP under the lock: a process_mrelease() that checked the flag before exit_mmap()
//    set it takes the read lock after exit_mmap()'s barrier and walks VMAs and page tables
//    exit_mmap() frees (kernel-mm.md §6 D2; fixed by 337546e83fc7 in v5.15);
//  - rfc-2022-09: the per-VMA lock RFC's faults racing munmap: a lookup that a whole munmap()
//    overtakes locks a VMA no longer in the tree (the RFC has no detached flag) and maps a page
//    outside any VMA (the per-VMA fault check, 30099e5), and a reader's bare up_read() can still
//    run when the VMA's call_rcu() free ends (Jann Horn's unlock-then-free, f7d940b). Neither was
//    hit in the soak runs so far. Before the era took v6.5's stack expansion under the write lock
//    (734797c), the soak found StackRot there (CVE-2023-3269: a stack growing under
//    mmap_read_lock in a tree in RCU mode freed a maple node under the reaper's for_each_vma()).
//
// Written against the kernel functions 'mmrace' exports, imported here from their modules (a
// built-in scenario importing the package's index would cycle through the catalogue).
import { cpuCtx, point } from '../cpu/context.js';
import { ERAS } from '../eras/index.js';
import { EINVAL, ENOSYS, ESRCH } from '../kernel/errno.js';
import { do_exit } from '../kernel/exit.js';
import { mm_alloc, mm_cachep, mmget, signal_cachep, spawnTask, task_struct_cachep } from '../kernel/fork.js';
import {
  fatal_signal_pending,
  get_current,
  get_task_struct,
  put_task_struct,
  schedule,
  schedule_timeout_uninterruptible,
  set_current_state,
  wake_up_process,
} from '../kernel/sched.js';
import { task_unlock } from '../kernel/task_lock.js';
import { TASK, TASK_KILLABLE, TASK_RUNNING, TASK_UNINTERRUPTIBLE } from '../kernel/task_struct.js';
import { copy_mm } from '../mm/dup_mmap.js';
import { mark_oom_victim, process_mrelease } from '../mm/era_ops.js';
import { __do_page_fault } from '../mm/fault.js';
import { kread } from '../mm/kasan.js';
import { FAULT_FLAG_WRITE, VM_FAULT_ERROR, VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV } from '../mm/memory.js';
import { MM, MMF_UNSTABLE, VMA } from '../mm/mm_types.js';
import {
  do_mmap,
  do_munmap,
  find_vma,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_GROWSDOWN,
  MAP_LOCKED,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  vm_mmap,
  vm_munmap,
} from '../mm/mmap.js';
import { mmap_read_lock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock } from '../mm/mmap_lock.js';
import { mprotect } from '../mm/mprotect.js';
import {
  do_send_sig_info_SIGKILL,
  find_lock_task_mm,
  oom_init,
  oom_kill_process,
  oom_reaper,
  oom_victims,
} from '../mm/oom_kill.js';
import { nr_free_pages, nr_pages } from '../mm/page_alloc.js';
import { kmem_cache_live } from '../mm/slab.js';
import { defineBuiltinScenario, type Scenario, type ScenarioInput } from '../scenarios/scenario.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';

const PAGE = 4096;
const pages = (n: number): number => n * PAGE;

/** The process's mappings: each in its own page table (2 MiB apart), the stack in another PGD slot. */
const PRIV = 0x08000000; // 16 pages, private RW: first touch, mprotect/munmap splits, COW
const SHARED = 0x08400000; // 8 pages, MAP_SHARED anonymous (shmem): never reaped
const LOCKED = 0x08800000; // 8 pages, MAP_LOCKED: munlocked by exit_mmap to v5.17, reaped from v5.18
const STACK_TOP = 0xbf800000; // a 4-page MAP_GROWSDOWN stack below it; faults grow it to 12 pages
const SCRATCH = 0x40000000; // main's own mmap/munmap area, three 4-page slots 64 KiB apart
const slot = (i: number): number => SCRATCH + i * 0x10000;

const SIGKILL = 9;
/** v5.18+ reaper delay (OOM_REAPER_DELAY, 2 * HZ): fault-r's held-up exit lasts about as long. */
const STUCK_JIFFIES = 2000;
/**
 * Added to it: 0 makes the held-up thread and the reaper's timer wake together (in controlled mode
 * within a jiffy, the time of a few hundred decisions); -40 and +40 jiffies make one clearly first.
 */
const STUCK_DELTA = [0, -40, 0, 40];
/** fault-r's fault (index in READER) whose page allocation ends in the OOM kill. */
const OOM_AT_FAULT = 9;

/**
 * Per-run counters, in the arena (every CPU writes them). Per run: `faults_*` are faults that
 * mapped a page (or found one), `sigbus` faults refused by MMF_UNSTABLE (the reaper got there
 * first), `sigsegv` faults outside a VMA or against its protection (main's munmap/mprotect).
 */
const FIELDS = [
  'faults_w',
  'faults_r',
  'faults_child',
  'sigbus',
  'sigsegv',
  'ops',
  'mmaps',
  'munmaps',
  'mprotects',
  'fork_state', // 0 not yet, 1 forked, 2 fork failed, 3 main never forked
  'fork_saw_reap', // MMF_UNSTABLE went up while copy_mm() ran
  'fork_after_reap', // copy_mm() started on an mm already (being) reaped
  'killed',
  'mrelease_ret',
  'mrelease_done',
  'stuck', // fault-r held up in its exit path
  'child_mm',
  'broken_done',
  'einval_ok', // this era's process_mrelease may return -EINVAL here (EINVAL_RACE)
] as const;
type Field = (typeof FIELDS)[number];
const ST = defineStatics('teardown_soak', FIELDS);
const at = (f: Field): number => ST.base() + ST.layout[f];
const load = (f: Field): number => Atomics.load(mem.i32, at(f));
const store = (f: Field, v: number): void => {
  Atomics.store(mem.i32, at(f), v);
};
const add = (f: Field, d = 1): void => {
  Atomics.add(mem.i32, at(f), d);
};

/** Totals over the runs whose final checks ran (main thread): what the soak's CPUs did. */
export interface SoakTotals {
  runs: number;
  faults: number;
  childFaults: number;
  sigbus: number;
  sigsegv: number;
  ops: number;
  mmaps: number;
  munmaps: number;
  mprotects: number;
  forks: number;
  forksFailed: number;
  forkSawReap: number;
  forkAfterReap: number;
  kills: number;
  mreleaseReaped: number;
  mreleaseEsrch: number;
  mreleaseEnosys: number;
  stuck: number;
}

const zeroTotals = (): SoakTotals => ({
  runs: 0,
  faults: 0,
  childFaults: 0,
  sigbus: 0,
  sigsegv: 0,
  ops: 0,
  mmaps: 0,
  munmaps: 0,
  mprotects: 0,
  forks: 0,
  forksFailed: 0,
  forkSawReap: 0,
  forkAfterReap: 0,
  kills: 0,
  mreleaseReaped: 0,
  mreleaseEsrch: 0,
  mreleaseEnosys: 0,
  stuck: 0,
});

let totals = zeroTotals();

/** The totals so far, and a fresh count from here on (the soak script reads them per era). */
export function takeSoakTotals(): SoakTotals {
  const t = totals;
  totals = zeroTotals();
  return t;
}

function accumulate(): void {
  const t = totals;
  t.runs++;
  t.faults += load('faults_w') + load('faults_r');
  t.childFaults += load('faults_child');
  t.sigbus += load('sigbus');
  t.sigsegv += load('sigsegv');
  t.ops += load('ops');
  t.mmaps += load('mmaps');
  t.munmaps += load('munmaps');
  t.mprotects += load('mprotects');
  t.forks += load('fork_state') === 1 ? 1 : 0;
  t.forksFailed += load('fork_state') === 2 ? 1 : 0;
  t.forkSawReap += load('fork_saw_reap');
  t.forkAfterReap += load('fork_after_reap');
  t.kills += load('killed');
  const r = load('mrelease_ret');
  t.mreleaseReaped += r === 0 ? 1 : 0;
  t.mreleaseEsrch += r === -ESRCH ? 1 : 0;
  t.mreleaseEnosys += r === -ENOSYS ? 1 : 0;
  t.stuck += load('stuck');
}

// --- the CPUs' programs ---

/** Sleep until SIGKILL (a thread with nothing left to do: pause()). */
function wait_for_sigkill(): void {
  const me = get_current();
  for (;;) {
    set_current_state(TASK_KILLABLE);
    if (fatal_signal_pending(me)) break;
    schedule();
  }
  set_current_state(TASK_RUNNING);
}

/** Sleep until `cond` holds; whoever makes it hold wakes us. */
function wait_until(cond: () => boolean): void {
  for (;;) {
    set_current_state(TASK_UNINTERRUPTIBLE);
    if (cond()) break;
    schedule();
  }
  set_current_state(TASK_RUNNING);
}

const mmUnstable = (mm: number): boolean =>
  (Atomics.load(mem.i32, mm + MM.flags) & (1 << MMF_UNSTABLE)) !== 0;

/** One user access that faults: counted by outcome. */
function fault(mm: number, addr: number, write: boolean, counter: Field): void {
  point('soak:fault');
  const r = __do_page_fault(mm, addr, write ? FAULT_FLAG_WRITE : 0);
  if (r & VM_FAULT_SIGBUS) add('sigbus');
  else if (r & VM_FAULT_SIGSEGV) add('sigsegv');
  else if (!(r & VM_FAULT_ERROR)) add(counter);
}

type Access = readonly [addr: number, write: boolean];

/** fault-w: writes over the private mapping (COW once forked), the stack, the mlocked and shared ones. */
const WRITER: readonly Access[] = Array.from({ length: 16 }, (_, i): Access[] => {
  const a: Access[] = [[PRIV + pages(i), true]];
  if (i % 2 === 0) a.push([LOCKED + pages(i % 8), true]);
  if (i % 4 === 1) a.push([SHARED + pages(i % 8), false]);
  if (i % 3 === 2) a.push([STACK_TOP - pages(5 + (i % 8)), true]);
  return a;
}).flat();

/** fault-r: reads, shared writes, and the ranges main maps, unmaps and protects. */
const READER: readonly Access[] = Array.from({ length: 16 }, (_, i): Access[] => {
  const a: Access[] = [[PRIV + pages(15 - i), false]];
  if (i % 2 === 0) a.push([SHARED + pages(i % 8), true]);
  if (i % 2 === 1) a.push([slot(0) + pages(i % 4), true]);
  if (i % 4 === 0) a.push([slot(1) + pages(i % 4), false]);
  if (i % 4 === 2) a.push([PRIV + pages(4 + (i % 2)), true]); // read-only after main's mprotect
  if (i % 4 === 3) a.push([PRIV + pages(10 + (i % 2)), true]); // unmapped for a while
  return a;
}).flat();

/** The child: its own copy of the private and mlocked pages (COW), the shared pages, then exit. */
const CHILD: readonly Access[] = Array.from({ length: 8 }, (_, i): Access[] => [
  [PRIV + pages(i * 2), true],
  [LOCKED + pages(i), i % 2 === 0],
  [SHARED + pages(i), i % 3 === 0],
]).flat();

function faultThread(
  g: Record<string, number>,
  script: readonly Access[],
  counter: Field,
  at = -1,
  then?: () => void,
): void {
  const me = get_current();
  for (let i = 0; i < script.length; i++) {
    if (fatal_signal_pending(me)) return; // back to user mode: the signal is delivered
    const [addr, write] = script[i]!;
    fault(g.mm!, addr, write, counter);
    if (i === at) then!();
  }
}

function faultWriter(g: Record<string, number>): void {
  faultThread(g, WRITER, 'faults_w');
  wait_for_sigkill();
  do_exit(SIGKILL);
}

function faultReader(g: Record<string, number>): void {
  faultThread(g, READER, 'faults_r', OOM_AT_FAULT, () => oomKill(g));
  wait_for_sigkill();
  // Held up in the exit path in a third of the runs (which third depends on the interleaving: the
  // other faulting thread's progress), about as long as the v5.18+ reaper waits. This thread armed
  // the reaper's timer a moment ago, so the timer fires around the time this thread's mmput()
  // starts exit_mmap(): just before, at the same time or just after (STUCK_DELTA).
  const k = load('faults_w') + load('faults_r');
  if (k % 3 === 0) {
    store('stuck', 1);
    schedule_timeout_uninterruptible(STUCK_JIFFIES + STUCK_DELTA[(k >> 2) % STUCK_DELTA.length]!);
  }
  do_exit(SIGKILL);
}

/**
 * fault-r's allocation fails at its OOM_AT_FAULT-th fault: out_of_memory() picks this process, the
 * largest (select_bad_process() is not called: its task walk is the model bug described in
 * child()), and oom_kill_process() kills it in the era's form (SIGKILL, mark_oom_victim(), then
 * wake_oom_reaper() or, from v5.18, the 2 s timer of queue_oom_reaper()). The SIGKILL reaches every
 * thread: each is marked (see the header) and signalled. Then lmkd, which was waiting for the
 * kill, calls process_mrelease().
 */
function oomKill(g: Record<string, number>): void {
  for (let i = 0; i < 4; i++) point('soak:kill'); // the allocation's retries before the OOM killer
  oom_kill_process(g.main!);
  for (const t of [g.writer!, g.reader!]) {
    const p = find_lock_task_mm(t);
    if (p) {
      mark_oom_victim(p);
      task_unlock(p);
    }
    do_send_sig_info_SIGKILL(t);
  }
  store('killed', 1);
  wake_up_process(g.lmkd!);
  wake_up_process(g.child!);
}

function child(g: Record<string, number>): void {
  wait_until(() => load('fork_state') !== 0);
  if (load('fork_state') === 1) {
    const mm = Atomics.load(mem.i32, g.child! + TASK.mm);
    for (const [addr, write] of CHILD) {
      point('soak:fault');
      const r = __do_page_fault(mm, addr, write ? FAULT_FLAG_WRITE : 0);
      if (!(r & VM_FAULT_ERROR)) add('faults_child');
    }
  }
  // MODEL WORKAROUND: the child leaves only after the OOM kill. oom_kill_process() walks the tasks
  // (check_spurious_oom_kill()'s for_each_process() in mm/oom_kill.ts: the live task_struct
  // objects, read with no RCU protection), so a task freed during the walk is read after its free
  // and its poisoned ->signal crashes slab_is_live() with a RangeError (a bug of the model, reported
  // with the soak; the kernel's task list is RCU-safe).
  wait_until(() => load('killed') !== 0);
  do_exit(0); // a task that never got an mm (no fork) leaves without one
}

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;

/** fork(): copy_mm() into the child task made at setup, then wake it (wake_up_new_task). */
function doFork(g: Record<string, number>): number {
  const mm = g.mm!;
  if (mmUnstable(mm)) store('fork_after_reap', 1);
  const before = mmUnstable(mm);
  const ret = copy_mm(0, g.child!);
  if (!before && mmUnstable(mm)) store('fork_saw_reap', 1);
  const cmm = Atomics.load(mem.i32, g.child! + TASK.mm);
  store('child_mm', cmm);
  store('fork_state', ret === 0 && cmm ? 1 : 2);
  wake_up_process(g.child!);
  return ret;
}

/** Main's operations, in order. */
function mainOps(g: Record<string, number>): (() => void)[] {
  const mm = g.mm!;
  const mmap = (addr: number, n: number, flags: number) => () => {
    vm_mmap(mm, addr, pages(n), RW, flags);
    add('mmaps');
  };
  const munmap = (addr: number, n: number) => () => {
    vm_munmap(mm, addr, pages(n));
    add('munmaps');
  };
  const prot = (addr: number, n: number, p: number) => () => {
    mprotect(mm, addr, pages(n), p);
    add('mprotects');
  };
  return [
    mmap(slot(0), 4, ANON),
    prot(PRIV + pages(4), 2, PROT_READ), // splits PRIV in three
    munmap(PRIV + pages(10), 2), // and again
    () => doFork(g),
    mmap(slot(1), 4, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED),
    prot(PRIV + pages(4), 2, RW),
    mmap(PRIV + pages(10), 2, ANON), // the hole filled again
    munmap(slot(0), 4),
    mmap(slot(2), 4, ANON | MAP_LOCKED), // populated by mm_populate()
    prot(slot(2), 4, PROT_NONE),
    munmap(slot(1), 4),
    munmap(slot(2), 4),
  ];
}

function mainThread(g: Record<string, number>, broken: Broken | undefined): void {
  const me = get_current();
  if (broken === 'stale-vma') staleVma(g.mm!);
  const ops = mainOps(g);
  for (let i = 0; i < ops.length; i++) {
    if (fatal_signal_pending(me)) break; // each syscall returns to user mode: SIGKILL is delivered
    point('soak:op');
    ops[i]!();
    add('ops');
  }
  if (load('fork_state') === 0) {
    store('fork_state', 3);
    wake_up_process(g.child!);
  }
  wait_for_sigkill();
  do_exit(SIGKILL);
}

/** lmkd: once the process is killed, reap it with process_mrelease(2) (-ENOSYS before v5.15). */
function lmkd(g: Record<string, number>): void {
  wait_until(() => load('killed') !== 0);
  point('soak:mrelease');
  // process_mrelease(pidfd): find_lock_task_mm() walks the thread group for a thread that still
  // has the mm; with one task per thread group here, lmkd tries each thread's "pidfd" in turn.
  let ret = -ESRCH;
  for (const t of [g.main!, g.writer!, g.reader!]) {
    ret = process_mrelease(t, 0);
    if (ret !== -ESRCH) break;
  }
  store('mrelease_ret', ret);
  store('mrelease_done', 1);
  for (const t of [g.main!, g.writer!, g.reader!]) put_task_struct(t); // the pidfds
}

// --- deliberately broken steps (test/teardown_soak.test.ts): the soak's checks must catch them ---

/** Which broken step a variant of the soak carries (teardownSoak({ broken })). */
export type Broken = 'stale-vma' | 'mm-after-exit';

/**
 * A VMA pointer kept across munmap(): looked up under mmap_lock, used after the lock is dropped and
 * the range unmapped (remove_vma() freed it).
 */
function staleVma(mm: number): void {
  // The syscalls' bodies under the plain (not killable) lock, so that a SIGKILL already pending
  // cannot make them fail: the step is broken in every run.
  mmap_write_lock(mm);
  do_mmap(mm, slot(3), PAGE, RW, ANON, 0, 0);
  mmap_write_unlock(mm);
  mmap_read_lock(mm);
  const vma = find_vma(mm, slot(3));
  mmap_read_unlock(mm);
  mmap_write_lock(mm);
  do_munmap(mm, slot(3), PAGE);
  mmap_write_unlock(mm);
  store('broken_done', kread(vma + VMA.vm_end) === slot(3) + PAGE ? 1 : 2);
}

/** A thread that goes on using the mm after its own exit dropped its mm_users reference. */
function mmAfterExit(g: Record<string, number>): void {
  faultThread(g, WRITER, 'faults_w');
  wait_for_sigkill();
  do_exit(SIGKILL);
  // No reference left: once the other threads are gone, exit_mmap() frees the VMAs under this walk.
  for (let i = 0; i < 200; i++) {
    point('soak:fault');
    let vma = kread(g.mm! + MM.mmap);
    while (vma) vma = kread(vma + VMA.vm_next);
  }
  store('broken_done', 1);
}

// --- the scenario ---

/**
 * The eras where this program can meet a real kernel bug (see the header); v4.13-rc4 is a hazard
 * era (`--eras v4.13-rc4`): faults populate what the reaper freed.
 */
const KNOWN_BUGGY = ['v4.13-rc4', 'v5.15-rc1', 'rfc-2022-09'];
/**
 * process_mrelease() of 884a7e5964e0 tests MMF_OOM_SKIP, then task_will_free_mem() tests it again:
 * set in between (the reaper's oom_reap_task() is done), the syscall returns -EINVAL. Later forms
 * test it last and return 0.
 */
const EINVAL_RACE = ['v5.15-rc1'];

export interface SoakOptions {
  /** Another id for a variant of the soak (a test's broken one). */
  id?: string;
  /** A deliberately broken step that the soak's checks must catch. */
  broken?: Broken;
}

/** The soak's definition; `scenario` below is the built-in one. */
export function teardownSoak(o: SoakOptions = {}): ScenarioInput {
  const broken = o.broken;
  return {
    id: o.id ?? 'teardown-soak',
    title: 'Teardown soak: faults, mmap/munmap/fork, OOM kill, reaper, process_mrelease and exit_mmap',
    refs: [
      'kernel-mm.md §1.9 (who may overlap which exit_mmap phase), §2 (the reaper, process_mrelease)',
      '884a7e5964e0 / 337546e83fc7 process_mrelease: mm_count pin (D2, v5.15-rc1) / mm_users pin (v5.15)',
      'mm/mmap.c exit_mmap(), mm/oom_kill.c, kernel/fork.c dup_mmap(), mm/memory.c',
    ],
    description:
      'A process with private, shared, mlocked and stack mappings: two threads take read/write faults ' +
      '(COW after the fork), the main thread maps, unmaps, mprotects and forks (the child COW-faults ' +
      "and exits). A thread's failed allocation OOM-kills it mid-way (the era kill path), all its " +
      'threads are marked and killed, lmkd calls process_mrelease(2); the oom_reaper reaps while the ' +
      'threads exit and the last mmput() runs exit_mmap(). Clean in every era but v5.15-rc1 (D2) ' +
      "and rfc-2022-09 (the per-VMA lock RFC's faults racing munmap).",
    variants: ERAS.map((e) => ({
      name: e.name,
      era: e.name,
      expected: KNOWN_BUGGY.includes(e.name) || broken ? 'reproduces' : 'clean',
    })),
    ...(broken ? {} : { expectFailIn: KNOWN_BUGGY }),
    globals: ['reaper', 'main', 'writer', 'reader', 'child', 'lmkd', 'mm'],
    cpus: [
      { name: 'oom_reaper', task: 'reaper', kthread: true, run: () => oom_reaper() },
      { name: 'main: mmap/munmap/mprotect/fork', task: 'main', run: (g) => mainThread(g, broken) },
      {
        name: 'thread: write faults',
        task: 'writer',
        run: (g) => (broken === 'mm-after-exit' ? mmAfterExit(g) : faultWriter(g)),
      },
      { name: 'thread: read faults, OOM kill', task: 'reader', run: (g) => faultReader(g) },
      { name: 'forked child', task: 'child', run: (g) => child(g) },
      { name: 'lmkd: process_mrelease', task: 'lmkd', run: (g) => lmkd(g) },
    ],
    setupOnce: true,
    setup(g, variant) {
      for (const f of FIELDS) store(f, 0);
      if (EINVAL_RACE.includes(variant.era)) store('einval_ok', 1);
      const reaper = spawnTask('oom_reaper', { kthread: true });
      oom_init(reaper);
      const mm = mm_alloc();
      const main = spawnTask('soak', { mm });
      mmget(mm);
      const writer = spawnTask('soak-w', { mm });
      mmget(mm);
      const reader = spawnTask('soak-r', { mm });
      const childTask = spawnTask('soak-child'); // fork()'s new task, not running until copy_mm()
      const lmkdTask = spawnTask('lmkd');
      for (const t of [main, writer, reader]) get_task_struct(t); // lmkd's pidfds
      cpuCtx.current = main;
      vm_mmap(mm, PRIV, pages(16), RW, ANON);
      vm_mmap(mm, SHARED, pages(8), RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
      vm_mmap(mm, LOCKED, pages(8), RW, ANON | MAP_LOCKED);
      vm_mmap(mm, STACK_TOP - pages(4), pages(4), RW, ANON | MAP_GROWSDOWN);
      // Some memory already in use: half the private pages, the stack's top page.
      for (let i = 0; i < 16; i += 2) __do_page_fault(mm, PRIV + pages(i), FAULT_FLAG_WRITE);
      __do_page_fault(mm, STACK_TOP - PAGE, FAULT_FLAG_WRITE);
      cpuCtx.current = 0;
      Object.assign(g, { reaper, main, writer, reader, child: childTask, lmkd: lmkdTask, mm });
    },
    checks: [
      {
        name: 'the process was OOM-killed and process_mrelease returned 0, -ESRCH or -ENOSYS',
        check: () => {
          if (!load('killed')) return 'the OOM kill did not happen';
          const r = load('mrelease_ret');
          const ok = [0, -ESRCH, -ENOSYS, ...(load('einval_ok') ? [-EINVAL] : [])];
          if (!load('mrelease_done') || !ok.includes(r)) return `process_mrelease returned ${r}`;
          return null;
        },
      },
      {
        name: 'every page back in the free pool',
        check: () => {
          const used = nr_pages() - nr_free_pages();
          return used === 0 ? null : `${used} pages still allocated`;
        },
      },
      {
        name: 'every mm freed, and every task but the reaper and lmkd',
        check: () => {
          const mms = kmem_cache_live(mm_cachep);
          const tasks = kmem_cache_live(task_struct_cachep);
          const signals = kmem_cache_live(signal_cachep);
          return mms === 0 && tasks === 2 && signals === 2
            ? null
            : `live: ${mms} mm_struct, ${tasks} task_struct, ${signals} signal_struct (want 0, 2, 2)`;
        },
      },
      {
        name: 'no OOM victim left (exit_oom_victim for each marked thread)',
        check: () => (oom_victims() === 0 ? null : `oom_victims ${oom_victims()}`),
      },
      {
        name: 'the soak counted its work',
        check: () => {
          accumulate();
          return null;
        },
      },
    ],
    jitter: {
      windows: [
        // the soak's own: between faults, main's syscalls, the OOM kill and lmkd's process_mrelease
        'soak:fault',
        'soak:op',
        'soak:kill',
        'soak:mrelease',
        // the reaper and process_mrelease
        '__oom_reap_task_mm',
        'oom_reap:vma',
        'process_mrelease:unlocked',
        'zap_pte',
        // exit: the last mmput() and exit_mmap()'s phases
        'exit_mm:mmput',
        'exit_aio',
        'unmap_vmas:vma',
        'exit_mmap:oom_skip_set',
        'exit_mmap:free_pgtables',
        'exit_mmap:remove_vma',
        // faults, munmap and fork
        'handle_mm_fault',
        'do_anonymous_page:lock',
        'wp_page_copy:lock',
        'do_munmap:detached',
        'dup_mmap:vma',
      ],
      probability: 0.25,
      maxSpin: 300,
      yieldShare: 0.3,
      maxYieldUs: 30,
      overrides: {
        'soak:kill': { probability: 0.8, yieldShare: 1, maxYieldUs: 120 },
        'soak:mrelease': { probability: 0.5, yieldShare: 1, maxYieldUs: 100 },
        'process_mrelease:unlocked': { probability: 0.5, yieldShare: 1, maxYieldUs: 60 },
        'oom_reap:vma': { probability: 0.5, yieldShare: 0.5, maxYieldUs: 60 },
        'exit_mm:mmput': { probability: 0.5, yieldShare: 1, maxYieldUs: 60 },
        zap_pte: { probability: 0.1, maxSpin: 200, yieldShare: 0 },
      },
    },
    // 1 emulated second is 1 ms: the v5.18+ reaper's 2 s wait and fault-r's held-up exit cost 2 ms.
    timeScale: 1000,
  };
}

export const scenario: Scenario = defineBuiltinScenario(teardownSoak());
