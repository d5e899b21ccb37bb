// npm run bench -- scenario, last table: runs/s of the 2017 v4.14 variant with each run restoring
// one setup's snapshot (the default) against setup before every run, in free mode and under PCT.
// The two alternate within each round, so that a change in the host's load hits both. Runs/s is
// runs over runVariant's whole wall time: the snapshot's setups (two, to check it repeats) count.
import os from 'node:os';
import { findScenario, runVariant } from '../dist/src/index.js';
import { median, summaryRow, times } from './bench-summary.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const RUNS = Number(process.env.RUNS ?? 400);

const MODES = [
  ['free', {}],
  ['PCT (depth 3)', { mode: 'controlled', strategy: { name: 'pct', depth: 3 } }],
];

export async function run(machine) {
  const e = findScenario('oom-reaper-vs-exit-mmap-2017');
  const v = e.scenario.variants.find((x) => x.era === 'v4.14');
  const loadBefore = os.loadavg()[0].toFixed(2);
  const rps = new Map();
  for (const [name, mode] of MODES)
    for (const snapshot of [true, false]) {
      await runVariant(machine, e.scenario, v, { runs: 50, seed: 99, ...mode, snapshot }, e.url);
      rps.set(`${name}/${snapshot}`, []);
    }
  for (let round = 0; round < ROUNDS; round++)
    for (const [name, mode] of MODES)
      for (const snapshot of [true, false]) {
        const t0 = performance.now();
        const r = await runVariant(
          machine,
          e.scenario,
          v,
          { runs: RUNS, seed: 7 * round, ...mode, snapshot },
          e.url,
        );
        rps.get(`${name}/${snapshot}`).push(r.runs / ((performance.now() - t0) / 1000));
      }
  const load = `${loadBefore} before, ${os.loadavg()[0].toFixed(2)} after (1 min)`;
  console.log(
    `\nsnapshot after setup: 2017 race v4.14, ${RUNS} runs x ${ROUNDS} rounds (median), load average ${load}`,
  );
  console.log('mode            snapshot runs/s   setup per run runs/s   snapshot / per-run');
  const rows = [];
  for (const [name] of MODES) {
    const on = median(rps.get(`${name}/true`));
    const off = median(rps.get(`${name}/false`));
    rows.push(summaryRow('scenario', `snapshot after setup, ${name}`, times(on / off), 'setup every run'));
    console.log(
      `${name.padEnd(15)} ${on.toFixed(0).padStart(15)}   ${off.toFixed(0).padStart(20)}   ${(on / off).toFixed(2).padStart(17)}x`,
    );
  }
  return rows;
}
