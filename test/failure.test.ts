// failure.ts's one rule for "fails the same way" (shrinking, --record's replays and the symptom
// matcher use it) and symptoms.ts's jcstress-style grading.
import { describe, expect, it } from 'vitest';
import {
  type Failure,
  failureKind,
  failureSignature,
  normalizeReport,
  reportKind,
  sameFailure,
} from '../src/scenarios/failure.js';
import { classifySymptom, observedOf } from '../src/scenarios/symptoms.js';

const hit = (line: string): Failure => ({ hit: line, check: null });
const check = (name: string, detail: string): Failure => ({ hit: null, check: { name, detail } });

describe('what counts as the same failure', () => {
  it('masks addresses, PTE values and numbers, not the report', () => {
    expect(normalizeReport('BUG: Bad rss-counter state mm:0007602a type:MM_ANONPAGES val:-1')).toBe(
      normalizeReport('BUG: Bad rss-counter state mm:00081c40 type:MM_ANONPAGES val:-16'),
    );
    // A PTE value made of letters only (KASAN's poison, 0xaa...) is an address word too.
    expect(
      sameFailure(
        hit('BUG: Bad page map in process oom_reaper pte:aaaaaaaa pmd:00000000'),
        hit('BUG: Bad page map in process oom_reaper pte:55555555 pmd:0000abcd'),
      ),
    ).toBe(true);
    expect(
      sameFailure(
        hit('BUG: KASAN: use-after-free in zap_pte_range'),
        hit('BUG: KASAN: slab-use-after-free in can_madv_dontneed_vma'),
      ),
    ).toBe(false);
    expect(
      sameFailure(
        check('every page freed', '3 pages still allocated'),
        check('every page freed', '16 pages still allocated'),
      ),
    ).toBe(true);
    expect(
      sameFailure(
        check('every page freed', '3 pages still allocated'),
        check('no leaked page tables', '3 pages still allocated'),
      ),
    ).toBe(false);
    expect(failureSignature(check('every page freed', '3 pages'))).toBe(
      "final check 'every page freed': <n> pages",
    );
  });

  it('kinds: KASAN type, BUG title, WARNING site, Oops, hung task = deadlock, the check', () => {
    expect(reportKind('BUG: KASAN: slab-use-after-free in vma_next')).toBe('BUG: KASAN: slab-use-after-free');
    expect(reportKind('BUG: Bad page map in process oom_reaper  pte:6b6b6b6b pmd:00001234')).toBe(
      'BUG: Bad page map',
    );
    expect(reportKind('BUG: Bad rss-counter state mm:0007602a type:MM_ANONPAGES val:-1')).toBe(
      'BUG: Bad rss-counter state',
    );
    expect(reportKind('WARNING: CPU: 1 PID: 101 at mm/mmap.c:3000')).toBe(
      reportKind('WARNING: CPU: 0 PID: 100 at mm/mmap.c:3000'),
    );
    expect(reportKind('Oops: 0000 [#1] SMP')).toBe('Oops');
    expect(reportKind('INFO: task abba0:100 blocked for more than 148 seconds.')).toBe(
      reportKind('INFO: deadlock: no CPU can run and no timer is pending'),
    );
    expect(failureKind(check('every page freed', '3 pages'))).toBe(
      failureKind(check('every page freed', 'x')),
    );
  });
});

describe('symptoms', () => {
  const symptoms = {
    expected: ['KASAN: use-after-free in zap_pte_range', "final check 'every page freed'"],
    acceptable: ['Bad rss-counter state'],
  };

  it('classes a failing run as expected, acceptable or unexpected', () => {
    expect(classifySymptom(symptoms, hit('BUG: KASAN: use-after-free in zap_pte_range'))).toBe('expected');
    expect(classifySymptom(symptoms, check('every page freed', '7 pages still allocated'))).toBe('expected');
    expect(
      classifySymptom(symptoms, hit('BUG: Bad rss-counter state mm:0007602a type:MM_ANONPAGES val:-1')),
    ).toBe('acceptable');
    // Another KASAN type, another function, another check: not what LKML reported.
    expect(classifySymptom(symptoms, hit('BUG: KASAN: slab-use-after-free in zap_pte_range'))).toBe(
      'unexpected',
    );
    expect(classifySymptom(symptoms, hit('BUG: KASAN: use-after-free in unmap_page_range'))).toBe(
      'unexpected',
    );
    expect(classifySymptom(symptoms, check('no leaked page tables', 'pgtables_bytes 4096'))).toBe(
      'unexpected',
    );
  });

  it('without symptoms every failure is the bug', () => {
    expect(classifySymptom(undefined, hit('Oops'))).toBe('expected');
  });

  it('the verdict: unexpected beats everything, acceptable alone is not the bug', () => {
    const c = { error: false, hits: 0, checkFailures: 0, acceptable: 0, unexpected: 0 };
    expect(observedOf(c)).toBe('clean');
    expect(observedOf({ ...c, hits: 3, acceptable: 2 })).toBe('reproduces');
    expect(observedOf({ ...c, checkFailures: 1 })).toBe('reproduces');
    expect(observedOf({ ...c, acceptable: 2 })).toBe('acceptable');
    expect(observedOf({ ...c, hits: 3, unexpected: 1 })).toBe('unexpected');
    expect(observedOf({ ...c, hits: 3, error: true })).toBe('error');
  });
});
