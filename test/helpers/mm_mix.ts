// The seeded mix of mm_ops_mix.test.ts, also run by vma_container.test.ts (the same sequence in a
// list era and in a tree era). A seeded random mix of mmap, munmap, mprotect, fork, write (COW) and read faults, stack
// expansion and exit over a few processes, on the boot CPU, in every era. After every step the
// whole machine is checked against what the kernel's counters must say:
//  - each mm: the VMAs sorted and counted by map_count, the container consistent with them (the
//    list eras: linked both ways through vm_next/vm_prev; the tree eras: mm_mt's entries are the
//    VMAs over [vm_start, vm_end - 1], vm_next, vm_prev and mm->mmap never written); total_vm and
//    locked_vm the sums over its VMAs; pgtables_bytes its table pages; MM_ANONPAGES and
//    MM_SHMEMPAGES its present PTEs of each kind; every PTE inside a VMA, writable only in a
//    VM_WRITE one, an exclusive page (mapcount 1) when it is a writable private one, the file's
//    page at the right offset in a shared one;
//  - each page: mapcount = the PTEs that map it, refcount = those plus the page cache's;
//  - anon_vma and shmem refcounts = the VMAs pointing at them, and no other such object alive;
//  - every allocated page is a PGD, a table, a mapped or cached page; one maple node per non-empty
//    tree (after a grace period for the nodes RCU mode retired); nothing in dmesg.
// Then every process exits: check_mm silent, every page back in the free pool, slabs empty.
import { expect } from 'vitest';
import { cpuCtx } from '../../src/cpu/context.js';
import { eraByName } from '../../src/eras/index.js';
import { ENOMEM } from '../../src/kernel/errno.js';
import { mm_alloc, spawnTask } from '../../src/kernel/fork.js';
import { rcu_barrier } from '../../src/kernel/rcu/callbacks.js';
import { TASK } from '../../src/kernel/task_struct.js';
import { copy_mm } from '../../src/mm/dup_mmap.js';
import { __do_page_fault } from '../../src/mm/fault.js';
import { kread } from '../../src/mm/kasan.js';
import { mt_entries } from '../../src/mm/maple_tree.js';
import {
  FAULT_FLAG_WRITE,
  get_mm_counter,
  VM_FAULT_OOM,
  VM_FAULT_SIGSEGV,
  VM_FAULT_WRITE,
} from '../../src/mm/memory.js';
import {
  MAPLE_TREE,
  MM,
  MM_ANONPAGES,
  MM_FILEPAGES,
  MM_SHMEMPAGES,
  MM_SWAPENTS,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_LOCKED,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  VMA,
} from '../../src/mm/mm_types.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_GROWSDOWN,
  MAP_LOCKED,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  vm_mmap,
  vm_munmap,
} from '../../src/mm/mmap.js';
import { mprotect } from '../../src/mm/mprotect.js';
import { nr_free_pages, nr_pages, PAGE, page_ref_count } from '../../src/mm/page_alloc.js';
import { _PAGE_RW, PTE_TABLE_BYTES, pte_present } from '../../src/mm/pgtable.js';
import {
  ANON_VMA,
  anon_vma_cachep,
  PageAnon,
  page_mapcount,
  SHMEM,
  SHMEM_MAX_PAGES,
  shmem_find_page,
  shmem_inode_cachep,
} from '../../src/mm/rmap.js';
import { kmem_cache_live } from '../../src/mm/slab.js';
import { VMA_LIST_V4_14 } from '../../src/mm/vma_list.js';
import { NO_PER_VMA_LOCK, vm_area_cache, vma_lock_cachep, vmaLockOps } from '../../src/mm/vma_lock.js';
import { mem } from '../../src/shm/arena.js';
import { reports } from './boot.js';
import {
  exitAll,
  mapleNodesLive,
  newProcess,
  PAGE_SZ,
  type Proc,
  type VmaInfo,
  vmaList,
  walkPageTables,
} from './process.js';

const P = PAGE_SZ;
const WIN = 0x10000000;
const WIN_PAGES = 32;
const STACKS = WIN - 0x400000;
export const STEPS = 300;
const MAX_PROCS = 3;

/** xorshift32 (Marsaglia): small, seeded, deterministic. */
function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export interface World {
  procs: Proc[];
  dmesg: () => string[];
  rnd: () => number;
  forks: number;
  /** The era keeps the VMAs in the maple tree (v6.1+), not on the vm_next list. */
  tree: boolean;
}

