// npm run bench [-- all|scenario|locks|sched|machines|fault|lockdep|startup|experiments]
// Every benchmark prints its figures beside a baseline measured in the same process. With no
// argument (or `all`), every benchmark runs with short defaults (environment variables set below,
// unless given) and one summary table of their ratios ends the output (bench-summary.mjs).
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  findScenario,
  loadScenarioFile,
  runVariant,
  sharedMachine,
  shutdownMachine,
} from '../dist/src/index.js';
import { median, printSummary, summaryRow, times } from './bench-summary.mjs';

async function benchScenario() {
  const ROUNDS = Number(process.env.ROUNDS ?? 5);
  const RUNS = Number(process.env.RUNS ?? 400);
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
  const out = rows
    .slice(1)
    .map((r) =>
      summaryRow(
        'scenario',
        `${r.name}, free mode (${r.rps.toFixed(0)} runs/s)`,
        times(r.rps / baseRps),
        cases[0][0],
      ),
    );
  out.push(...(await (await import('./bench-snapshot.mjs')).run(machine)));
  await shutdownMachine();
  return out;
}

const which = process.argv[2] ?? 'all';
const benches = {
  scenario: async () => [
    ...(await benchScenario()),
    ...(await (await import('./bench-scenario-controlled.mjs')).run()),
  ],
  locks: async () => (await import('./bench-locks.mjs')).run(),
  sched: async () => (await import('./bench-sched.mjs')).run(),
  machines: async () => (await import('./bench-machines.mjs')).run(),
  fault: async () => (await import('./bench-fault.mjs')).run(process.argv.slice(3)),
  lockdep: async () => (await import('./bench-lockdep.mjs')).run(),
  startup: async () => (await import('./bench-startup.mjs')).run(),
  experiments: async () => (await import('./bench-experiments.mjs')).run(process.argv.slice(3)),
};

/** `all`'s short defaults: each benchmark's own figures, fewer rounds and iterations. */
const SHORT = {
  ROUNDS: '2',
  RUNS: '200',
  DFS: '0',
  ITERS: '500000',
  REPS: '3',
  PAGES: '4096',
  CHURN_ROUNDS: '2',
  CHURN_MS: '200',
  CRUNS: '20',
  STARTUP_REPS: '4',
};

const t0 = performance.now();
if (which === 'all') {
  for (const [k, v] of Object.entries(SHORT)) process.env[k] ??= v;
  const rows = [];
  for (const [name, run] of Object.entries(benches)) {
    console.log(`\n##### npm run bench -- ${name} (short defaults)`);
    rows.push(...((await run()) ?? []));
  }
  printSummary(rows, (performance.now() - t0) / 1000);
} else if (!benches[which]) {
  console.error(`bench: unknown benchmark '${which}' (have: all, ${Object.keys(benches).join(', ')})`);
  process.exit(2);
} else {
  const rows = (await benches[which]()) ?? [];
  if (rows.length) printSummary(rows, (performance.now() - t0) / 1000);
}
