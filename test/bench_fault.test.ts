// The pieces of `npm run bench -- fault` (scripts/bench-fault.mjs, bench-fault.c) work: every era
// faults a small VMA in and exits cleanly on the boot CPU, the per-fault counter restores what it
// wrapped, and the C program takes one real fault per page; the free-mode part (one CPU faulting
// on a worker thread, alone and beside an mmap_lock writer) has its rows, faults and consistent
// VMA_LOCK_* counters. No timing is asserted.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script, no declarations
import * as bench from '../scripts/bench-fault.mjs';

const PAGES = 1024;

describe('bench fault', () => {
  beforeAll(() => {
    bench.bootMachine(PAGES);
  });

  // bench-fault.mjs runs dist/, so the eras come from there too.
  it.each(
    bench.ERAS.map((e: { name: string }) => [e.name]),
  )('%s: faults every page of the VMA in and exits with nothing left', (name) => {
    const era = bench.ERAS.find((e: { name: string }) => e.name === name);
    expect(era).toBeDefined();
    // emulatedRepeat throws on a failed fault, a wrong rss, a page left after exit or a report.
    const r = bench.emulatedRepeat(era, PAGES);
    expect(r.ns).toBeGreaterThan(0);
    expect(r.exitNs).toBeGreaterThan(0);
  });

  it('counts Atomics calls and KASAN checks per fault, then restores Atomics and the arena', () => {
    const load = Atomics.load;
    const k = bench.countPerFault(bench.ERAS[0], 256);
    expect(Atomics.load).toBe(load);
    // At least: the PTE read, the PTE write, mmap_sem taken and released.
    expect(k.atomics).toBeGreaterThan(4);
    // Every checked access loads its object's state word; a shadow lookup only on a cache miss.
    expect(k.kasanAtomics).toBeGreaterThan(1);
    expect(k.kasanChecks).toBeGreaterThanOrEqual(0);
    expect(k.callers.length).toBeGreaterThan(0);
    expect(Object.hasOwn(bench.mem.arena, 'regionOf')).toBe(false);
  }, 60_000); // a stack trace per Atomics call: ~2 s, several times that on a loaded host

  describe('the C side', () => {
    let c: { exe: string; dir: string; version: string } | null = null;
    beforeAll(() => {
      c = bench.buildC();
    });
    afterAll(() => {
      if (c) rmSync(c.dir, { recursive: true, force: true });
    });

    it('takes one real fault per 4 KiB page (no THP), when a C compiler exists', (ctx) => {
      if (!c) ctx.skip();
      const r = bench.runC(c, 256, 2, 0);
      expect(r.nohugepage).toBe(true);
      expect(r.ns_per_fault).toHaveLength(2);
      for (const f of r.minflt_per_page) expect(f).toBeCloseTo(1, 1);
    });
  });

  // Last: it runs on the shared machine (CPU workers) and leaves it shut down.
  describe('faults/s on worker threads, alone and beside an mmap_lock writer', () => {
    type Sum = Record<
      | 'runs'
      | 'faults'
      | 'us'
      | 'bad'
      | 'loops'
      | 'VMA_LOCK_SUCCESS'
      | 'VMA_LOCK_ABORT'
      | 'VMA_LOCK_RETRY'
      | 'VMA_LOCK_MISS',
      number
    >;
    type Row = {
      era: string;
      generation: string;
      path: string;
      faultsPerSec: { alone: { median: number }; writer: { median: number } };
      ratioWriterAlone: { median: number };
      ratioVsMmapLockWriter: { median: number } | null;
      hostWait: Record<'alone' | 'writer' | 'writerThread', { median: number } | null>;
      alone: Sum;
      writer: Sum;
    };
    const PAGES_PER_PASS = 32;
    const ROUNDS = 1;
    let c: { baseline: string; cores: number; load: { start: number[] }; rows: Row[] };
    beforeAll(async () => {
      c = await bench.churnBench({ ms: 30, rounds: ROUNDS, pages: PAGES_PER_PASS, warmMs: 10 });
    }, 120_000);

    it('has a row for the mmap_lock path (v6.1) and for every era with a per-VMA lock generation', () => {
      const gen = (e: { vmaLock?: { generation: string } }) => e.vmaLock?.generation ?? 'none';
      const want = bench.ERAS.filter(
        (e: { name: string; vmaLock?: { generation: string } }) => e.name === 'v6.1' || gen(e) !== 'none',
      ).map((e: { name: string }) => e.name);
      expect(want.length).toBeGreaterThanOrEqual(4); // v6.1, rfc-2022-09, v6.4, v6.15 at least
      expect(c.rows.map((r) => r.era)).toEqual(want);
      expect(c.baseline).toBe('v6.1');
      expect(c.cores).toBeGreaterThan(0);
      expect(c.load.start).toHaveLength(3);
      const base = c.rows.find((r) => r.era === 'v6.1')!;
      expect(base.path).toBe('mmap_lock');
      expect(base.ratioVsMmapLockWriter?.median).toBe(1);
      for (const r of c.rows.filter((x) => x.era !== 'v6.1')) expect(r.path).toBe('per-VMA lock');
    });

    it('faults in every run, the writer only with the writer, and nothing fails', () => {
      for (const r of c.rows) {
        for (const [kind, t] of [
          ['alone', r.alone],
          ['writer', r.writer],
        ] as const) {
          expect(t.runs, `${r.era} ${kind}`).toBe(ROUNDS);
          expect(t.faults, `${r.era} ${kind}`).toBeGreaterThan(0);
          // A pass: every page but the first (faulted untimed, for the VMA's anon_vma).
          expect(t.faults % (PAGES_PER_PASS - 1), `${r.era} ${kind}: whole passes`).toBe(0);
          expect(t.us, `${r.era} ${kind}`).toBeGreaterThan(0);
          expect(t.bad, `${r.era} ${kind}`).toBe(0);
          expect(r.faultsPerSec[kind].median).toBeGreaterThan(0);
        }
        // The host's run-queue wait: a share, or null where /proc/thread-self/schedstat is missing.
        for (const w of [r.hostWait.alone, r.hostWait.writer, r.hostWait.writerThread])
          if (w !== null) expect(w.median).toBeGreaterThanOrEqual(0);
        expect(r.alone.loops, r.era).toBe(0);
        expect(r.writer.loops, r.era).toBeGreaterThan(0);
        expect(r.ratioWriterAlone.median).toBeGreaterThan(0);
      }
    });

    it('counts VMA_LOCK_* events only where there is a per-VMA lock, at most one outcome per fault', () => {
      const COUNTERS = ['VMA_LOCK_SUCCESS', 'VMA_LOCK_ABORT', 'VMA_LOCK_RETRY', 'VMA_LOCK_MISS'] as const;
      for (const r of c.rows) {
        for (const t of [r.alone, r.writer]) {
          if (r.generation === 'none') {
            for (const k of COUNTERS) expect(t[k], `${r.era} ${k}`).toBe(0);
            continue;
          }
          // One of SUCCESS, ABORT, RETRY per lock attempt (MISS retries the lookup, or ends it in the RFC).
          expect(t.VMA_LOCK_SUCCESS + t.VMA_LOCK_ABORT + t.VMA_LOCK_RETRY, r.era).toBeLessThanOrEqual(
            t.faults,
          );
          expect(t.VMA_LOCK_SUCCESS, r.era).toBeGreaterThan(0);
        }
        // Alone, every counted fault finds a VMA with an anon_vma and nothing in its way.
        if (r.generation !== 'none') expect(r.alone.VMA_LOCK_SUCCESS, r.era).toBe(r.alone.faults);
      }
    });
  });
});