const pick = (w: World, n: number): number => w.rnd() % n;
const any = <T>(w: World, xs: readonly T[]): T => xs[pick(w, xs.length)]!;
const counter = (mm: number, f: 'map_count' | 'total_vm' | 'locked_vm' | 'pgtables_bytes'): number =>
  Atomics.load(mem.i32, mm + MM[f]);
const covering = (mm: number, addr: number) => vmaList(mm).find((v) => v.start <= addr && addr < v.end);

// ---------------------------------------------------------------------------------------------
// the operations; each returns a line for the failure trail

function opMmap(w: World): string {
  const p = any(w, w.procs);
  const pages = 1 + pick(w, 6);
  const fixed = pick(w, 5) !== 0 || counter(p.mm, 'map_count') > 12;
  const addr = fixed ? WIN + pick(w, WIN_PAGES - pages + 1) * P : 0;
  const shared = pick(w, 4) === 0;
  const prot = any(w, [PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ]);
  const roomy = nr_free_pages() > 80;
  const extra = roomy && pick(w, 8) === 0 ? MAP_LOCKED : roomy && pick(w, 8) === 0 ? MAP_POPULATE : 0;
  const flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | (fixed ? MAP_FIXED : 0) | extra;
  return mmapLine(p, addr, pages, prot, flags);
}

/** A stack: VM_GROWSDOWN, below the window, where no other mapping sits within stack_guard_gap. */
function opStack(w: World): string {
  const p = any(w, w.procs);
  const pages = 1 + pick(w, 3);
  const locked = nr_free_pages() > 80 && pick(w, 4) === 0 ? MAP_LOCKED : 0;
  const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN | locked;
  return mmapLine(p, STACKS + pick(w, 16) * P, pages, PROT_READ | PROT_WRITE, flags);
}

function mmapLine(p: Proc, addr: number, pages: number, prot: number, flags: number): string {
  const ret = vm_mmap(p.mm, addr, pages * P, prot, flags);
  if (ret === -ENOMEM) return `mmap ${addr.toString(16)} x${pages}: -ENOMEM`;
  expect(ret).toBeGreaterThan(0);
  if (flags & MAP_FIXED) expect(ret).toBe(addr);
  const v = covering(p.mm, ret)!;
  expect([v.start, v.end]).toEqual([ret, ret + pages * P]);
  expect((v.flags & VM_SHARED) !== 0).toBe((flags & MAP_SHARED) !== 0);
  return `mmap ${ret.toString(16)} x${pages} prot ${prot} flags ${flags.toString(16)} in ${p.mm}`;
}

function opMunmap(w: World): string {
  const p = any(w, w.procs);
  const vmas = vmaList(p.mm);
  let start: number;
  let len: number;
  if (vmas.length && pick(w, 2)) {
    const v = any(w, vmas);
    [start, len] = [v.start, v.end - v.start];
  } else {
    const pages = 1 + pick(w, 8);
    [start, len] = [WIN + pick(w, WIN_PAGES - pages + 1) * P, pages * P];
  }
  const ret = vm_munmap(p.mm, start, len);
  if (ret === -ENOMEM) return `munmap ${start.toString(16)}: -ENOMEM`;
  expect(ret).toBe(0);
  expect(vmaList(p.mm).filter((v) => v.start < start + len && v.end > start)).toEqual([]);
  return `munmap ${start.toString(16)} +${len / P} in ${p.mm}`;
}

function opMprotect(w: World): string {
  const p = any(w, w.procs);
  const vmas = vmaList(p.mm);
  if (!vmas.length) return 'mprotect: nothing mapped';
  const v = any(w, vmas);
  const start = v.start + pick(w, (v.end - v.start) / P) * P;
  const len = (1 + pick(w, (v.end - start) / P)) * P;
  const prot = any(w, [PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE]);
  const ret = mprotect(p.mm, start, len, prot);
  if (ret === -ENOMEM) return `mprotect ${start.toString(16)}: -ENOMEM`;
  expect(ret).toBe(0);
  const after = covering(p.mm, start)!;
  expect(after.start <= start && start + len <= after.end).toBe(true);
  if ((v.flags & (VM_READ | VM_WRITE | VM_EXEC)) ^ prot)
    expect([after.start, after.end]).toEqual([start, start + len]);
  expect(after.flags & (VM_READ | VM_WRITE | VM_EXEC)).toBe(prot);
  return `mprotect ${start.toString(16)} +${len / P} prot ${prot} in ${p.mm}`;
}

