// npm run test:exhaustive: bounded DFS over the whole schedule space of every lock primitive's
// fixture, at coarse and at atomic granularity (--points atomic: a decision before every shared
// access inside the primitives), side by side. Correct variants must be clean; broken variants
// must be caught, and their schedule must replay 10/10. Preemption bound 2, or 1 where bound 2
// passes MAX_SCHEDULES (the table says which). Arguments pick fixtures by name prefix. Exits 1 if
// any check fails.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const MAX_SCHEDULES = 1_000_000;

// [fixture, variant, expected]
const CASES = [
  ['dfs-rwsem', 'readers', 'clean'],
  ['dfs-rwsem', 'writers', 'clean'],
  ['dfs-rwsem-downgrade', 'correct', 'clean'],
  ['dfs-rwsem-trylock', 'correct', 'clean'],
  ['dfs-seqcount', 'correct', 'clean'],
  ['dfs-spinlock', 'correct', 'clean'],
  ['dfs-spinlock', 'shared', 'clean'],
  ['dfs-rcu', 'correct', 'clean'],
  ['dfs-rwsem-xadd', 'readers', 'clean'],
  ['dfs-rwsem-xadd', 'writers', 'clean'],
  ['dfs-rwsem-xadd', 'mixed', 'clean'],
  // CONFIG_RWSEM_SPIN_ON_OWNER=y: writers spin behind the OSQ (CI checks these with 1 preemption).
  ['dfs-rwsem-xadd', 'readers-spinning', 'clean'],
  ['dfs-rwsem-xadd', 'writers-spinning', 'clean'],
  ['dfs-rwsem-xadd', 'mixed-spinning', 'clean'],
  ['dfs-rwsem-downgrade', 'xadd', 'clean'],
  ['dfs-rwsem-trylock', 'xadd', 'clean'],
  ['dfs-osq', 'reader-owned', 'clean'],
  ['dfs-osq', 'writers', 'clean'],
  ['dfs-rwsem', 'readers-busted', 'reproduces'],
  ['dfs-rwsem', 'writers-busted', 'reproduces'],
  ['dfs-rwsem', 'readers-lost-wakeup', 'reproduces'],
  ['dfs-rwsem-downgrade', 'up-down', 'reproduces'],
  ['dfs-rwsem-downgrade', 'no-wake', 'reproduces'],
  ['dfs-rwsem-trylock', 'busted', 'reproduces'],
  ['dfs-seqcount', 'no-seqcount', 'reproduces'],
  ['dfs-seqcount', 'no-retry', 'reproduces'],
  ['dfs-seqcount', 'unserialized', 'reproduces'],
  ['dfs-spinlock', 'no-lock', 'reproduces'],
  ['dfs-rcu', 'no-sync', 'reproduces'],
  ['dfs-rcu', 'early-free', 'reproduces'],
  ['dfs-rwsem-xadd', 'readers-busted', 'reproduces'],
  ['vma-tree-rcu', 'rcu-mode', 'clean'],
  ['vma-tree-rcu', 'v6.1-locked', 'clean'],
  ['vma-tree-rcu', 'no-grace-period', 'reproduces'],
  ['vma-tree-rcu', 'v6.1', 'reproduces'],
  // Per-VMA locks (issue 11): each generation's protocol, and a broken form of each.
  ...['rfc', 'v6.4', 'v6.15'].flatMap((g) => [
    ['vma-lock-dfs', `${g}-readers`, 'clean'],
    ['vma-lock-dfs', `${g}-detach`, 'clean'],
    ['vma-lock-dfs', `${g}-bump`, 'clean'],
    ['vma-lock-dfs', `${g}-readers-no-recheck`, 'reproduces'],
    ['vma-lock-dfs', `${g}-detach-no-wait`, 'reproduces'],
    ['vma-lock-dfs', `${g}-bump-no-bump`, 'reproduces'],
  ]),
  ['vma-lock-seq-overflow', 'false-locked', 'clean'],
  ['vma-lock-seq-overflow', 'unwrapped', 'clean'],
  ['vma-lock-seq-overflow', 'wrap-while-held', 'reproduces'],
];

function mmrace(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args, '--json'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const ms = performance.now() - t0;
  try {
    return { row: JSON.parse(r.stdout).rows[0], ms, code: r.status };
  } catch {
    return { row: null, ms, code: r.status, stderr: r.stderr };
  }
}

function dfs(fixture, variant, points, bound) {
  const args = ['run', `test/fixtures/${fixture}.mjs`, '--variant', variant, '--strategy', 'dfs'];
  return mmrace([
    ...args,
    '--preemptions',
    String(bound),
    '--points',
    points,
    '--runs',
    String(MAX_SCHEDULES),
  ]);
}

/** Bound 2, or bound 1 when bound 2 does not finish within MAX_SCHEDULES. */
function explore(fixture, variant, points) {
  const two = dfs(fixture, variant, points, 2);
  if (two.row && two.row.explored < MAX_SCHEDULES) return { ...two, bound: 2 };
  return { ...dfs(fixture, variant, points, 1), bound: 1 };
}

function replays(fixture, variant, points, schedule) {
  const args = ['run', `test/fixtures/${fixture}.mjs`, '--variant', variant, '--replay', schedule];
  const r = mmrace([...args, '--points', points, '--runs', '10']);
  return r.row?.hits ?? 0;
}

let failed = 0;
const pad = (s, n) => String(s).padEnd(n);
console.log(
  `${pad('fixture', 23)}${pad('variant', 26)}${pad('coarse', 20)}${pad('atomic', 20)}${pad('verdict', 12)}replay`,
);
// `npm run test:exhaustive -- dfs-rwsem vma-lock`: only the fixtures whose name starts so.
const only = process.argv.slice(2);
const picked = CASES.filter(([f]) => only.length === 0 || only.some((o) => f.startsWith(o)));
for (const [fixture, variant, expected] of picked) {
  const cells = [];
  let verdict = '';
  let replay = '';
  for (const points of ['coarse', 'atomic']) {
    const r = explore(fixture, variant, points);
    const ok = r.row && r.row.error === null && r.row.observed === expected;
    if (!ok) failed++;
    cells.push(r.row ? `${r.row.explored} (k=${r.bound}, ${(r.ms / 1000).toFixed(1)}s)` : `ERROR ${r.code}`);
    if (points === 'atomic') {
      verdict = `${r.row?.observed ?? 'error'}${ok ? '' : ' !!'}`;
      if (expected === 'reproduces' && r.row?.schedule) {
        const hits = replays(fixture, variant, points, r.row.schedule);
        replay = `${hits}/10`;
        if (hits !== 10) failed++;
      }
    }
  }
  const line = `${pad(fixture, 23)}${pad(variant, 26)}${pad(cells[0], 20)}${pad(cells[1], 20)}${pad(verdict, 12)}${replay}`;
  console.log(line);
}
console.log(`\n${failed === 0 ? 'all as expected' : `${failed} checks FAILED`}`);
process.exitCode = failed === 0 ? 0 : 1;
