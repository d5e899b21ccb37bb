// A snapshot's restore copies back, of the page frames and of each slab cache, only the prefix
// their allocators handed out (shm/arena_snapshot.ts registerRestoreExtent): a run cannot have
// written the rest. MMRACE_SNAPSHOT_CHECK (setRestoreCheck) compares every restore with the whole
// snapshot: seeded here with a write past a prefix, it must report it; on every built-in
// scenario's campaigns, buggy eras' use-after-frees included, it must stay silent.
import { afterEach, describe, expect, it } from 'vitest';
import { Machine } from '../src/cpu/machine.js';
import { eraByName } from '../src/eras/index.js';
import { task_struct_cachep } from '../src/kernel/fork.js';
import { alloc_page, GFP_KERNEL, page_address } from '../src/mm/page_alloc.js';
import { kmem_cache_alloc, kmem_cache_live_objects } from '../src/mm/slab.js';
import { BUILTIN } from '../src/scenarios/catalogue.js';
import { machineRegions } from '../src/scenarios/kernel_image.js';
import { prepareRunSetup } from '../src/scenarios/run_setup.js';
import { mem } from '../src/shm/arena.js';
import { RestoreDriftError, setRestoreCheck } from '../src/shm/arena_snapshot.js';
import { runDistScript } from './helpers/dist_script.js';

const machine = new Machine(machineRegions(256));
const s = BUILTIN[0]!.scenario;
const v = s.variants[0]!;

function snapshotSetup() {
  machine.attach();
  const setup = prepareRunSetup(s, v, eraByName(v.era)!, true);
  expect(setup.kind).toBe('snapshot');
  return setup;
}

/** The last word of `region`: past any prefix a 256-page machine's setup hands out. */
function lastWord(region: string): number {
  const r = mem.arena.region(region);
  return r.base + r.words - 1;
}

afterEach(() => setRestoreCheck(false));

describe('restore by prefix', () => {
  it('puts back what a run wrote inside the prefixes, and what it allocated and wrote', () => {
    const setup = snapshotSetup();
    const task = kmem_cache_live_objects(task_struct_cachep)[0]!;
    const before = mem.i32[task]!;
    mem.i32[task] = before + 1;
    // A run's allocations grow the prefixes: their words are put back too.
    const obj = kmem_cache_alloc(task_struct_cachep, 'test');
    const frame = page_address(alloc_page(GFP_KERNEL, 'test'));
    mem.i32[obj] = 0x1234;
    mem.i32[frame] = 0x5678;
    setRestoreCheck(true);
    setup.beforeRun(1);
    expect(mem.i32[task]).toBe(before);
    expect(mem.i32[obj]).not.toBe(0x1234);
    expect(mem.i32[frame]).not.toBe(0x5678);
  });

  it.each([
    ['a slab cache', 'slab:task_struct'],
    ['the page frames', 'page_frames'],
  ])('seeded: a write past the prefix of %s is reported by the check, naming the region', (_, region) => {
    const setup = snapshotSetup();
    const w = lastWord(region);
    const wrote = mem.i32[w]! ^ 0x5a5a;
    mem.i32[w] = wrote;
    setRestoreCheck(true);
    expect(() => setup.beforeRun(1)).toThrow(RestoreDriftError);
    expect(() => setup.beforeRun(2)).toThrow(
      new RegExp(`of region ${region.replace(/[()]/g, '\\$&')} holds`),
    );
    // Without the check the restore leaves that word: the prefix is all it copies.
    setRestoreCheck(false);
    setup.beforeRun(3);
    expect(mem.i32[w]).toBe(wrote);
  });

  it('every built-in scenario, every variant, PCT and free runs: no restore leaves a word behind', () => {
    const script = `
      import { BUILTIN, runVariant, sharedMachine, shutdownMachine } from './dist/src/index.js';
      import { setRestoreCheck } from './dist/src/shm/arena_snapshot.js';
      setRestoreCheck(true);
      const m = sharedMachine();
      const rows = [];
      for (const e of BUILTIN) {
        for (const v of e.scenario.variants) {
          for (const mode of [{ mode: 'controlled', strategy: { name: 'pct' }, runs: 40 }, { runs: 10 }]) {
            try {
              const r = await runVariant(m, e.scenario, v, { seed: 1, ...mode }, e.url);
              const error = r.observed === 'error' ? (r.crash?.message ?? r.userError ?? r.hang ?? r.stopped ?? 'error') : null;
              rows.push([e.scenario.id, v.name, r.hits + r.checkFailures, error]);
            } catch (err) {
              rows.push([e.scenario.id, v.name, 0, String(err?.message ?? err)]);
            }
          }
        }
      }
      await shutdownMachine();
      console.log(JSON.stringify(rows));
    `;
    const rows = runDistScript<[string, string, number, string | null][]>(script, 300_000);
    expect(rows.length).toBeGreaterThan(2 * BUILTIN.length);
    expect(rows.filter((r) => r[3] !== null)).toEqual([]);
    // The buggy eras' failing runs (use-after-frees) were among the restores checked.
    expect(rows.reduce((n, r) => n + r[2], 0)).toBeGreaterThan(0);
  }, 320_000);
});
