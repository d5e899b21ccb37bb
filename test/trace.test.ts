// --trace: per-CPU trace buffers -> Chrome trace JSON (Perfetto). The converter on hand-made
// buffers, the validator on seeded defects, and the CLI on real runs in both modes (a v4.14
// failure found by PCT in controlled mode; a free-mode run; several variants; a bad path).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuState } from '../src/cpu/control.js';
import { LockKind, TraceKind, type TraceSnapshot, WaitCode } from '../src/cpu/trace_buffer.js';
import { type ChromeEvent, toChromeTrace } from '../src/report/trace.js';
import { checkChromeTrace } from '../src/report/trace_check.js';
import { mmrace } from './helpers/cli.js';

const ID = 'oom-reaper-vs-exit-mmap-2017';
const dir = mkdtempSync(join(tmpdir(), 'mmrace-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Rec = [TraceKind, number, number?, number?]; // kind, ts (ms), a, aux

function cpuOf(cpu: number, recs: Rec[], dropped = 0) {
  return { cpu, dropped, events: recs.map(([kind, ts, a = 0, aux = 0]) => ({ kind, ts, a, aux })) };
}

const F = { outer: 101, inner: 102, waker: 103, lost: 104 };
const names = {
  [F.outer]: 'exit_mmap',
  [F.inner]: 'free_pgtables',
  [F.waker]: 'up_write',
  [F.lost]: 'unmap_vmas',
};
const SEM = 0x1000;
const PTL = 0x2000;
const WORD = 0x3000;

/** A controlled-mode run: several events share a virtual time (one scheduling step). */
function handMade(): TraceSnapshot {
  return {
    mode: 'controlled',
    names,
    marks: { 7: 'BUG: Bad page map in process cat  pte:6b6b6b6b pmd:00000000' },
    cpus: [
      cpuOf(0, [
        [TraceKind.RunBegin, 0],
        [TraceKind.FnBegin, 0.001, F.outer],
        [TraceKind.LockAcquire, 0.001, SEM, LockKind.Read],
        [TraceKind.WaitBegin, 0.002, WORD],
        [TraceKind.FlowIn, 0.005, 1],
        [TraceKind.WaitEnd, 0.005, 0, WaitCode.Ok],
        [TraceKind.FnBegin, 0.006, F.inner],
        [TraceKind.LockAcquire, 0.006, PTL, LockKind.Spin],
        [TraceKind.Mark, 0.006, 7],
        // A KernelOops unwinds: the finally blocks record the ends, the locks stay held.
        [TraceKind.FnEnd, 0.006, F.inner],
        [TraceKind.FnEnd, 0.006, F.outer],
        [TraceKind.RunEnd, 0.006, 0, CpuState.Oops],
      ]),
      cpuOf(1, [
        [TraceKind.RunBegin, 0],
        [TraceKind.FnBegin, 0.003, F.waker],
        [TraceKind.WakeBegin, 0.004, WORD],
        [TraceKind.FlowOut, 0.004, 1, 0],
        [TraceKind.FlowOut, 0.004, 2, 0], // its woken CPU never came back: dropped
        [TraceKind.WakeEnd, 0.004],
        [TraceKind.FnEnd, 0.004, F.waker],
        [TraceKind.LockRelease, 0.004, SEM, LockKind.Read], // taken on CPU0: not this CPU's hold
        [TraceKind.RunEnd, 0.007, 0, CpuState.Done],
      ]),
      // The ring overwrote this CPU's oldest records: two ends and a release lost their begins.
      cpuOf(
        2,
        [
          [TraceKind.FnBegin, 0.004, F.inner],
          [TraceKind.FnEnd, 0.004, F.inner],
          [TraceKind.FnEnd, 0.004, F.lost],
          [TraceKind.LockRelease, 0.005, SEM, LockKind.Write],
          [TraceKind.FnEnd, 0.005, F.outer],
          [TraceKind.FnBegin, 0.005, F.waker], // never ends, and no end of run: closed at the last record
        ],
        1000,
      ),
    ],
  };
}

const ofThread = (evs: ChromeEvent[], tid: number) => evs.filter((e) => e.tid === tid && e.ph !== 'M');

describe('trace converter on hand-made buffers', () => {
  const out = toChromeTrace(handMade(), {
    lockName: (a) => ({ name: a === SEM ? 'mm_struct.mmap_sem' : 'page.ptl', instance: 'x' }),
    notes: ['INFO: deadlock: no CPU can run'],
    meta: { scenario: 'hand-made' },
  });
  const { stats, ...trace } = out;
  const evs = trace.traceEvents;

  it('is a well-formed Chrome trace', () => {
    const { problems, census } = checkChromeTrace(JSON.parse(JSON.stringify(trace)));
    expect(problems).toEqual([]);
    expect(census.threads).toEqual({ 1: 'CPU0', 2: 'CPU1', 3: 'CPU2' });
    expect(evs.find((e) => e.name === 'process_name')?.args).toEqual({ name: 'mmrace' });
    expect(trace.otherData).toMatchObject({
      scenario: 'hand-made',
      mode: 'controlled',
      droppedRecords: 1000,
    });
  });

  it('orders each thread strictly: the virtual clock plus a sequence tiebreak', () => {
    for (const tid of [1, 2, 3]) {
      const ts = ofThread(evs, tid).map((e) => e.ts!);
      for (let i = 1; i < ts.length; i++) expect(ts[i]!).toBeGreaterThan(ts[i - 1]!);
    }
    // free_pgtables, its lock and the BUG all happened at 6 us of virtual time, in that order.
    const cpu0 = ofThread(evs, 1);
    const inner = cpu0.find((e) => e.ph === 'B' && e.name === 'free_pgtables')!;
    expect(inner.ts).toBe(6);
    const mark = cpu0.find((e) => e.ph === 'i' && e.cat === 'bug')!;
    expect(mark.ts).toBeCloseTo(6.02, 5);
  });

  it('nests function slices and the wait; a thrown Oops closes the held locks at the end of run', () => {
    const cpu0 = ofThread(evs, 1).map((e) => `${e.ph}:${e.name}`);
    expect(cpu0).toEqual([
      'B:exit_mmap',
      'b:mm_struct.mmap_sem (read)',
      'B:wait',
      'f:wakeup',
      'E:wait',
      'B:free_pgtables',
      'b:page.ptl',
      'i:BUG: Bad page map in process cat  pte:6b6b6b6b pmd:00000000',
      'E:free_pgtables',
      'E:exit_mmap',
      'i:Oops: the task died here',
      'e:mm_struct.mmap_sem (read)',
      'e:page.ptl',
    ]);
    const waitEnd = ofThread(evs, 1).find((e) => e.ph === 'E' && e.name === 'wait')!;
    expect(waitEnd.args).toEqual({ result: 'woken' });
    const hold = evs.find((e) => e.ph === 'b')!;
    expect(hold).toMatchObject({ cat: 'lock', id2: { local: '0x1000@cpu0' } });
  });

  it('keeps a flow only when both ends exist, with the end bound to the enclosing wait', () => {
    const flows = evs.filter((e) => e.ph === 's' || e.ph === 'f');
    expect(flows.map((e) => `${e.ph}${e.id}@${e.tid}`)).toEqual(['f1@1', 's1@2']);
    expect(flows.find((e) => e.ph === 'f')!.bp).toBe('e');
    expect(stats.flows).toBe(1);
    expect(stats.repaired.some((r) => r.startsWith('flow 2:'))).toBe(true);
  });

  it('drops a release of a lock the CPU did not take', () => {
    expect(ofThread(evs, 2).some((e) => e.ph === 'e')).toBe(false);
    expect(stats.repaired).toContain('CPU1: a release of mm_struct.mmap_sem it did not take here; dropped');
  });

  it('gives ends whose begins the ring overwrote a begin at the start of the kept window', () => {
    const cpu2 = ofThread(evs, 3).map((e) => `${e.ph}:${e.name}@${e.ts}`);
    expect(cpu2).toEqual([
      'B:exit_mmap@4', // outermost: its end comes last
      'B:unmap_vmas@4.01',
      'b:mm_struct.mmap_sem (write)@4.02',
      'B:free_pgtables@4.03',
      'E:free_pgtables@4.04',
      'E:unmap_vmas@4.05',
      'e:mm_struct.mmap_sem (write)@5',
      'E:exit_mmap@5.01',
      'B:up_write@5.02',
      'E:up_write@5.03', // closed at the last record
    ]);
  });

  it('shows a deadlock report as process-wide instants', () => {
    expect(evs.find((e) => e.ph === 'i' && e.s === 'p')?.name).toBe('INFO: deadlock: no CPU can run');
  });
});

describe('trace validator finds seeded defects', () => {
  const good = () => {
    const { stats: _s, ...t } = toChromeTrace(handMade());
    return JSON.parse(JSON.stringify(t)) as { traceEvents: ChromeEvent[] };
  };
  const problemsOf = (mutate: (evs: ChromeEvent[]) => void) => {
    const t = good();
    mutate(t.traceEvents);
    return checkChromeTrace(t).problems;
  };

  it('accepts the converter output', () => {
    expect(checkChromeTrace(good()).problems).toEqual([]);
  });

  it('an unmatched end', () => {
    const p = problemsOf((evs) => {
      const i = evs.findIndex((e) => e.ph === 'B' && e.name === 'free_pgtables');
      evs.splice(i, 1);
    });
    expect(p.join('\n')).toMatch(/E 'free_pgtables' closes 'exit_mmap'/);
  });

  it('a begin that never ends', () => {
    const p = problemsOf((evs) => {
      const i = evs.findIndex((e) => e.ph === 'E' && e.name === 'exit_mmap');
      evs.splice(i, 1);
    });
    expect(p.join('\n')).toMatch(/slice 'exit_mmap' .* never ends/);
  });

  it('an unpaired async lock slice, a flow with two starts, time running backwards', () => {
    const p = problemsOf((evs) => {
      const e = evs.findIndex((x) => x.ph === 'e');
      evs.splice(e, 1);
      const s = evs.find((x) => x.ph === 's')!;
      evs.push({ ...s });
      const last = evs.filter((x) => x.tid === 1).at(-1)!;
      evs.push({ ...last, ph: 'i', s: 't', name: 'late', ts: 0 });
    });
    const text = p.join('\n');
    expect(text).toMatch(/async 'mm_struct|async 'lock@0x1000.* never ends/);
    expect(text).toMatch(/flow .*2 start\(s\) and 1 end\(s\)/);
    expect(text).toMatch(/ts 0 before/);
  });

  it('not a trace at all', () => {
    expect(checkChromeTrace({ events: [] }).problems).toEqual(['no traceEvents array']);
  });
});

describe('--trace on real runs (CLI, worker threads)', () => {
  const readTrace = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

  it('controlled mode: the v4.14 failure PCT finds, with its BUG markers', () => {
    const file = join(dir, 'pct.json');
    const args = ['repro', ID, '--variant', 'v4.14', '--mode', 'controlled', '--strategy', 'pct'];
    const r = mmrace(
      [...args, '--depth', '2', '--runs', '50', '--seed', '1', '--trace', file, '--json'],
      60_000,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      rows: { firstHit: { run: number; summary: string } }[];
      traces: { file: string; run: number; failed: boolean; summary: string }[];
    };
    expect(out.traces).toHaveLength(1);
    expect(out.traces[0]).toMatchObject({ file, failed: true, run: out.rows[0]!.firstHit.run });
    const t = readTrace(file);
    const { problems, census } = checkChromeTrace(t);
    expect(problems).toEqual([]);
    expect(census.threads).toEqual({ 1: 'CPU0', 2: 'CPU1', 3: 'CPU2' });
    expect(census.instants.some((n) => /^BUG: /.test(n))).toBe(true);
    expect(census.instants).toContain(out.rows[0]!.firstHit.summary);
    for (const fn of [
      'oom_reaper',
      '__oom_reap_task_mm',
      'zap_pte_range',
      'exit_mmap',
      'unmap_vmas',
      'free_pgtables',
    ])
      expect(census.slices[fn], fn).toBeGreaterThan(0);
    const evs = t.traceEvents as ChromeEvent[];
    expect(evs.some((e) => e.ph === 'b' && e.name === 'mm_struct.mmap_sem (read)')).toBe(true);
    expect(evs.some((e) => e.ph === 'b' && e.name === 'page.ptl')).toBe(true);
    expect(t.otherData).toMatchObject({ mode: 'controlled', scenario: ID, variant: 'v4.14', failed: true });
  }, 60_000);

  it('free mode, one file per variant, waits and wake-up flows', () => {
    const base = join(dir, 'free.json');
    // v4.15 in free mode is clean: the last run is traced. exit_mmap's down_write() often sleeps
    // on the reaper's read hold there; whether it does is up to the host's timing.
    const r = mmrace(['repro', ID, '--runs', '20', '--seed', '3', '--trace', base, '--json'], 60_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { traces: { file: string; variant: string; failed: boolean }[] };
    expect(out.traces.map((x) => x.file)).toEqual([
      join(dir, 'free.v4.14.json'),
      join(dir, 'free.v4.15.json'),
    ]);
    for (const x of out.traces) {
      const t = readTrace(x.file);
      const { problems, census } = checkChromeTrace(t);
      expect(problems, x.file).toEqual([]);
      expect(Object.values(census.threads)).toEqual(['CPU0', 'CPU1', 'CPU2']);
      expect(census.slices.exit_mmap).toBe(1);
      expect(t.otherData).toMatchObject({ mode: 'free', variant: x.variant, failed: x.failed });
      if (x.failed) expect(census.instants.some((n) => /^BUG: /.test(n))).toBe(true);
    }
  }, 60_000);

  it('controlled mode, a fixture that sleeps a lot: waits, flows, and a ring that overflowed', () => {
    const file = join(dir, 'rwsem.json');
    const args = ['run', 'test/fixtures/rwsem-stress.mjs', '--variant', 'correct', '--strategy', 'random'];
    const r = mmrace([...args, '--runs', '1', '--trace', file, '--json'], 60_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { traces: { droppedRecords: number; counts: { flows: number } }[] };
    expect(out.traces[0]!.droppedRecords).toBeGreaterThan(0);
    const { problems, census } = checkChromeTrace(readTrace(file));
    expect(problems).toEqual([]);
    expect(census.slices.wait).toBeGreaterThan(100);
    expect(census.flows).toBeGreaterThan(100);
    expect(census.flows).toBe(out.traces[0]!.counts.flows);
  }, 60_000);

  it('a bad path is one line on stderr and exit 2, before any run', () => {
    for (const bad of [join(dir, 'no-such-dir', 'x.json'), dir]) {
      const r = mmrace(['repro', ID, '--variant', 'v4.14', '--runs', '1', '--trace', bad], 30_000);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^mmrace: --trace /);
    }
  }, 60_000);

  it('--help documents it', () => {
    const r = mmrace(['repro', '--help']);
    expect(r.stdout).toMatch(/--trace <file>/);
  });
});
