// report/race_diagram.ts on hand-made traces, and `mmrace explain` drawing the 2017 race from a
// real shrunk schedule in the order LKML tells it (PCT seed 1: deterministic).
import { describe, expect, it } from 'vitest';
import { LockKind, TraceKind, type TraceSnapshot } from '../src/cpu/trace_buffer.js';
import { lockArg, raceDiagram } from '../src/report/race_diagram.js';
import { json, mmrace } from './helpers/cli.js';

const F = { exit_mmap: 1, free_pgtables: 2, reap: 3, down_read: 4, zap: 5 };
const names = {
  1: 'exit_mmap',
  2: 'free_pgtables',
  3: '__oom_reap_task_mm',
  4: 'down_read',
  5: 'zap_pte_range',
};
const ev = (kind: TraceKind, ts: number, a = 0, aux = 0) => ({ kind, ts, a, aux });
const lockName = (addr: number) => ({
  name: addr === 100 ? 'mm_struct.mmap_sem' : 'anon_vma+0',
  instance: '',
});

function snapshot(): TraceSnapshot {
  return {
    mode: 'controlled',
    names,
    marks: { 7: 'BUG: KASAN: use-after-free in zap_pte_range', 8: 'BUG: a second report' },
    cpus: [
      {
        cpu: 0,
        dropped: 0,
        events: [
          ev(TraceKind.FnBegin, 1, F.reap),
          ev(TraceKind.FnBegin, 1.1, F.down_read),
          ev(TraceKind.LockAcquire, 1.2, 100, LockKind.Read),
          ev(TraceKind.FnEnd, 1.3, F.down_read),
          ev(TraceKind.FnBegin, 5, F.zap),
          ev(TraceKind.FnBegin, 5.1, F.zap),
          ev(TraceKind.Mark, 6, 7),
          ev(TraceKind.Mark, 6.5, 8),
        ],
      },
      {
        cpu: 1,
        dropped: 0,
        events: [
          ev(TraceKind.FnBegin, 2, F.exit_mmap),
          ev(TraceKind.FnBegin, 2.1, F.free_pgtables),
          ...[0, 1, 2].flatMap((i) => [
            ev(TraceKind.LockAcquire, 2.2 + i / 10, 200, LockKind.Write),
            ev(TraceKind.LockRelease, 2.25 + i / 10, 200, LockKind.Write),
          ]),
          ev(TraceKind.LockAcquire, 2.9, 300, LockKind.Spin),
          ev(TraceKind.FnEnd, 3, F.free_pgtables),
          ev(TraceKind.FnEnd, 3.1, F.exit_mmap),
        ],
      },
    ],
  };
}

describe('race diagram', () => {
  it('one column per CPU, in time order; lock pairs and repeats folded; spinlocks left out; ends at the first report', () => {
    const lines = raceDiagram(snapshot(), { cpuNames: ['oom_reaper', 'exit'], lockName, width: 30 });
    expect(lines).toEqual([
      'CPU0 (oom_reaper)             CPU1 (exit)',
      '----------------------------  ----------------------------',
      '__oom_reap_task_mm',
      '  down_read(&mm->mmap_sem)',
      '                              exit_mmap',
      '                                free_pgtables',
      '                                  down_write/up_write(&anon_vma->rwsem) x3',
      '  zap_pte_range',
      '    zap_pte_range',
      '      BUG: KASAN: use-after-free in zap_pte_range',
    ]);
  });

  it('draws only maxDepth levels', () => {
    const lines = raceDiagram(snapshot(), { cpuNames: ['a', 'b'], lockName, maxDepth: 1, width: 30 });
    expect(lines.join('\n')).not.toMatch(/free_pgtables|anon_vma| {2}zap_pte_range/);
    expect(lines.join('\n')).toMatch(/exit_mmap/);
  });

  it("names locks as the kernel's code does", () => {
    expect(lockArg('mm_struct.mmap_sem')).toBe('&mm->mmap_sem');
    expect(lockArg('vm_area_struct.vm_lock')).toBe('&vma->vm_lock');
    expect(lockArg('vma_lock+0')).toBe('&vma->vm_lock->lock');
    expect(lockArg('page.ptl')).toBe('page.ptl');
  });
});

describe('mmrace explain', () => {
  it('entry 1: the reaper walks under the read lock, the reader runs exit_mmap and frees, the reaper trips KASAN', () => {
    const r = mmrace(['explain', 'oom-reaper-vs-exit-mmap-2017', '--json'], 60_000);
    expect(r.code, r.stderr).toBe(0);
    const x = json<{ variant: string; shrunk: { verified: boolean }; failure: string; diagram: string[] }>(r);
    expect(x).toMatchObject({ variant: 'v4.14', shrunk: { verified: true } });
    expect(x.failure).toMatch(/^BUG: KASAN: use-after-free in zap_pte_range/);
    const col = x.diagram[0]!.indexOf('CPU2');
    const at = (re: RegExp, inCpu2: boolean) =>
      x.diagram.findIndex((l) => re.test(l) && l.search(/\S/) >= col === inCpu2);
    const steps = [
      at(/down_read\(&mm->mmap_sem\)$/, false), // the reaper holds mmap_sem for reading
      at(/exit_mmap/, true), // the reader's mmput() is the last
      at(/free_pgtables/, true),
      at(/remove_vma/, true),
      at(/BUG: KASAN/, false), // the reaper's walk meets the freed page table
    ];
    expect(steps.every((i) => i > 1)).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
  }, 60_000);

  it('a control has no race to draw; an unknown variant is one line, exit 2', () => {
    const bad = mmrace(['explain', 'oom-reaper-vs-exit-mmap-2017', '--variant', 'v4.41']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^mmrace: unknown variant 'v4.41' of oom-reaper-vs-exit-mmap-2017 \(did you mean 'v4.14'\?\)/,
    );
    const clean = mmrace(['explain', 'oom-reaper-vs-exit-mmap-2017', '--variant', 'v4.15', '--runs', '50']);
    expect(clean.code).toBe(1);
    expect(clean.stdout).toMatch(/No race drawn: no run of v4.15 showed an expected symptom in 50 PCT runs/);
  });
});
