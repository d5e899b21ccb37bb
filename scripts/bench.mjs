// npm run bench -- [scenario|locks|sched|fault|lockdep|experiments]
// Every benchmark prints its figures beside a baseline measured in the same process.
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  findScenario,
  loadScenarioFile,
  runVariant,
  sharedMachine,
  shutdownMachine,
} from '../dist/src/index.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const RUNS = Number(process.env.RUNS ?? 400);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function benchScenario() {
  const machine = sharedMachine();
  const real = findScenario('oom-reaper-vs-exit-mmap-2017');
  const base = await loadScenarioFile(fileURLToPath(new URL('./baseline-scenario.mjs', import.meta.url)));
  const rows = [];
  const cases = [
    ['baseline (empty programs)', base, base.scenario.variants[0]],
    ['2017 race, v4.14', real, real.scenario.variants[0]],
    ['2017 race, v4.15', real, real.scenario.variants[1]],
  ];
  const results = new Map(cases.map(([name]) => [name, []]));
  // warm-up: JIT, worker start
  for (const [, e, v] of cases) await runVariant(machine, e.scenario, v, { runs: 50, seed: 99 }, e.url);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, e, v] of cases) {
      const r = await runVariant(machine, e.scenario, v, { runs: RUNS, seed: 1000 * round }, e.url);
      results.get(name).push({ rps: r.runsPerSec, p50: r.runMs.p50, hits: r.hits / r.runs });
    }
  }
  const baseRps = median(results.get(cases[0][0]).map((x) => x.rps));
  console.log(`scenario runs/s, free mode, ${RUNS} runs x ${ROUNDS} rounds (median); workers reused`);
  console.log(`machine: ${os.cpus()[0]?.model} x${os.cpus().length}, node ${process.version}`);
  console.log('case                        runs/s   run p50 ms   hit rate   vs baseline');
  for (const [name] of cases) {
    const xs = results.get(name);
    const rps = median(xs.map((x) => x.rps));
    rows.push({ name, rps });
    console.log(
      `${name.padEnd(27)} ${rps.toFixed(0).padStart(6)}   ${median(xs.map((x) => x.p50))
        .toFixed(2)
        .padStart(
          10,
        )}   ${(median(xs.map((x) => x.hits)) * 100).toFixed(0).padStart(7)}%   ${(rps / baseRps).toFixed(2)}x`,
    );
  }
  await (await import('./bench-snapshot.mjs')).run(machine);
  await shutdownMachine();
}

const which = process.argv[2] ?? 'scenario';
const benches = {
  scenario: async () => {
    await benchScenario();
    await (await import('./bench-scenario-controlled.mjs')).run();
  },
  locks: async () => (await import('./bench-locks.mjs')).run(),
  sched: async () => (await import('./bench-sched.mjs')).run(),
  fault: async () => (await import('./bench-fault.mjs')).run(process.argv.slice(3)),
  lockdep: async () => (await import('./bench-lockdep.mjs')).run(),
  experiments: async () => (await import('./bench-experiments.mjs')).run(process.argv.slice(3)),
};
if (!benches[which]) {
  console.error(`bench: unknown benchmark '${which}' (have: ${Object.keys(benches).join(', ')})`);
  process.exit(2);
}
await benches[which]();
