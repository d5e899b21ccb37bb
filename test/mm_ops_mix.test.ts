// A seeded random mix of mmap, munmap, mprotect, fork, write (COW) and read faults, stack
// expansion and exit over a few processes, on the boot CPU, in every era, with the whole machine
// checked after every step against what the kernel's counters must say (the steps and the checks:
// helpers/mm_mix.ts). Then every process exits: check_mm silent, every page back in the free
// pool, slabs empty.
import { describe, expect, it } from 'vitest';
import { ERAS } from '../src/eras/index.js';
import { runMix as run, STEPS } from './helpers/mm_mix.js';

describe('a seeded mix of address-space operations', () => {
  ERAS.forEach((era, i) => {
    it(
      `${era.name}: every invariant after each of ${STEPS} steps, a clean teardown`,
      { timeout: 120_000 },
      () => {
        const trail: string[] = [];
        let forks = 0;
        for (const seed of [i + 1, i + 101]) {
          const r = run(era.name, seed);
          trail.push(...r.trail);
          forks += r.forks;
        }
        // The two runs did exercise what the mix names (not a run of no-ops).
        for (const done of [
          /^mmap [0-9a-f]+ x/,
          /^munmap [0-9a-f]+ \+/,
          /^mprotect [0-9a-f]+ \+/,
          /^write fault .*: 8$/, // a COW break or reuse (VM_FAULT_WRITE)
          /^read fault .*: 0$/,
          /^expand .*: 0$/,
          /^exit /,
        ]) {
          expect(
            trail.some((l) => done.test(l)),
            String(done),
          ).toBe(true);
        }
        expect(forks).toBeGreaterThan(0);
      },
    );
  });

  it('is deterministic: the same seed gives the same trail', { timeout: 60_000 }, () => {
    expect(run('v4.14', 7).trail).toEqual(run('v4.14', 7).trail);
  });
});