function opFork(w: World): string {
  if (w.procs.length >= MAX_PROCS || nr_free_pages() < 80) return opExit(w);
  const parent = any(w, w.procs);
  cpuCtx.current = parent.task;
  const task = spawnTask(`child${++w.forks}`);
  const ret = copy_mm(0, task);
  if (ret === -ENOMEM) return 'fork: -ENOMEM';
  expect(ret).toBe(0);
  const mm = kread(task + TASK.mm);
  w.procs.push({ dmesg: w.dmesg, mm, task });
  expect(vmaList(mm).map((v) => [v.start, v.end])).toEqual(vmaList(parent.mm).map((v) => [v.start, v.end]));
  return `fork ${parent.mm} -> ${mm}`;
}

function opFault(w: World, write: boolean): string {
  const p = any(w, w.procs);
  const vmas = vmaList(p.mm);
  const v = vmas.length && pick(w, 4) ? any(w, vmas) : null;
  const addr = v ? v.start + pick(w, (v.end - v.start) / P) * P : WIN + pick(w, WIN_PAGES) * P;
  const vma = covering(p.mm, addr);
  const ret = __do_page_fault(p.mm, addr, write ? FAULT_FLAG_WRITE : 0);
  if (ret === VM_FAULT_OOM) return `fault ${addr.toString(16)}: OOM`;
  const line = `${write ? 'write' : 'read'} fault ${addr.toString(16)} in ${p.mm}: ${ret}`;
  if (!vma) {
    // Below a stack VMA the fault may expand it; anywhere else it is a SIGSEGV.
    const next = vmas.find((x) => x.start > addr);
    if (!(next && next.flags & VM_GROWSDOWN)) expect(ret).toBe(VM_FAULT_SIGSEGV);
    return line;
  }
  const allowed = write ? vma.flags & VM_WRITE : vma.flags & (VM_READ | VM_WRITE | VM_EXEC);
  if (!allowed) expect(ret).toBe(VM_FAULT_SIGSEGV);
  else {
    expect(ret & ~VM_FAULT_WRITE).toBe(0);
    const pte = ptes(p.mm).get(addr);
    expect(pte !== undefined && pte_present(pte)).toBe(true);
    if (write) expect(pte! & _PAGE_RW).toBe(_PAGE_RW);
  }
  return line;
}

function opExpand(w: World): string {
  const stacks = w.procs.flatMap((p) => vmaList(p.mm).map((v) => ({ p, v })));
  const s = stacks.filter(({ v }) => v.flags & VM_GROWSDOWN);
  if (!s.length) return opFault(w, true);
  const { p, v } = any(w, s);
  const addr = v.start - (1 + pick(w, 4)) * P;
  // find_vma(): the stack, or a VMA between it and the address (then that one decides)
  const target = vmaList(p.mm).find((x) => x.end > addr)!;
  const ret = __do_page_fault(p.mm, addr, 0);
  if (ret === 0) expect(covering(p.mm, addr)!.vma).toBe(target.vma);
  else expect([VM_FAULT_SIGSEGV, VM_FAULT_OOM]).toContain(ret);
  if (target.vma !== v.vma) return `fault under a stack ${addr.toString(16)} in ${p.mm}: ${ret}`;
  return `expand ${v.start.toString(16)} to ${addr.toString(16)} in ${p.mm}: ${ret}`;
}

function opExit(w: World): string {
  const i = pick(w, w.procs.length);
  const [p] = w.procs.splice(i, 1);
  exitAll(p!);
  if (!w.procs.length) w.procs.push(spawnProcess(w, 'init'));
  return `exit ${p!.mm}`;
}

function spawnProcess(w: World, comm: string): Proc {
  const mm = mm_alloc();
  const task = spawnTask(comm, { mm });
  cpuCtx.current = task;
  return { dmesg: w.dmesg, mm, task };
}

const OPS: ReadonlyArray<[number, (w: World) => string]> = [
  [5, opMmap],
  [1, opStack],
  [3, opMunmap],
  [3, opMprotect],
  [2, opFork],
  [6, (w) => opFault(w, true)],
  [3, (w) => opFault(w, false)],
  [2, opExpand],
  [1, opExit],
];
const TOTAL = OPS.reduce((s, [n]) => s + n, 0);

function step(w: World): string {
  let r = pick(w, TOTAL);
  for (const [n, op] of OPS) {
    if (r < n) return op(w);
    r -= n;
  }
  throw new Error('unreachable');
}

// ---------------------------------------------------------------------------------------------
// the invariants

function ptes(mm: number): Map<number, number> {
  return new Map(walkPageTables(mm).ptes.map((e) => [e.addr, e.pte]));
}

