// The optimistic spin queue (kernel/locking/osq_lock.c): its atomic-granularity points, on the boot
// thread with a scripted runner, and bounded DFS over test/fixtures/dfs-osq.mjs (two writers
// queued on the OSQ of a spinning v6.6 rw_semaphore). Measured on the 2-core host, explored
// schedules coarse/atomic: reader-owned 1394/2196, writers 1212/1950 (~2 s each).
import { afterEach, describe, expect, it } from 'vitest';
import { BOOT_CPU, cpuCtx } from '../src/cpu/context.js';
import { BootRunner } from '../src/cpu/free.js';
import { setPointGranularity } from '../src/cpu/granularity.js';
import { osq_is_locked, osq_lock, osq_lock_init, osq_unlock } from '../src/kernel/locking/osq_lock.js';
import { mem } from '../src/shm/arena.js';
import { defineStatics } from '../src/shm/statics.js';
import { boot } from './helpers/boot.js';
import { dfs } from './helpers/dfs.js';

const TEST_TIMEOUT_MS = 60_000;
const T = defineStatics('osq_lock_test', ['osq']);

afterEach(() => {
  cpuCtx.runner = new BootRunner();
  cpuCtx.cpu = BOOT_CPU;
  setPointGranularity('coarse');
});

/** CPU 0 heads the OSQ; CPU 1 queues behind it and, at its first spin, CPU 0 unlocks. */
function handoff(points: 'coarse' | 'atomic') {
  boot('v6.6');
  setPointGranularity(points);
  const lock = T.base() + T.layout.osq;
  osq_lock_init(lock);
  const log: string[] = [];
  cpuCtx.cpu = 0;
  expect(osq_lock(lock)).toBe(true);
  let relaxes = 0;
  cpuCtx.runner = Object.assign(new BootRunner(), {
    point(id: string) {
      log.push(`${cpuCtx.cpu}:${id}`);
    },
    relax(_spins: number) {
      if (relaxes++ > 0) return;
      cpuCtx.cpu = 0;
      osq_unlock(lock);
      cpuCtx.cpu = 1;
    },
  });
  cpuCtx.cpu = 1;
  const head = osq_lock(lock);
  return { lock, log, head, relaxes };
}

describe('osq_lock atomic points', () => {
  it('mark the tail xchg, the prev->next publish and the handoff, in order', () => {
    const { lock, log, head, relaxes } = handoff('atomic');
    expect(head).toBe(true);
    expect(relaxes).toBe(1);
    expect(log).toEqual([
      '1:osq_lock:xchg',
      '1:osq_lock:prev_next',
      '1:osq_lock:locked',
      '0:osq_unlock:cmpxchg',
      '0:osq_unlock:xchg',
      '0:osq_unlock:locked',
    ]);
    expect(osq_is_locked(lock)).toBe(true);
    osq_unlock(lock);
    expect(Atomics.load(mem.i32, lock)).toBe(0);
  });

  it('are no decision points at coarse granularity', () => {
    const { log, head } = handoff('coarse');
    expect(head).toBe(true);
    expect(log).toEqual([]);
  });
});

describe('bounded dfs over two writers queued on the OSQ', () => {
  for (const [variant, minExplored] of [
    ['reader-owned', 700],
    ['writers', 600],
  ] as const) {
    it(
      `dfs-osq ${variant}: clean at both granularities, atomic explores more`,
      () => {
        const coarse = dfs('dfs-osq', variant, ['--points', 'coarse']);
        const atomic = dfs('dfs-osq', variant, ['--points', 'atomic']);
        for (const r of [coarse, atomic])
          expect(r).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0, schedule: null });
        expect(coarse.explored).toBeGreaterThan(minExplored);
        expect(atomic.explored).toBeGreaterThan(coarse.explored);
      },
      TEST_TIMEOUT_MS,
    );
  }
});
