// npm run bench -- startup: what a command costs before its first run, the bundle (dist/cli.js,
// dist/mmrace.js: what `mmrace` and `import 'mmrace'` load) beside the compiled modules it is
// built from (dist/src/cli/main.js under the 'mmrace-dist' condition), alternated in this script:
// (1) a refused command (`repro nosuch`: the main thread alone), (2) a one-run campaign of the
// 2017 scenario's v4.15 (3 CPU workers), (3) node itself (`node -e 0`), the floor. Wall time and
// the CPU time of the process and all its threads (user + sys, /usr/bin/time's, 10 ms steps).
// Env: STARTUP_REPS (10 per case and form).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, summaryRow, times } from './bench-summary.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPS = Number(process.env.STARTUP_REPS ?? 10);

const FORMS = {
  bundle: ['dist/cli.js'],
  'compiled modules': ['--conditions=mmrace-dist', 'dist/src/cli/main.js'],
};
const CASES = {
  'refused (repro nosuch)': { args: ['repro', 'nosuch'], code: 2 },
  'one run, 3 CPUs': {
    args: ['repro', 'oom-reaper-vs-exit-mmap-2017', '--variant', 'v4.15', '--runs', '1', '--json'],
    code: 0,
  },
};

/** Wall and CPU ms of one `node argv...`, via /usr/bin/time's rusage of the whole process. */
function measure(argv) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', process.execPath, ...argv], {
    cwd: root,
    encoding: 'utf8',
  });
  const last = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { code: r.status, wallMs: last[0] * 1000, cpuMs: (last[1] + last[2]) * 1000 };
}

export async function run() {
  const got = new Map();
  const add = (k, m) => got.set(k, [...(got.get(k) ?? []), m]);
  for (let i = 0; i < REPS; i++) {
    add('node -e 0', measure(['-e', '0']));
    const forms = i % 2 ? Object.entries(FORMS).reverse() : Object.entries(FORMS);
    for (const [c, { args, code }] of Object.entries(CASES)) {
      for (const [f, argv] of forms) {
        const m = measure([...argv, ...args]);
        if (m.code !== code) throw new Error(`${f} ${args.join(' ')}: exit ${m.code}, expected ${code}`);
        add(`${c}|${f}`, m);
      }
    }
  }
  const med = (k, field) => median(got.get(k).map((m) => m[field]));
  console.log(`command start: medians of ${REPS}, forms alternated (wall ms, CPU ms of all threads)`);
  console.log('case                      form               wall ms   CPU ms   CPU vs compiled modules');
  console.log(
    `node -e 0 (the floor)     -                  ${med('node -e 0', 'wallMs').toFixed(0).padStart(7)}   ${med('node -e 0', 'cpuMs').toFixed(0).padStart(6)}`,
  );
  const rows = [];
  for (const c of Object.keys(CASES)) {
    const base = med(`${c}|compiled modules`, 'cpuMs');
    for (const f of Object.keys(FORMS)) {
      const k = `${c}|${f}`;
      const cpu = med(k, 'cpuMs');
      console.log(
        `${c.padEnd(25)} ${f.padEnd(18)} ${med(k, 'wallMs').toFixed(0).padStart(7)}   ${cpu.toFixed(0).padStart(6)}   ${times(cpu / base)}`,
      );
    }
    const ratio = med(`${c}|bundle`, 'cpuMs') / base;
    rows.push(
      summaryRow('startup', `${c}: CPU, bundle`, times(ratio), 'compiled modules', '< 1x', ratio < 1),
    );
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await run();