interface Tally {
  ptesOf: Map<number, number>; // page -> PTEs mapping it
  anonRefs: Map<number, number>; // anon_vma -> VMAs
  fileRefs: Map<number, number>; // shmem file -> VMAs
  used: number; // PGDs + tables
}

/** A cheap assertion for the per-PTE and per-page loops (expect() costs microseconds each). */
function same(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) throw new Error(`${what}: ${String(actual)}, expected ${String(expected)}`);
}

const hex = (x: number): string => (x >>> 0).toString(16);

/** The tree eras: mm_mt holds exactly the VMAs, each over [vm_start, vm_end - 1]; no list. */
function checkTree(mm: number, vmas: VmaInfo[]): void {
  const entries = mt_entries(mm + MM.mm_mt);
  same(entries.length, vmas.length, `tree entries of ${mm}`);
  entries.forEach((e, i) => {
    const v = vmas[i]!;
    same(e.entry, v.vma, `tree entry ${i} of ${mm}`);
    same(
      `${hex(e.index)}-${hex(e.last)}`,
      `${hex(v.start)}-${hex(v.end - 1)}`,
      `tree range of ${hex(v.start)}`,
    );
    same(kread(v.vma + VMA.vm_next) | kread(v.vma + VMA.vm_prev), 0, `vm_next/vm_prev of ${hex(v.start)}`);
  });
  same(kread(mm + MM.mmap), 0, `mm->mmap of ${mm}`);
  if (!entries.length) same(kread(mm + MM.mm_mt + MAPLE_TREE.ma_root), 0, `empty tree of ${mm}`);
}

function checkVmas(mm: number, t: Tally, tree: boolean): VmaInfo[] {
  const vmas = vmaList(mm);
  same(counter(mm, 'map_count'), vmas.length, `map_count of ${mm}`);
  if (tree) checkTree(mm, vmas);
  let prev = 0;
  let prevEnd = 0;
  let total = 0;
  let locked = 0;
  for (const v of vmas) {
    same(v.start < v.end && v.start >= prevEnd, true, `VMA ${hex(v.start)}-${hex(v.end)} order`);
    if (!tree) same(kread(v.vma + VMA.vm_prev), prev, `vm_prev of ${hex(v.start)}`);
    same(kread(v.vma + VMA.vm_mm), mm, `vm_mm of ${hex(v.start)}`);
    same(v.file !== 0, (v.flags & VM_SHARED) !== 0, `shmem file of ${hex(v.start)}`);
    [prev, prevEnd] = [v.vma, v.end];
    total += (v.end - v.start) / P;
    if (v.flags & VM_LOCKED) locked += (v.end - v.start) / P;
    if (v.anon_vma) t.anonRefs.set(v.anon_vma, (t.anonRefs.get(v.anon_vma) ?? 0) + 1);
    if (v.file) t.fileRefs.set(v.file, (t.fileRefs.get(v.file) ?? 0) + 1);
  }
  same(counter(mm, 'total_vm'), total, `total_vm of ${mm}`);
  same(counter(mm, 'locked_vm'), locked, `locked_vm of ${mm}`);
  return vmas;
}

function checkMm(mm: number, t: Tally, tree: boolean): void {
  const vmas = checkVmas(mm, t, tree);
  const { ptes: entries, tables, spans } = walkPageTables(mm);
  same(counter(mm, 'pgtables_bytes'), tables.length * PTE_TABLE_BYTES, `pgtables_bytes of ${mm}`);
  // free_pgtables() over every hole: a table that no VMA reaches any more is gone
  for (const [start, end] of spans) {
    if (!vmas.some((v) => v.start < end! && v.end > start!))
      throw new Error(`table for ${hex(start!)} outlived its VMAs`);
  }
  t.used += 1 + tables.length;
  const rss = [0, 0, 0, 0];
  for (const { addr, pte, page } of entries) {
    const at = `PTE ${hex(pte)} at ${hex(addr)} in ${mm}`;
    same(pte_present(pte), true, `${at} present`);
    const v = vmas.find((x) => x.start <= addr && addr < x.end);
    if (!v) throw new Error(`${at} outside every VMA`);
    if (pte & _PAGE_RW) same(v.flags & VM_WRITE, VM_WRITE, `${at} writable in a VMA without VM_WRITE`);
    if (v.flags & VM_SHARED) {
      same(page, shmem_find_page(v.file, v.pgoff + (addr - v.start) / P), `${at} the file's page`);
      rss[MM_SHMEMPAGES]!++;
    } else {
      same(PageAnon(page) && v.anon_vma !== 0, true, `${at} anon page under an anon_vma`);
      // a writable private page is exclusive: every other mapping was COWed away
      if (pte & _PAGE_RW) same(page_mapcount(page), 1, `${at} writable, mapcount`);
      rss[MM_ANONPAGES]!++;
    }
    t.ptesOf.set(page, (t.ptesOf.get(page) ?? 0) + 1);
  }
  for (const c of [MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES]) {
    same(get_mm_counter(mm, c), rss[c], `rss[${c}] of ${mm}`);
  }
}

