// `npm run bench -- scenario`, controlled rows: the 2017 scenario under PCT beside free mode, and
// bounded DFS over the whole v4.15 space, with the scheduling decisions on the CPU threads (the
// default) and, as the baseline in the same process, on the main thread (decisionsOn: 'main',
// the design before: two handoffs per switch). Rounds alternate the cases. The whole DFS space is
// also explored by the command on one emulated machine per core (`--machines N`, N = the host's
// cores), which splits the tree into shards the machines take in turn.
// Env: ROUNDS (3), RUNS (400 per case and round), DFS=0 skips the DFS rows, DFS_MAIN_CAP (20000:
// the main-thread DFS baseline runs this many schedules and is compared by schedules/s).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { findScenario, runVariant, sharedMachine, shutdownMachine } from '../dist/src/index.js';
import { median, summaryRow, times } from './bench-summary.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const RUNS = Number(process.env.RUNS ?? 400);
const DFS_MAIN_CAP = Number(process.env.DFS_MAIN_CAP ?? 20_000);

export async function run() {
  const machine = sharedMachine();
  const e = findScenario('oom-reaper-vs-exit-mmap-2017');
  const v414 = e.scenario.variants.find((v) => v.era === 'v4.14');
  const v415 = e.scenario.variants.find((v) => v.era === 'v4.15');
  const pct = { mode: 'controlled', strategy: { name: 'pct', depth: 2 } };
  const cases = [
    ['free mode (baseline)', {}],
    ['PCT d=2, decisions on CPUs', pct],
    ['PCT d=2, decisions on main', { ...pct, decisionsOn: 'main' }],
  ];
  const got = new Map(cases.map(([name]) => [name, []]));
  for (const [, o] of cases) await runVariant(machine, e.scenario, v414, { runs: 50, seed: 99, ...o }, e.url);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, o] of round % 2 ? [...cases].reverse() : cases) {
      const r = await runVariant(
        machine,
        e.scenario,
        v414,
        { runs: RUNS, seed: 1 + 1000 * round, ...o },
        e.url,
      );
      if (r.observed === 'error') throw new Error(`${name}: ${r.crash?.message ?? r.hang ?? r.stopped}`);
      got.get(name).push({ rps: r.runsPerSec, hits: r.hits / r.runs });
    }
  }
  console.log('');
  console.log(
    `controlled mode, 2017 race v4.14, ${RUNS} runs x ${ROUNDS} rounds (median), load ${loadavg()}`,
  );
  console.log('case                            runs/s   hit rate   vs free   PCT goal');
  const freeRps = median(got.get(cases[0][0]).map((x) => x.rps));
  const rows = [];
  for (const [name] of cases) {
    const xs = got.get(name);
    const rps = median(xs.map((x) => x.rps));
    const ratio = rps / freeRps;
    const goal = name.includes('on CPUs') ? `>= 1.00x free: ${ratio >= 1 ? 'met' : 'MISSED'}` : '';
    if (name.includes('on CPUs'))
      rows.push(
        summaryRow(
          'scenario',
          `2017 v4.14 ${name} (${rps.toFixed(0)} runs/s)`,
          times(ratio),
          'free mode',
          '>= 1x',
          ratio >= 1,
        ),
      );
    console.log(
      `${name.padEnd(30)} ${rps.toFixed(0).padStart(7)}   ${(median(xs.map((x) => x.hits)) * 100).toFixed(0).padStart(7)}%   ${ratio.toFixed(2).padStart(6)}x   ${goal}`,
    );
  }
  if (process.env.DFS !== '0') rows.push(...(await dfsRows(machine, e, v415)));
  else
    rows.push(
      summaryRow('scenario', 'DFS bound 2, 2017 v4.15, whole space', 'skipped (DFS=0)', '', '<= 60 s'),
    );
  await shutdownMachine();
  return rows;
}

async function dfsRows(machine, e, v) {
  const dfs = { mode: 'controlled', strategy: { name: 'dfs', preemptions: 2 } };
  const whole = await runVariant(machine, e.scenario, v, { runs: 10_000_000, seed: 1, ...dfs }, e.url);
  const capped = await runVariant(
    machine,
    e.scenario,
    v,
    { runs: DFS_MAIN_CAP, seed: 1, ...dfs, decisionsOn: 'main' },
    e.url,
  );
  const s = whole.wallMs / 1000;
  const rate = whole.explored / s;
  const mainRate = capped.explored / (capped.wallMs / 1000);
  const n = os.availableParallelism();
  const split = machinesDfs(n);
  console.log('');
  console.log(`DFS, preemption bound 2, 2017 race v4.15 (load ${loadavg()})`);
  console.log(
    `decisions on CPUs, one machine: the whole space, ${whole.explored} schedules, ${s.toFixed(1)} s (${rate.toFixed(0)}/s), ${whole.observed}; goal <= 60 s: ${s <= 60 ? 'met' : 'MISSED'}`,
  );
  console.log(
    `--machines ${n} (one per core): the whole space, ${split.explored} schedules in ${split.shards} shards, ${split.s.toFixed(1)} s (${(split.explored / split.s).toFixed(0)}/s, ${(s / split.s).toFixed(2)}x one machine), ${split.observed}; goal <= 60 s: ${split.s <= 60 ? 'met' : 'MISSED'}`,
  );
  console.log(
    `decisions on main (baseline): first ${capped.explored} schedules at ${mainRate.toFixed(0)}/s; on CPUs ÷ on main: ${(rate / mainRate).toFixed(2)}x`,
  );
  if (split.explored !== whole.explored)
    throw new Error(`--machines ${n} explored ${split.explored} schedules, one machine ${whole.explored}`);
  return [
    summaryRow(
      'scenario',
      `DFS bound 2, 2017 v4.15, whole space, 1 machine (${whole.explored} schedules, ${s.toFixed(1)} s)`,
      `${times(rate / mainRate)} schedules/s`,
      'decided on main',
      '<= 60 s',
      s <= 60,
    ),
    summaryRow(
      'scenario',
      `DFS bound 2, 2017 v4.15, whole space, --machines ${n} (${split.s.toFixed(1)} s)`,
      `${times(s / split.s)} speed`,
      '1 machine',
      '<= 60 s',
      split.s <= 60,
    ),
  ];
}

/** The same search by the command, on `n` machines (host processes) at once: wall time from spawn to exit. */
function machinesDfs(n) {
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const args = ['repro', 'oom-reaper-vs-exit-mmap-2017', '--variant', 'v4.15', '--strategy', 'dfs'];
  const more = [
    '--preemptions',
    '2',
    '--runs',
    '10000000',
    '--no-lockdep',
    '--machines',
    String(n),
    '--json',
  ];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args, ...more], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`--machines ${n}: exit ${r.status}: ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  const row = out.rows[0];
  return { s, explored: row.explored, observed: row.observed, shards: row.merged?.count ?? 1 };
}

function loadavg() {
  return os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
}
