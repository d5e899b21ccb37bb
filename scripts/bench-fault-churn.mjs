// Benchmark fixture for `npm run bench -- fault` (scripts/bench-fault.mjs), its second part: one
// CPU faulting on an anonymous region of its own while (variant `<era>/writer`) a second CPU of the
// same mm takes mmap_lock for writing again and again on an unrelated range, or (`<era>/alone`)
// does nothing. Free mode, no jitter: the CPUs are real worker threads, running at once.
//
//  - faulter: waits for the writer CPU to start, then write-faults its region (FAULT_BASE, `pages`
//    pages, one VMA) pass after pass through __do_page_fault() (the era's per-VMA lock first, the
//    mmap_lock path as fallback). Between passes, untimed, it munmap()s and mmap()s the region
//    again under mmap_lock for writing (pages and page tables freed, a fresh VMA; if the VMA cache
//    is empty, rcu_barrier() and one more try) and faults its first page, also untimed: that fault
//    gives the fresh VMA its anon_vma (rfc-2022-09 to v6.6 decline the per-VMA lock for a VMA
//    without one, VMA_LOCK_ABORT, and take the mmap_lock path; v6.15 makes it under the VMA lock
//    when mmap_read_trylock() succeeds, else VMA_LOCK_RETRY), so that a fault behind a writer
//    holding mmap_lock is not in the figures. A pass is the other `pages` - 1 faults, timed with
//    performance.now(); only they are counted: faults/s = faults / time inside the passes, and
//    the VMA_LOCK_* counters are read around each pass (the faulter is the only CPU that
//    faults), so in eras with a per-VMA lock every counted fault tries it first. The faulter stops
//    after the pass that ends past `ms` of wall time. Around each pass (outside the timed window)
//    it also reads its thread's run-queue wait from /proc/thread-self/schedstat: the time the
//    host kept it off a CPU while runnable (other threads, other processes), as opposed to time on
//    a CPU (faulting, or spinning on a lock) or asleep in a lock wait (Atomics.wait).
//  - writer: until the faulter is done (at least one loop), mprotect()s two pages of its own
//    16-page VMA (CHURN_BASE, far from the faulter's) read-only and back (a split into three, a
//    merge back), munmap()s two other pages and mmap()s them again (a hole, refilled): mmap_lock
//    taken for writing four times per loop; loops, failed mmaps, the loop's wall time and its
//    run-queue wait are counted. When more than `backlog` call_rcu() callbacks are queued (VMAs
//    freed through RCU; the emulated VMA cache holds 128, and left alone the writer outruns
//    rcu_sched and half its mmaps fail) it waits in rcu_barrier() inside its loop (counted;
//    backlog 0: never).
//  - rcu_sched: the RCU grace-period kthread.
// The main thread's final check sums each run's figures; takeChurnTotals() hands the sums of the
// runs since its last call to the benchmark. The CPUs' figures travel back through spare words of
// the scenario globals (SCENARIO_GLOBALS), which both sides address by index; setChurnParams()
// sets the next runs' `ms`, `pages` and `backlog`.

import { readFileSync } from 'node:fs';
import {
  cpuCtx,
  defineScenario,
  ERAS,
  mm_alloc,
  point,
  rcu_barrier,
  rcu_gp_kthread,
  rcuCallbacksPending,
  spawnTask,
} from '../dist/src/index.js';
import { __do_page_fault } from '../dist/src/mm/fault.js';
import { FAULT_FLAG_WRITE, VM_FAULT_ERROR } from '../dist/src/mm/memory.js';
import { VM_ACCOUNT, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE } from '../dist/src/mm/mm_types.js';
import { do_munmap, mmap_anon_fixed, PROT_READ, PROT_WRITE } from '../dist/src/mm/mmap.js';
import { mmap_write_lock, mmap_write_unlock } from '../dist/src/mm/mmap_lock.js';
import { mprotect } from '../dist/src/mm/mprotect.js';
import { vmstat_vma_lock, vmstatVmaLockReset } from '../dist/src/mm/vma_lock.js';
import { SCENARIO_GLOBALS } from '../dist/src/scenarios/kernel_image.js';
import { mem } from '../dist/src/shm/arena.js';

/**
 * This thread's time waiting on the host's run queue so far, in ns (/proc/thread-self/schedstat:
 * on-CPU ns, run-queue wait ns, timeslices; a synchronous read runs on the calling thread); -1
 * where the file is missing.
 */
function runqueueWaitNs() {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[1]);
  } catch {
    return -1;
  }
}

const P = 4096;
const COUNTERS = ['VMA_LOCK_SUCCESS', 'VMA_LOCK_ABORT', 'VMA_LOCK_RETRY', 'VMA_LOCK_MISS'];
const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT;
export const FAULT_BASE = 0x10000000;
export const CHURN_BASE = 0x30000000;
const CHURN_PAGES = 16;
/** The writer waits for RCU callbacks (rcu_barrier()) when more than this many are queued. */
const RCU_BACKLOG = 32;

