// for_each_process() in the OOM killer beside exiting processes (test/fixtures/oom-kill-vs-exit.mjs,
// free mode): a task is unhashed (exit_state EXIT_DEAD) before its RCU-delayed put, and the walk
// holds rcu_read_lock, so it never reads a freed task_struct. Bound: before the fix the killer's
// walk crashed on a poisoned task in each of seeds 1, 1001 and 2001 within 17, 1 and 120 runs;
// 300 runs of each seed must now be clean.
import { describe, expect, it } from 'vitest';
import { json, mmrace } from './helpers/cli.js';

describe('for_each_process', () => {
  it.each([1, 1001, 2001])('never meets a freed task_struct (seed %i, 300 free runs)', (seed) => {
    const r = mmrace([
      'run',
      'test/fixtures/oom-kill-vs-exit.mjs',
      '--runs',
      '300',
      '--seed',
      String(seed),
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(json(r).rows[0]).toMatchObject({ observed: 'clean', runs: 300 });
  }, 60_000);
});
