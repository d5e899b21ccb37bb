// Catalogue entry 4, C1 (CVE-2018-1000200): exit_mmap()'s munlock vs the oom_reaper. The buggy
// era oopses in the munlock walker as LKML reported, in PCT and in free mode; v4.17 is clean; the
// same interleaving is harmless on x86's walk; `mmrace explain` draws the steps in LKML's order.
// Bounds (measured, seed 1, Dec 2026): PCT depth 2 hits 19/1000 runs, the first at run 44, so 100
// runs are deterministic hits; free mode hits about half its runs (491/1000), so P(no hit in 40)
// is about 1e-12. About 5 s in all.
import { describe, expect, it } from 'vitest';
import { json, mmrace } from './helpers/cli.js';

const ID = 'munlock-vs-oom-reaper-2018';

type Row = {
  variant: string;
  era: string;
  observed: string;
  hits: number;
  runs: number;
  ok: boolean;
  firstHit: { dmesg: string[] } | null;
};

function repro(args: string[]): Map<string, Row> {
  const r = mmrace(['repro', ID, ...args, '--seed', '1', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0); // every verdict as the scenario expects it
  return new Map(json<{ rows: Row[] }>(r).rows.map((row) => [row.variant, row]));
}

function oopsesInMunlock(row: Row | undefined): void {
  expect(row).toMatchObject({ observed: 'reproduces' });
  const dmesg = row!.firstHit!.dmesg.join('\n');
  expect(dmesg).toMatch(/BUG: kernel NULL pointer dereference, address: 00000000/);
  // The oops is the exiting victim's, in the munlock walk of exit_mmap(), taking the PTE lock.
  expect(dmesg).toMatch(
    /spin_lock[^\n]*\n[^\n]*follow_page_pte[\s\S]*munlock_vma_pages_range[\s\S]*exit_mmap_v4_15/,
  );
}

describe('catalogue: munlock-vs-oom-reaper-2018 (C1)', () => {
  it("PCT: v4.15 oopses in follow_page_pte on the NULL PTE lock; v4.17 clean; x86's walk clean", () => {
    // v4.15+PPC_BOOK3S_64=n: x86's pmd_bad() rejects the cleared PMD, on the same PCT schedules.
    const rows = repro(['--eras', 'v4.15,v4.17,v4.15+PPC_BOOK3S_64=n', '--strategy', 'pct', '--runs', '100']);
    oopsesInMunlock(rows.get('v4.15'));
    expect(rows.get('v4.17')).toMatchObject({ observed: 'clean', hits: 0, runs: 100 });
    expect(rows.get('v4.15+PPC_BOOK3S_64=n')).toMatchObject({ observed: 'clean', hits: 0, runs: 100 });
  });

  it('free mode: the same oops; v4.17 clean', () => {
    const rows = repro(['--runs', '40']);
    oopsesInMunlock(rows.get('v4.15'));
    expect(rows.get('v4.17')).toMatchObject({ observed: 'clean', hits: 0, runs: 40 });
  });

  it('explain: munlock clears VM_LOCKED and walks, the reaper zaps the huge PMDs, the walker oopses', () => {
    const r = mmrace(['explain', ID, '--json'], 60_000);
    expect(r.code, r.stderr).toBe(0);
    const x = json<{ variant: string; shrunk: { verified: boolean }; failure: string; diagram: string[] }>(r);
    expect(x).toMatchObject({ variant: 'v4.15', shrunk: { verified: true } });
    expect(x.failure).toMatch(/^BUG: kernel NULL pointer dereference/);
    const col = x.diagram[0]!.indexOf('CPU1');
    const at = (re: RegExp, victim: boolean) =>
      x.diagram.findIndex((l) => re.test(l) && l.search(/\S/) >= col === victim);
    const steps = [
      at(/exit_mmap$/, true), // the victim's last mmput()
      at(/munlock_vma_pages_range$/, true), // VM_LOCKED cleared, then the walk
      at(/follow_page_mask/, true),
      at(/down_read\(&mm->mmap_sem\)$/, false), // the reaper, VM_LOCKED now clear
      at(/zap_huge_pmd/, false),
      at(/BUG: kernel NULL pointer dereference/, true), // the walker resumes on the empty PMD
    ];
    expect(steps.every((i) => i > 1)).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
  }, 60_000);
});