/** The eras measured: the mmap_lock path (v6.1) and every era with a per-VMA lock generation. */
export const BASELINE_ERA = 'v6.1';
export const generationOf = (e) => e.vmaLock?.generation ?? 'none';
export const CHURN_ERAS = ERAS.filter((e) => e.name === BASELINE_ERA || generationOf(e) !== 'none');

// Globals: the tasks and parameters (written by setup), then the result words (written by the CPUs).
const GLOBALS = [
  'mm',
  'fault',
  'writer',
  'rcu',
  'churn',
  'ms',
  'pages',
  'started',
  'done',
  'faults',
  'us',
  'bad',
  'loops',
  'wus',
  'code',
  'remap',
  'barriers',
  'backlog',
  'wfail',
  'rqus',
  'brus',
  'VMA_LOCK_SUCCESS',
  'VMA_LOCK_ABORT',
  'VMA_LOCK_RETRY',
  'VMA_LOCK_MISS',
  'wrqus',
];
const slot = (name) => {
  const i = GLOBALS.indexOf(name);
  if (i < 0) throw new Error(`bench-fault-churn: no global '${name}'`);
  return SCENARIO_GLOBALS.base() + i;
};
const put = (name, v) => Atomics.store(mem.i32, slot(name), v);
const get = (name) => Atomics.load(mem.i32, slot(name));

// Main thread: the next runs' parameters, read by setup.
const params = { ms: 300, pages: 256, backlog: RCU_BACKLOG };
/** The next runs' faulting time (`ms`, wall time), region size (`pages`) and the writer's RCU `backlog`. */
export function setChurnParams(p) {
  Object.assign(params, p);
}

/** Every total at 0 (bench-fault.mjs sums runs into one too). */
export const zero = () => ({
  runs: 0,
  faults: 0,
  us: 0,
  bad: 0,
  loops: 0,
  wus: 0,
  barriers: 0,
  wfail: 0,
  rqus: 0,
  brus: 0,
  wrqus: 0,
  VMA_LOCK_SUCCESS: 0,
  VMA_LOCK_ABORT: 0,
  VMA_LOCK_RETRY: 0,
  VMA_LOCK_MISS: 0,
});
let totals = zero();
/**
 * The sums over the runs since the last call: faults, µs inside the passes, failed faults, writer
 * loops and µs, VMA_LOCK_* counters.
 */
export function takeChurnTotals() {
  const t = totals;
  totals = zero();
  return t;
}

/**
 * mmap() of the faulter's region again, under mmap_lock for writing. The emulated slab caches are
 * small (128 VMAs): when they are empty of objects that call_rcu() has not freed yet, wait for
 * the callbacks (rcu_barrier()) and try once more. False when even that failed.
 */
function remapRegion(mm, len) {
  for (let i = 0; i < 2; i++) {
    mmap_write_lock(mm);
    const vma = mmap_anon_fixed(mm, FAULT_BASE, len, RW);
    mmap_write_unlock(mm);
    if (vma) return true;
    rcu_barrier();
  }
  return false;
}

function faulter(g) {
  const i32 = mem.i32;
  const started = slot('started');
  while (Atomics.load(i32, started) === 0) point('bench-fault-churn:wait');
  const { mm, pages } = g;
  const len = pages * P;
  const end = FAULT_BASE + len;
  const until = performance.now() + g.ms;
  let faults = 0;
  let bad = 0;
  let code = 0;
  let remap = 0;
  let ms = 0;
  // The VMA_LOCK_* events of the timed faults only (the faulter is the only CPU that faults).
  const ev = [0, 0, 0, 0];
  // The run-queue wait is read around each pass: `rq` over `br`, the wall time between the reads.
  let rq = runqueueWaitNs() < 0 ? -1 : 0;
  let br = 0;
  const fault = (a) => {
    const f = __do_page_fault(mm, a, FAULT_FLAG_WRITE);
    if (f & VM_FAULT_ERROR) {
      bad++;
      code |= f;
    }
  };
  fault(FAULT_BASE); // untimed: the VMA's anon_vma
  for (;;) {
    const b0 = performance.now();
    const q0 = rq < 0 ? 0 : runqueueWaitNs();
    const c0 = vmstat_vma_lock();
    const t0 = performance.now();
    for (let a = FAULT_BASE + P; a < end; a += P) fault(a);
    const t1 = performance.now();
    const c1 = vmstat_vma_lock();
    if (rq >= 0) {
      rq += runqueueWaitNs() - q0;
      br += performance.now() - b0;
    }
    COUNTERS.forEach((k, i) => {
      ev[i] += c1[k] - c0[k];
    });
    ms += t1 - t0;
    faults += pages - 1;
    if (t1 >= until) break;
    mmap_write_lock(mm);
    do_munmap(mm, FAULT_BASE, len);
    mmap_write_unlock(mm);
    if (!remapRegion(mm, len)) {
      remap++;
      break;
    }
    fault(FAULT_BASE); // untimed: the new VMA's anon_vma
  }
  COUNTERS.forEach((k, i) => {
    put(k, ev[i]);
  });
  put('faults', faults);
  put('us', Math.round(ms * 1000));
  put('bad', bad);
  put('code', code);
  put('remap', remap);
  put('rqus', rq < 0 ? -1 : Math.round(rq / 1000));
  put('brus', Math.round(br * 1000));
  Atomics.store(i32, slot('done'), 1);
}

