// Symptom grading end to end (test/fixtures/symptoms.mjs): each variant fails one known way, so the
// counts are exact; 'mixed' hits the acceptable WARNING in the runs whose seed injects no jitter
// (a pure function of the seed: the same 20 seeds give the same split every time).
import { describe, expect, it } from 'vitest';
import { json, mmrace } from './helpers/cli.js';

const FIXTURE = 'test/fixtures/symptoms.mjs';

type Row = {
  observed: string;
  ok: boolean;
  hits: number;
  acceptable: number;
  unexpected: number;
  firstUnexpected: { run: number; seed: number; failure: string; schedule: string | null } | null;
};

function row(variant: string, extra: string[] = []): Row {
  const r = mmrace(['run', FIXTURE, '--variant', variant, '--runs', '20', '--json', ...extra]);
  return json<{ rows: Row[] }>(r).rows[0]!;
}

describe('symptoms: grading by the expected outcome', () => {
  it('the reported symptom reproduces; an acceptable one alone does not; anything else is unexpected', () => {
    expect(row('uaf')).toMatchObject({ observed: 'reproduces', ok: true, hits: 20, unexpected: 0 });
    expect(row('warn')).toMatchObject({ observed: 'acceptable', ok: false, hits: 0, acceptable: 20 });
    const oops = row('oops');
    expect(oops).toMatchObject({ observed: 'unexpected', ok: false, hits: 0, unexpected: 20 });
    expect(oops.firstUnexpected).toMatchObject({ run: 0, seed: 1, schedule: null });
    expect(oops.firstUnexpected!.failure).toMatch(/^BUG: kernel NULL pointer dereference/);
    expect(row('clean')).toMatchObject({
      observed: 'clean',
      ok: true,
      hits: 0,
      acceptable: 0,
      unexpected: 0,
    });
  });

  it('acceptable runs beside expected ones still reproduce', () => {
    const r = row('mixed');
    expect(r).toMatchObject({ observed: 'reproduces', ok: true, unexpected: 0 });
    expect(r.acceptable).toBeGreaterThan(0);
    expect(r.hits + r.acceptable).toBe(20);
  });

  it('controlled mode prints the unexpected run with its schedule and a replay command; exit 1', () => {
    const r = mmrace(['run', FIXTURE, '--variant', 'oops', '--runs', '3', '--mode', 'controlled']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /3 run\(s\) failed in no way the scenario lists .* run 0 \(seed \d+\): BUG: kernel NULL/,
    );
    expect(r.stdout).toMatch(
      /replay it: mmrace run test\/fixtures\/symptoms\.mjs --replay 'S1:[^']+' --variant oops/,
    );
  });
});
