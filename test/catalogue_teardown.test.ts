// The teardown entries of the reproducer catalogue (issue 13): each buggy variant reproduces with the
// symptom LKML reported, each fixed one is clean. Controlled mode (PCT, fixed seeds) wherever the
// bug shows within a few hundred schedules, so the verdicts are deterministic. The two positive
// controls (clean variants only) also fail in v5.15-rc1 (D2) in their era matrix; D2 shows under
// PCT once in hundreds of runs or less, so that row runs in free mode (36-50% of free runs hit
// standalone, ~30% on a loaded host: P(no hit in 60) < 1e-9). About 2-3 s an entry.
import { describe, expect, it } from 'vitest';
import { json, mmrace } from './helpers/cli.js';

type Row = {
  variant: string;
  observed: string;
  hits: number;
  runs: number;
  checkFailures: number;
  firstHit: { summary?: string; dmesg: string[] } | null;
  firstCheckFailure: { check: string; detail: string } | null;
  error: string | null;
};

function repro(id: string, args: string[]): Map<string, Row> {
  const r = mmrace(['repro', id, ...args, '--seed', '1', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0); // every verdict as the scenario expects it
  return new Map(json<{ rows: Row[] }>(r).rows.map((row) => [row.variant, row]));
}

/** The first hit's report (the detector line: the first line of dmesg that is a BUG). */
function firstReport(row: Row): string {
  return row.firstHit!.dmesg.find((l) => / BUG: /.test(l)) ?? '';
}

function reproduces(row: Row | undefined, symptom: string | RegExp): void {
  expect(row).toBeDefined();
  expect(row!.observed).toBe('reproduces');
  expect(row!.error).toBeNull();
  expect(row!.hits + row!.checkFailures).toBeGreaterThan(0);
  if (typeof symptom === 'string' && symptom.startsWith('final check')) {
    expect(`final check '${row!.firstCheckFailure!.check}'`).toBe(symptom);
  } else if (typeof symptom === 'string') {
    expect(firstReport(row!)).toContain(symptom);
  } else {
    expect(firstReport(row!)).toMatch(symptom);
  }
}

function clean(row: Row | undefined, runs: number): void {
  expect(row).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0, runs, error: null });
}

/** D2 as it shows: the reap reads a VMA (slab) or a page table (page) that exit_mmap() freed. */
const D2 = /BUG: KASAN: (slab-)?use-after-free in \w+/;

const PCT = (runs: number) => ['--strategy', 'pct', '--runs', String(runs)];

describe('catalogue: teardown entries', () => {
  it('process-mrelease-dangling-mmap-2022 (E1): v5.17-rc1 KASAN in the reap, v5.17 clean', () => {
    const rows = repro('process-mrelease-dangling-mmap-2022', PCT(60));
    reproduces(rows.get('v5.17-rc1'), 'BUG: KASAN: slab-use-after-free in can_madv_dontneed_vma');
    // The object is a VMA that the exit's remove_vma() freed.
    expect(rows.get('v5.17-rc1')!.firstHit!.dmesg.join('\n')).toMatch(
      /Freed by task \d+ on cpu \d+:\n.*remove_vma/,
    );
    clean(rows.get('v5.17'), 60);
  });

  it('oom-reaper-populate-after-reap-2017: v4.13-rc4 repopulates a reaped page, v4.13 SIGBUS', () => {
    const rows = repro('oom-reaper-populate-after-reap-2017', PCT(30));
    reproduces(rows.get('v4.13-rc4'), 'BUG: mmrace: fault repopulated a page the OOM reaper freed');
    clean(rows.get('v4.13'), 30);
  });

  it('oom-reaper-vs-unmap-vmas-same-ptes (negative control): clean in v4.14, v4.17, v6.1', () => {
    const rows = repro('oom-reaper-vs-unmap-vmas-same-ptes', PCT(80));
    for (const v of ['v4.14', 'v4.17', 'v6.1']) clean(rows.get(v), 80);
  });

  it('exit-mmap-write-lock-2021 (v5.17 positive control): clean; the same program hits D2 in v5.15-rc1', () => {
    clean(repro('exit-mmap-write-lock-2021', ['--variant', 'v5.17', ...PCT(60)]).get('v5.17'), 60);
    const d2 = repro('exit-mmap-write-lock-2021', ['--eras', 'v5.15-rc1', '--runs', '60']);
    reproduces(d2.get('v5.15-rc1'), D2);
  });

  it('exit-mmap-read-then-write-lock-2022 (v6.1 positive control): clean; D2 in v5.15-rc1', () => {
    const rows = repro('exit-mmap-read-then-write-lock-2022', ['--variant', 'v6.1', ...PCT(50)]);
    clean(rows.get('v6.1'), 50);
    const d2 = repro('exit-mmap-read-then-write-lock-2022', ['--eras', 'v5.15-rc1', '--runs', '60']);
    reproduces(d2.get('v5.15-rc1'), D2);
  });

  it('oom-reaper-exit-aio-liveness-2017 (A1): a spurious second kill in v4.13, none in v4.14', () => {
    const rows = repro('oom-reaper-exit-aio-liveness-2017', PCT(100));
    reproduces(rows.get('v4.13'), 'BUG: spurious OOM kill');
    expect(firstReport(rows.get('v4.13')!)).toMatch(/still holds anon-rss:[1-9]\d*kB.* under MMF_OOM_SKIP/);
    clean(rows.get('v4.14'), 100);
  });

  it('oom-reaper-list-double-enqueue-2019 (Q1): the tail task queued twice in v4.17, once from v5.0', () => {
    const rows = repro('oom-reaper-list-double-enqueue-2019', PCT(60));
    reproduces(rows.get('v4.17'), "final check 'each task on oom_reaper_list once'");
    expect(rows.get('v4.17')!.firstCheckFailure!.detail).toMatch(/^pid \d+ queued twice/);
    clean(rows.get('v5.15-rc1'), 60);
  });
});