function writer(g) {
  const i32 = mem.i32;
  const done = slot('done');
  Atomics.store(i32, slot('started'), 1);
  if (!g.churn) return;
  const { mm } = g;
  const r = CHURN_BASE;
  const q0 = runqueueWaitNs();
  const t0 = performance.now();
  let loops = 0;
  let barriers = 0;
  let wfail = 0;
  // At least one loop, however late the host runs this thread.
  do {
    mprotect(mm, r + 2 * P, 2 * P, PROT_READ); // split into three
    mprotect(mm, r + 2 * P, 2 * P, PROT_READ | PROT_WRITE); // merge back
    mmap_write_lock(mm);
    do_munmap(mm, r + 8 * P, 2 * P); // a hole
    mmap_write_unlock(mm);
    mmap_write_lock(mm);
    if (!mmap_anon_fixed(mm, r + 8 * P, 2 * P, RW)) wfail++; // refilled (merges back)
    mmap_write_unlock(mm);
    loops++;
    // call_rcu() frees VMAs every loop and rcu_sched shares the host's cores with both busy CPUs.
    if (g.backlog > 0 && rcuCallbacksPending() > g.backlog) {
      rcu_barrier();
      barriers++;
    }
  } while (Atomics.load(i32, done) === 0);
  put('loops', loops);
  put('barriers', barriers);
  put('wfail', wfail);
  put('wus', Math.round((performance.now() - t0) * 1000));
  put('wrqus', q0 < 0 ? -1 : Math.round((runqueueWaitNs() - q0) / 1000));
}

export const scenario = defineScenario({
  id: 'bench-fault-churn',
  title: 'benchmark: one CPU faulting, alone or beside a CPU taking mmap_lock for writing on another range',
  refs: ['arch/x86/mm/fault.c do_user_addr_fault()', 'mm/memory.c lock_vma_under_rcu()'],
  description:
    'CPU0 write-faults its own anonymous region pass after pass (remapped between passes, untimed); ' +
    'CPU1 does nothing (<era>/alone) or mprotect()s, munmap()s and mmap()s an unrelated VMA until ' +
    'CPU0 is done (<era>/writer); CPU2 is rcu_sched. For scripts/bench-fault.mjs.',
  variants: CHURN_ERAS.flatMap((e) => [
    { name: `${e.name}/alone`, era: e.name, expected: 'clean' },
    { name: `${e.name}/writer`, era: e.name, expected: 'clean' },
  ]),
  globals: GLOBALS,
  cpus: [
    { name: 'fault', task: 'fault', run: faulter },
    { name: 'mmap/munmap/mprotect', task: 'writer', run: writer },
    { name: 'rcu_sched', task: 'rcu', kthread: true, run: () => rcu_gp_kthread() },
  ],
  setup(g, variant) {
    vmstatVmaLockReset();
    const mm = mm_alloc();
    const [fault, wr] = ['fault', 'writer'].map((n) => spawnTask(n, { mm }));
    const rcu = spawnTask('rcu_sched', { kthread: true });
    cpuCtx.current = wr;
    mmap_write_lock(mm);
    const a = mmap_anon_fixed(mm, FAULT_BASE, params.pages * P, RW);
    const b = mmap_anon_fixed(mm, CHURN_BASE, CHURN_PAGES * P, RW);
    mmap_write_unlock(mm);
    cpuCtx.current = 0;
    if (!a || !b) throw new Error('bench-fault-churn: setup could not map the regions');
    Object.assign(g, {
      mm,
      fault,
      writer: wr,
      rcu,
      churn: variant.name.endsWith('/writer') ? 1 : 0,
      ms: params.ms,
      pages: params.pages,
      backlog: params.backlog,
    });
  },
  checks: [
    {
      name: 'every fault of the passes succeeded; figures summed for the benchmark',
      check: () => {
        const bad = get('bad');
        totals.runs++;
        totals.faults += get('faults');
        totals.us += get('us');
        totals.bad += bad;
        totals.loops += get('loops');
        totals.wus += get('wus');
        totals.barriers += get('barriers');
        totals.wfail += get('wfail');
        totals.brus += get('brus');
        // -1: no schedstat; a sum of runs with and without it is -1 too.
        for (const k of ['rqus', 'wrqus']) totals[k] = totals[k] < 0 || get(k) < 0 ? -1 : totals[k] + get(k);
        for (const k of COUNTERS) totals[k] += get(k);
        const remap = get('remap');
        totals.bad += remap;
        if (bad)
          return `${bad} faults of the faulting CPU failed (VM_FAULT_* OR'd: 0x${get('code').toString(16)})`;
        return remap ? 'the faulting CPU could not mmap its region again' : null;
      },
    },
  ],
  jitter: { windows: [], probability: 0, maxSpin: 0, yieldShare: 0, maxYieldUs: 0 },
});
