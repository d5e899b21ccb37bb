// The VMA container as an era slot (vma_list.ts: the vm_next list to v6.0; maple_tree.ts: the tree
// from v6.1), on the boot CPU. The same operations give the same address spaces in either; the
// tree publishes copy-on-write (a reader holding an old node reads a whole, sorted snapshot), frees
// the node it replaces at once outside RCU mode (v6.1: a reader the lock should have kept out reads
// freed memory, KASAN) and after a grace period in RCU mode (v6.6: an RCU reader is safe); v6.1+
// keep no mm->mmap/vm_next (a walker that follows them sees nothing); exit_mmap destroys the tree
// and still counts the VMAs against map_count. The multi-CPU check of the RCU reader is the DFS
// fixture test/fixtures/vma-tree-rcu.mjs (vma_container_dfs.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { KernelOops } from '../src/cpu/errors.js';
import { BootRunner } from '../src/cpu/free.js';
import { exit_mm } from '../src/kernel/exit.js';
import { mmdrop, mmgrab, spawnTask } from '../src/kernel/fork.js';
import { lockdep_enable } from '../src/kernel/locking/lockdep_state.js';
import { rcu_barrier, rcuCallbacksPending } from '../src/kernel/rcu/callbacks.js';
import { rcu_read_lock, rcu_read_unlock } from '../src/kernel/rcu/update.js';
import { __do_page_fault } from '../src/mm/fault.js';
import { kasanReports, kread, kwrite } from '../src/mm/kasan.js';
import {
  MM_MT_FLAGS_v6_1,
  MM_MT_FLAGS_v6_3,
  MT_FLAGS_USE_RCU,
  mas_find,
  mas_init,
  mt_entries,
} from '../src/mm/maple_tree.js';
import { MAPLE_TREE, MM, ULONG_MAX, VM_GROWSDOWN, VMA } from '../src/mm/mm_types.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_GROWSDOWN,
  MAP_PRIVATE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  vm_mmap,
  vm_munmap,
} from '../src/mm/mmap.js';
import { mmap_read_lock, mmap_read_unlock } from '../src/mm/mmap_lock.js';
import { slab_is_live, virt_to_cache } from '../src/mm/slab.js';
import {
  find_vma,
  find_vma_prev,
  for_each_vma,
  for_each_vma_range,
  vma_after,
  vma_before,
  vma_start,
} from '../src/mm/vma_list.js';
import { as } from './helpers/as_cpu.js';
import { reports } from './helpers/boot.js';
import { runMix } from './helpers/mm_mix.js';
import {
  exitAll,
  forkProcess,
  mapleNodesLive,
  mmap,
  newProcess,
  PAGE_SZ as P,
  type Proc,
  vmaList,
} from './helpers/process.js';
import { ScriptRunner } from './helpers/script_runner.js';

const ADDRS = [0x08000000, 0x08010000, 0x08020000];
const NEW = 0x08030000;
const hex = (x: number): string => (x >>> 0).toString(16);
const root = (mm: number): number => kread(mm + MM.mm_mt + MAPLE_TREE.ma_root);
const live = (node: number): boolean => slab_is_live(virt_to_cache(node)!, node);

/** A process with three one-page VMAs (ADDRS); the task is current. */
function threeVmas(era: string): Proc {
  const p = newProcess('writer', era);
  for (const a of ADDRS) mmap(p.mm, a, 1);
  return p;
}

afterEach(() => {
  cpuCtx.runner = new BootRunner();
  cpuCtx.current = 0;
  cpuCtx.cpu = 0;
  lockdep_enable(false);
});