/** The shmem files' page caches; returns the cached pages. */
function checkFiles(t: Tally): Set<number> {
  const cached = new Set<number>();
  for (const [file, n] of t.fileRefs) {
    same(kread(file + SHMEM.f_count), n, `f_count of ${file}`);
    let nr = 0;
    for (let i = 0; i < SHMEM_MAX_PAGES; i++) {
      const page = shmem_find_page(file, i);
      if (!page) continue;
      nr++;
      cached.add(page);
      same(mem.i32[page + PAGE.mapping], file, `mapping of cached page ${page}`);
    }
    same(kread(file + SHMEM.nrpages), nr, `nrpages of ${file}`);
  }
  return cached;
}

function checkAll(w: World): void {
  const t: Tally = { ptesOf: new Map(), anonRefs: new Map(), fileRefs: new Map(), used: 0 };
  for (const p of w.procs) checkMm(p.mm, t, w.tree);
  const cached = checkFiles(t);
  for (const [anon_vma, n] of t.anonRefs)
    same(kread(anon_vma + ANON_VMA.refcount), n, `anon_vma ${anon_vma} refs`);
  same(kmem_cache_live(anon_vma_cachep), t.anonRefs.size, 'live anon_vmas');
  same(kmem_cache_live(shmem_inode_cachep), t.fileRefs.size, 'live shmem files');
  const vmas = w.procs.reduce((s, p) => s + counter(p.mm, 'map_count'), 0);
  // VMAs freed through call_rcu() (rfc-2022-09, v6.4) stay live until their grace period.
  if (vmaLockOps.vm_area_free !== NO_PER_VMA_LOCK.vm_area_free) rcu_barrier();
  same(kmem_cache_live(vm_area_cache()), vmas, 'live VMAs');
  // One node per non-empty tree, once RCU mode's retired nodes had their grace period.
  const trees = w.tree ? w.procs.filter((p) => counter(p.mm, 'map_count') > 0).length : 0;
  same(mapleNodesLive(), trees, 'live maple nodes');
  const pages = new Set([...t.ptesOf.keys(), ...cached]);
  for (const page of pages) {
    const mapped = t.ptesOf.get(page) ?? 0;
    same(page_mapcount(page), mapped, `mapcount of page ${page}`);
    same(page_ref_count(page), mapped + (cached.has(page) ? 1 : 0), `refcount of page ${page}`);
  }
  same(nr_pages() - nr_free_pages(), t.used + pages.size, 'allocated pages');
  expect(reports(w.dmesg())).toEqual([]);
}

/**
 * `STEPS` seeded steps in `era`, each followed by every check (and `onStep`, which sees the world
 * after it), then every process exits. Returns the trail of steps and the number of forks.
 */
export function runMix(
  era: string,
  seed: number,
  onStep?: (w: World, line: string) => void,
): { trail: string[]; forks: number } {
  const first = newProcess('init', era);
  const tree = eraByName(era)!.vma !== VMA_LIST_V4_14;
  const w: World = { procs: [first], dmesg: first.dmesg, rnd: xorshift32(seed), forks: 0, tree };
  const trail: string[] = [];
  for (let i = 0; i < STEPS; i++) {
    trail.push(step(w));
    try {
      checkAll(w);
      onStep?.(w, trail[i]!);
    } catch (e) {
      throw new Error(
        `${era} seed ${seed} step ${i}: ${trail.slice(-5).join(' | ')}\n${(e as Error).message}`,
      );
    }
  }
  for (const p of w.procs.splice(0)) exitAll(p);
  expect(reports(w.dmesg())).toEqual([]);
  expect(nr_free_pages()).toBe(nr_pages());
  rcu_barrier();
  expect(kmem_cache_live(vm_area_cache())).toBe(0);
  expect(kmem_cache_live(vma_lock_cachep)).toBe(0);
  expect(kmem_cache_live(anon_vma_cachep)).toBe(0);
  expect(kmem_cache_live(shmem_inode_cachep)).toBe(0);
  expect(mapleNodesLive()).toBe(0);
  return { trail, forks: w.forks };
}
