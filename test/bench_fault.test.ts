// The pieces of `npm run bench -- fault` (scripts/bench-fault.mjs, bench-fault.c) work: every era
// faults a small VMA in and exits cleanly on the boot CPU, the per-fault counter restores what it
// wrapped, and the C program takes one real fault per page. No timing is asserted.
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
    expect(k.kasanChecks).toBeGreaterThan(1);
    expect(k.callers.length).toBeGreaterThan(0);
    expect(Object.hasOwn(bench.mem.arena, 'regionOf')).toBe(false);
  });

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
});