describe('one operation sequence, every container', () => {
  /** The mix's trail with every process's VMA layout after each step. */
  function layouts(era: string, seed: number): string[] {
    const out: string[] = [];
    runMix(era, seed, (w, line) => {
      const vmas = w.procs.map((p) =>
        vmaList(p.mm)
          .map((v) => `${hex(v.start)}-${hex(v.end)}:${hex(v.flags)}:${hex(v.pgoff)}`)
          .join(','),
      );
      out.push(`${line} => ${vmas.join(' / ')}`);
    });
    return out;
  }

  it.each([1, 2])(
    'seed %i: v4.15 (list), v6.1 and v6.6 (tree) go through the same layouts, step by step',
    { timeout: 60_000 },
    (seed) => {
      const list = layouts('v4.15', seed);
      expect(list.length).toBeGreaterThan(100);
      for (const era of ['v6.1', 'v6.6']) {
        const tree = layouts(era, seed);
        const at = tree.findIndex((l, i) => l !== list[i]);
        expect(at === -1 ? null : { step: at, list: list[at], [era]: tree[at] }).toBeNull();
        expect(tree.length).toBe(list.length);
      }
    },
  );
});

describe('v6.1+: no mm->mmap, no vm_next; the container API works', () => {
  it.each(['v6.1', 'v6.6'])('%s: a walker that follows mm->mmap/vm_next sees nothing', (era) => {
    const p = threeVmas(era);
    let n = 0;
    for (let v = kread(p.mm + MM.mmap); v; v = kread(v + VMA.vm_next)) n++;
    expect(n).toBe(0);
    const vmas = vmaList(p.mm); // for_each_vma()
    expect(vmas.map((v) => v.start)).toEqual(ADDRS);
    for (const v of vmas) expect([kread(v.vma + VMA.vm_next), kread(v.vma + VMA.vm_prev)]).toEqual([0, 0]);
    expect(mt_entries(p.mm + MM.mm_mt)).toEqual(
      vmas.map((v) => ({ index: v.start, last: v.end - 1, entry: v.vma })),
    );
    mmap_read_lock(p.mm);
    const [a, b, c] = vmas.map((v) => v.vma);
    expect(find_vma(p.mm, ADDRS[1]! - 1)).toBe(b);
    expect(find_vma(p.mm, ADDRS[1]! + P)).toBe(c); // in the gap: the VMA above
    expect(find_vma(p.mm, ADDRS[2]! + P)).toBe(0);
    expect(find_vma_prev(p.mm, ADDRS[1]!)).toEqual({ vma: b, prev: a });
    expect(find_vma_prev(p.mm, 0xb0000000)).toEqual({ vma: 0, prev: c });
    expect([vma_after(p.mm, a!), vma_after(p.mm, c!), vma_before(p.mm, b!), vma_before(p.mm, a!)]).toEqual([
      b,
      0,
      a,
      0,
    ]);
    expect([...for_each_vma_range(p.mm, ADDRS[0]! + P, ADDRS[2]!)]).toEqual([b]);
    mmap_read_unlock(p.mm);
    exitAll(p);
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('v4.15: the VMAs are on the list, the tree is never written', () => {
    const p = threeVmas('v4.15');
    const chain: number[] = [];
    for (let v = kread(p.mm + MM.mmap); v; v = kread(v + VMA.vm_next)) chain.push(vma_start(v));
    expect(chain).toEqual(ADDRS);
    expect(root(p.mm)).toBe(0);
    expect(kread(p.mm + MM.mm_mt + MAPLE_TREE.ma_flags)).toBe(0);
    exitAll(p);
  });

  it.each([
    ['v6.1', MM_MT_FLAGS_v6_1],
    ['v6.6', MM_MT_FLAGS_v6_3],
  ])('%s: MM_MT_FLAGS, the external lock is mmap_lock; a fork builds the child in the same mode', (era, flags) => {
    const p = threeVmas(era);
    expect(kread(p.mm + MM.mm_mt + MAPLE_TREE.ma_flags)).toBe(flags);
    expect(kread(p.mm + MM.mm_mt + MAPLE_TREE.ma_external_lock)).toBe(p.mm + MM.mmap_sem);
    rcu_barrier();
    const pending = rcuCallbacksPending();
    const c = forkProcess(p, 'child');
    // v6.3's dup_mmap builds the child's tree out of RCU mode: its replaced nodes went at once.
    expect(rcuCallbacksPending()).toBe(pending);
    expect(kread(c.mm + MM.mm_mt + MAPLE_TREE.ma_flags)).toBe(flags);
    expect(mt_entries(c.mm + MM.mm_mt).map((e) => [e.index, e.last])).toEqual(
      ADDRS.map((a) => [a, a + P - 1]),
    );
    expect(mt_entries(c.mm + MM.mm_mt).map((e) => kread(e.entry + VMA.vm_mm))).toEqual([c.mm, c.mm, c.mm]);
    expect(mapleNodesLive()).toBe(2); // one node per tree
    exitAll(c);
    exitAll(p);
    expect(mapleNodesLive()).toBe(0);
    expect(reports(p.dmesg())).toEqual([]);
  });

  it.each(['v6.1', 'v6.6'])('%s: munmap detaches into an mt_detach tree and frees it', (era) => {
    const p = threeVmas(era);
    expect(vm_munmap(p.mm, ADDRS[0]!, 2 * P + 0x10000)).toBe(0); // the first two VMAs and the gap
    expect(mt_entries(p.mm + MM.mm_mt).map((e) => e.index)).toEqual([ADDRS[2]]);
    expect(kread(p.mm + MM.map_count)).toBe(1);
    expect(mapleNodesLive()).toBe(1); // the mm's node; mt_detach and its node are gone
    expect(vm_munmap(p.mm, ADDRS[2]!, P)).toBe(0);
    expect(root(p.mm)).toBe(0); // the last entry erased: an empty tree
    expect(mapleNodesLive()).toBe(0);
    exitAll(p);
    expect(reports(p.dmesg())).toEqual([]);
  });
});

describe('copy-on-write publication', () => {
  it('v6.1 (not in RCU mode): a reader that kept the node after a write reads freed memory (KASAN)', () => {
    const p = threeVmas('v6.1');
    const reader = spawnTask('reader', { mm: p.mm });
    // Seeded defect: the walk goes on after mmap_read_unlock(), with neither lock nor RCU.
    const mas = as(1, reader, () => {
      mmap_read_lock(p.mm);
      const m = mas_init(p.mm + MM.mm_mt, 0);
      expect(mas_find(m, ULONG_MAX)).not.toBe(0);
      mmap_read_unlock(p.mm);
      return m;
    });
    const old = mas.node;
    mmap(p.mm, NEW, 1); // the writer publishes a new node and frees `old` at once
    expect(root(p.mm)).not.toBe(old);
    expect(live(old)).toBe(false);
    as(1, reader, () => mas_find(mas, ULONG_MAX));
    expect(reports(p.dmesg())[0]).toBe('BUG: KASAN: slab-use-after-free in mas_find');
    expect(p.dmesg().join('\n')).toMatch(/Freed by task \d+( on cpu \d+)?:\n mas_free/);
    expect(p.dmesg().join('\n')).toMatch(/belongs to the cache maple_node-\d+/);
  });

  it('v6.1: the reader that holds mmap_read_lock for its whole walk is silent', () => {
    const p = threeVmas('v6.1');
    const reader = spawnTask('reader', { mm: p.mm });
    const seen = as(1, reader, () => {
      mmap_read_lock(p.mm);
      const v = [...for_each_vma(p.mm)].map(vma_start);
      mmap_read_unlock(p.mm);
      return v;
    });
    expect(seen).toEqual(ADDRS);
    mmap(p.mm, NEW, 1);
    expect(kasanReports()).toBe(0);
    exitAll(p);
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('v6.6 (RCU mode): an RCU reader reads its whole sorted snapshot across two writes; the old node waits for the grace period', () => {
    const p = threeVmas('v6.6');
    const reader = spawnTask('reader', { mm: p.mm });
    const seen: [number, number][] = [];
    const mas = as(1, reader, () => {
      rcu_read_lock();
      const m = mas_init(p.mm + MM.mm_mt, 0);
      expect(mas_find(m, ULONG_MAX)).not.toBe(0);
      seen.push([m.index, m.last]);
      return m;
    });
    const old = mas.node;
    mmap(p.mm, NEW, 1); // published; `old` retired with kfree_rcu()
    expect(vm_munmap(p.mm, ADDRS[1]!, P)).toBe(0); // and the next node too
    expect(mt_entries(p.mm + MM.mm_mt).map((e) => e.index)).toEqual([ADDRS[0], ADDRS[2], NEW]);
    expect(live(old)).toBe(true);
    as(1, reader, () => {
      for (let v = mas_find(mas, ULONG_MAX); v; v = mas_find(mas, ULONG_MAX))
        seen.push([mas.index, mas.last]);
      rcu_read_unlock();
    });
    expect(seen).toEqual(ADDRS.map((a) => [a, a + P - 1])); // the layout before both writes
    expect(kasanReports()).toBe(0);
    rcu_barrier(); // a grace period: the reader is gone, kfree_rcu() runs
    expect(live(old)).toBe(false);
    exitAll(p);
    expect(mapleNodesLive()).toBe(0);
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('v6.6: a walk outside any RCU read-side section is not protected: after a grace period, KASAN', () => {
    const p = threeVmas('v6.6');
    const reader = spawnTask('reader', { mm: p.mm });
    const mas = as(1, reader, () => {
      const m = mas_init(p.mm + MM.mm_mt, 0);
      mas_find(m, ULONG_MAX);
      return m;
    });
    mmap(p.mm, NEW, 1);
    rcu_barrier(); // nobody was in a read-side section: the old node goes
    as(1, reader, () => mas_find(mas, ULONG_MAX));
    expect(reports(p.dmesg())[0]).toBe('BUG: KASAN: slab-use-after-free in mas_find');
    expect(p.dmesg().join('\n')).toMatch(/Freed by task \d+( on cpu \d+)?:\n kfree_rcu/);
  });

  it('v6.1 with lockdep: a walk under neither mmap_lock nor RCU is suspicious RCU usage', () => {
    const p = threeVmas('v6.1');
    lockdep_enable(true);
    const reader = spawnTask('reader', { mm: p.mm });
    as(1, reader, () => {
      mmap_read_lock(p.mm);
      expect([...for_each_vma(p.mm)]).toHaveLength(3);
      mmap_read_unlock(p.mm);
      rcu_read_lock();
      expect([...for_each_vma(p.mm)]).toHaveLength(3);
      rcu_read_unlock();
    });
    expect(reports(p.dmesg())).toEqual([]);
    as(1, reader, () => [...for_each_vma(p.mm)]);
    expect(reports(p.dmesg())).toEqual(['WARNING: suspicious RCU usage']);
    expect(p.dmesg().join('\n')).toContain(
      'lib/maple_tree.c:mas_root suspicious rcu_dereference_check() usage!',
    );
  });
});

describe('stack expansion: the one tree store under the read lock (v6.1), under the write lock (v6.5+)', () => {
  const STK = 0x20000000;
  const GROWS = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN;

  /** A one-page stack at STK; `below`: a PROT_NONE page right under the page it will grow to. */
  function stack(era: string, below: boolean): Proc {
    const p = newProcess('stack', era);
    if (below)
      expect(vm_mmap(p.mm, STK - 2 * P, P, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)).toBe(
        STK - 2 * P,
      );
    expect(vm_mmap(p.mm, STK, P, PROT_READ | PROT_WRITE, GROWS)).toBe(STK);
    return p;
  }

  /** A fault one page below the stack: it grows by a page. Returns the root before and after. */
  function grow(p: Proc): [number, number] {
    const before = root(p.mm);
    expect(__do_page_fault(p.mm, STK - P, 0)).toBe(0);
    const stackVma = vmaList(p.mm).find((v) => v.flags & VM_GROWSDOWN)!;
    expect(stackVma.start).toBe(STK - P);
    const e = mt_entries(p.mm + MM.mm_mt).find((x) => x.entry === stackVma.vma)!;
    expect([e.index, e.last]).toEqual([STK - P, STK + P - 1]);
    return [before, root(p.mm)];
  }

  it('v6.1: a NULL range remains below: the pivot moves in place, the node stays', () => {
    const p = stack('v6.1', false);
    const [before, after] = grow(p);
    expect(after).toBe(before);
    exitAll(p);
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('v6.1: the growth consumes the NULL range: a new node, the old one freed at once', () => {
    const p = stack('v6.1', true);
    const [before, after] = grow(p);
    expect(after).not.toBe(before);
    expect(live(before)).toBe(false);
    exitAll(p);
    expect(reports(p.dmesg())).toEqual([]);
  });

  it.each([
    ['v6.1', false],
    ['v6.6', true],
  ])('%s: the fault grows the stack under the read lock (v6.1) or waits for the write lock (v6.5+): %s', (era, waits) => {
    const p = stack(era, false);
    const reader = spawnTask('reader', { mm: p.mm });
    as(1, reader, () => mmap_read_lock(p.mm));
    let held = true;
    let waited = false;
    cpuCtx.runner = new ScriptRunner((ev) => {
      if (ev !== 'wait' || !held) return;
      waited = true;
      expect(vmaList(p.mm).find((v) => v.flags & VM_GROWSDOWN)!.start).toBe(STK); // not grown yet
      as(1, reader, () => mmap_read_unlock(p.mm));
      held = false;
    });
    expect(__do_page_fault(p.mm, STK - P, 0)).toBe(0);
    cpuCtx.runner = new BootRunner();
    if (held) as(1, reader, () => mmap_read_unlock(p.mm));
    expect(waited).toBe(waits);
    expect(vmaList(p.mm).find((v) => v.flags & VM_GROWSDOWN)!.start).toBe(STK - P);
    exitAll(p);
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('v6.6 (RCU mode): always a new node; the old one after a grace period', () => {
    const p = stack('v6.6', false);
    const [before, after] = grow(p);
    expect(after).not.toBe(before);
    expect(live(before)).toBe(true);
    rcu_barrier();
    expect(live(before)).toBe(false);
    exitAll(p);
    expect(reports(p.dmesg())).toEqual([]);
  });
});

describe('exit_mmap on the tree', () => {
  it.each([
    'v6.1',
    'v6.6',
  ])('%s: the tree destroyed, no node left; BUG_ON(count != map_count) on a seeded count', (era) => {
    const ok = threeVmas(era);
    mmgrab(ok.mm); // the mm_struct outlives the exit, to be looked at
    exitAll(ok);
    expect(root(ok.mm)).toBe(0);
    expect(kread(ok.mm + MM.mm_mt + MAPLE_TREE.ma_flags)).toBe(0);
    mmdrop(ok.mm);
    expect(mapleNodesLive()).toBe(0);
    expect(reports(ok.dmesg())).toEqual([]);

    const bad = threeVmas(era);
    kwrite(bad.mm + MM.map_count, kread(bad.mm + MM.map_count) + 1); // seeded: counted, not in the tree
    expect(() => as(0, bad.task, exit_mm)).toThrow(KernelOops);
    const log = bad.dmesg();
    const at = log.indexOf('kernel BUG at mm/mmap.c:exit_mmap!');
    expect(at).toBeGreaterThan(0);
    expect(log[at - 1]).toBe('------------[ cut here ]------------');
  });

  it('v6.6: exit_mmap takes the tree out of RCU mode before freeing it (mt_clear_in_rcu)', () => {
    const p = threeVmas('v6.6');
    expect(kread(p.mm + MM.mm_mt + MAPLE_TREE.ma_flags) & MT_FLAGS_USE_RCU).toBe(MT_FLAGS_USE_RCU);
    rcu_barrier();
    const node = root(p.mm);
    const pending = rcuCallbacksPending();
    exitAll(p);
    expect(live(node)).toBe(false); // freed by __mt_destroy() at once, not by kfree_rcu()
    expect(rcuCallbacksPending()).toBe(pending);
    expect(reports(p.dmesg())).toEqual([]);
  });
});
