// npm run soak -- [--seconds S] [--pct-runs N] [--depth d] [--eras E1,E2|all] [--seed s]
//                 [--batch N] [--probe N] [--json]
// The teardown soak (src/scenarios/teardown-soak.ts) on every era profile (ERAS): S seconds of
// free-mode runs (batches of --batch runs until S seconds of wall time have passed), then N
// controlled runs under PCT (depth d), then --probe traced free runs that measure which windows the
// CPUs really overlapped in (the reaper's zap and exit_mmap's unmap_vmas, process_mrelease and
// exit_mmap, faults and munmap; from the per-CPU function slices of --trace). Prints one row per
// era; exits 1 when a check fired in an era the scenario expects clean (or a run crashed or hung),
// 2 on bad options.
import os from 'node:os';
import { traceArm, traceSnapshot } from '../dist/src/cpu/trace_buffer.js';
import { ERAS } from '../dist/src/eras/index.js';
import { runVariant, sharedMachine, shutdownMachine } from '../dist/src/scenarios/campaign.js';
import { findScenario } from '../dist/src/scenarios/catalogue.js';
import { expectedOn } from '../dist/src/scenarios/era_matrix.js';
import { takeSoakTotals } from '../dist/src/scenarios/teardown-soak.js';

const USAGE =
  'usage: npm run soak -- [--seconds S] [--pct-runs N] [--depth d] [--eras E1,E2|all] [--seed s] [--batch N] [--probe N] [--json]';

function parseArgs(argv) {
  const o = {
    seconds: 10,
    pctRuns: 2000,
    depth: 3,
    eras: 'all',
    seed: 1,
    batch: 100,
    probe: 200,
    json: false,
  };
  const num = (name, v, min) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min)
      throw new Error(`${name} needs a number >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case '--seconds':
        o.seconds = num(a, v, 0);
        i++;
        break;
      case '--pct-runs':
        o.pctRuns = Math.floor(num(a, v, 0));
        i++;
        break;
      case '--depth':
        o.depth = Math.floor(num(a, v, 1));
        i++;
        break;
      case '--eras':
        if (!v) throw new Error('--eras needs a list');
        o.eras = v;
        i++;
        break;
      case '--seed':
        o.seed = Math.floor(num(a, v, 0));
        i++;
        break;
      case '--batch':
        o.batch = Math.floor(num(a, v, 1));
        i++;
        break;
      case '--probe':
        o.probe = Math.floor(num(a, v, 0));
        i++;
        break;
      case '--json':
        o.json = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option '${a}'`);
    }
  }
  const names = ERAS.map((e) => e.name);
  if (o.eras === 'all') o.eras = names;
  else {
    o.eras = o.eras.split(',').map((s) => s.trim());
    for (const e of o.eras)
      if (!names.includes(e)) throw new Error(`unknown era '${e}' (eras: ${names.join(', ')})`);
  }
  return o;
}

// --- the overlap probe: which windows met, from one traced run's function slices ---

const CPU = { reaper: 0, main: 1, writer: 2, reader: 3, child: 4, lmkd: 5 };

/** Each CPU's function slices: { name, t0, t1, under: names of the enclosing slices }. */
function slices(snapshot) {
  const out = [];
  for (const c of snapshot.cpus) {
    const stack = [];
    let last = 0;
    for (const ev of c.events) {
      last = ev.ts;
      if (ev.kind === 3)
        stack.push({ name: snapshot.names[ev.a], t0: ev.ts, under: stack.map((s) => s.name) });
      else if (ev.kind === 4) {
        const s = stack.pop();
        if (s) out.push({ cpu: c.cpu, ...s, t1: ev.ts });
      }
    }
    for (const s of stack) out.push({ cpu: c.cpu, ...s, t1: last }); // still open at the run's end
  }
  return out;
}

const meet = (a, b) => a.cpu !== b.cpu && a.t0 < b.t1 && b.t0 < a.t1;
const anyMeet = (xs, ys) => xs.some((x) => ys.some((y) => meet(x, y)));

/** The windows one run's CPUs overlapped in (booleans). The child's own exit_mmap is left out. */
function overlaps(snapshot) {
  const s = slices(snapshot);
  const pick = (f) => s.filter(f);
  const exitMmap = pick((x) => x.name === 'exit_mmap' && x.cpu !== CPU.child);
  const exitUnmap = pick(
    (x) => x.name === 'unmap_vmas' && x.under.includes('exit_mmap') && x.cpu !== CPU.child,
  );
  const exitFree = pick(
    (x) =>
      (x.name === 'free_pgtables' || x.name === 'remove_vma') &&
      x.under.includes('exit_mmap') &&
      x.cpu !== CPU.child,
  );
  const reaperReap = pick((x) => x.cpu === CPU.reaper && x.name === '__oom_reap_task_mm');
  const reaperZap = pick(
    (x) => x.cpu === CPU.reaper && x.name === 'unmap_page_range' && !x.under.includes('exit_mmap'),
  );
  // process_mrelease() calls that did something (not the -ENOSYS of the eras before v5.15)
  const mrelease = pick(
    (x) =>
      x.cpu === CPU.lmkd &&
      x.name === 'process_mrelease' &&
      s.some((y) => y.cpu === x.cpu && y.under.includes('process_mrelease')),
  );
  const mreleaseZap = pick(
    (x) =>
      x.cpu === CPU.lmkd &&
      x.name === 'unmap_page_range' &&
      x.under.includes('process_mrelease') &&
      !x.under.includes('exit_mmap'),
  );
  const faults = pick((x) => (x.cpu === CPU.writer || x.cpu === CPU.reader) && x.name === '__do_page_fault');
  const munmap = pick((x) => x.cpu === CPU.main && x.name === 'do_munmap');
  return {
    reaperZapExitUnmap: anyMeet(reaperZap, exitUnmap),
    reaperExitMmap: anyMeet(reaperReap, exitMmap),
    mreleaseExitMmap: anyMeet(mrelease, exitMmap),
    mreleaseZapExitUnmap: anyMeet(mreleaseZap, exitUnmap),
    // a zap while exit_mmap frees page tables or VMAs: the use-after-free window (D2, B1)
    zapExitFree: anyMeet([...reaperZap, ...mreleaseZap], exitFree),
    reaperFault: anyMeet(reaperReap, faults),
    faultMunmap: anyMeet(faults, munmap),
    exitOn: [...new Set(exitMmap.map((x) => x.cpu))],
  };
}

const OVERLAP_KEYS = [
  'reaperZapExitUnmap',
  'reaperExitMmap',
  'mreleaseExitMmap',
  'mreleaseZapExitUnmap',
  'zapExitFree',
  'reaperFault',
  'faultMunmap',
];

function newCounts() {
  const c = { runs: 0, exitOn: {} };
  for (const k of OVERLAP_KEYS) c[k] = 0;
  return c;
}

/**
 * The soak traced in every run (armed by its setup: --trace's observer would stop recording after
 * the first failing run), with one more final check: the run's overlaps, counted. A failing run's
 * final checks do not run, so only clean runs are counted.
 */
function probeScenario(s, counts, mode) {
  return {
    ...s,
    setup(g, v) {
      s.setup(g, v);
      traceArm(true, mode);
    },
    checks: [
      ...s.checks,
      {
        name: 'overlap probe',
        check: () => {
          const o = overlaps(traceSnapshot(s.cpus.length));
          counts.runs++;
          for (const k of OVERLAP_KEYS) if (o[k]) counts[k]++;
          for (const c of o.exitOn) counts.exitOn[c] = (counts.exitOn[c] ?? 0) + 1;
          return null;
        },
      },
    ],
  };
}

// --- running ---

function firstFailure(r) {
  if (r.crash || r.hang || r.stopped || r.userError)
    return { kind: 'error', text: String(r.crash?.message ?? r.crash ?? r.hang ?? r.stopped ?? r.userError) };
  if (r.firstHit)
    return {
      kind: 'report',
      seed: r.firstHit.seed,
      run: r.firstHit.run,
      schedule: r.schedule,
      lines: r.firstHit.log
        .map((l) => l.text)
        .filter((t) => /^(BUG|WARNING|kernel BUG|Oops|INFO: task)/.test(t))
        .slice(0, 4),
    };
  if (r.firstCheckFailure) return { kind: 'check', ...r.firstCheckFailure, schedule: r.schedule };
  return null;
}

const isError = (r) => Boolean(r.crash || r.hang || r.stopped || r.userError);

async function soakEra(machine, entry, era, o, log) {
  const s = entry.scenario;
  const variant = s.variants.find((v) => v.era === era) ?? {
    name: era,
    era,
    expected: expectedOn(s, era, era),
  };
  const out = { era, expected: variant.expected };

  // Free mode: batches until the time is up.
  takeSoakTotals();
  const free = { runs: 0, hits: 0, checkFailures: 0, errors: 0, wallMs: 0, first: null };
  const t0 = performance.now();
  while (performance.now() - t0 < o.seconds * 1000) {
    const r = await runVariant(machine, s, variant, { runs: o.batch, seed: o.seed + free.runs }, entry.url);
    free.runs += r.runs;
    free.hits += r.hits;
    free.checkFailures += r.checkFailures;
    if (isError(r)) free.errors++;
    free.first ??= firstFailure(r);
    if (isError(r)) break;
  }
  free.wallMs = Math.round(performance.now() - t0);
  free.totals = takeSoakTotals();
  log(
    `${era}: free ${free.runs} runs in ${(free.wallMs / 1000).toFixed(1)} s, ${free.hits + free.checkFailures} fired`,
  );

  // Controlled mode, PCT.
  const pct = { runs: 0, hits: 0, checkFailures: 0, errors: 0, wallMs: 0, first: null };
  const pctOverlap = newCounts();
  if (o.pctRuns > 0) {
    const t1 = performance.now();
    // Traced: the overlaps of every PCT run are counted too (in virtual time: interleaved slices).
    const r = await runVariant(
      machine,
      probeScenario(s, pctOverlap, 'controlled'),
      variant,
      { runs: o.pctRuns, seed: o.seed, mode: 'controlled', strategy: { name: 'pct', depth: o.depth } },
      entry.url,
    );
    traceArm(false, 'controlled');
    Object.assign(pct, {
      runs: r.runs,
      hits: r.hits,
      checkFailures: r.checkFailures,
      errors: isError(r) ? 1 : 0,
      first: firstFailure(r),
      wallMs: Math.round(performance.now() - t1),
    });
  }
  pct.totals = takeSoakTotals();
  log(
    `${era}: PCT ${pct.runs} runs in ${(pct.wallMs / 1000).toFixed(1)} s, ${pct.hits + pct.checkFailures} fired`,
  );

  // The overlap probe: traced free runs.
  const counts = newCounts();
  if (o.probe > 0) {
    const t2 = performance.now();
    await runVariant(
      machine,
      probeScenario(s, counts, 'free'),
      variant,
      { runs: o.probe, seed: o.seed + 1_000_000 },
      entry.url,
    );
    traceArm(false, 'free');
    counts.wallMs = Math.round(performance.now() - t2);
    takeSoakTotals();
  }
  out.free = free;
  out.pct = pct;
  out.overlap = counts;
  out.pctOverlap = pctOverlap;
  out.checksFired = free.hits + free.checkFailures + pct.hits + pct.checkFailures;
  out.errors = free.errors + pct.errors;
  out.verdict =
    out.errors > 0
      ? 'ERROR'
      : out.checksFired === 0
        ? variant.expected === 'clean'
          ? 'clean'
          : 'clean (known bug not hit)'
        : variant.expected === 'clean'
          ? 'FIRED'
          : 'known bug found';
  out.ok = out.errors === 0 && (out.checksFired === 0 || variant.expected !== 'clean');
  return out;
}

function table(rows, o) {
  const head = [
    'era',
    `free runs in ${o.seconds}s`,
    'free hits',
    'PCT runs',
    'PCT hits',
    'checks fired',
    'verdict',
  ];
  const body = rows.map((r) => [
    r.era,
    String(r.free.runs),
    String(r.free.hits + r.free.checkFailures),
    String(r.pct.runs),
    String(r.pct.hits + r.pct.checkFailures),
    String(r.checksFired),
    r.verdict,
  ]);
  return render(head, body);
}

function overlapTable(rows, which) {
  const pc = (n, d) => (d ? `${((100 * n) / d).toFixed(0)}%` : '-');
  const head = [
    'era',
    'probed',
    'reaper zap||exit unmap',
    'reaper||exit_mmap',
    'mrelease||exit_mmap',
    'mrelease zap||exit unmap',
    'zap||exit free',
    'reaper||fault',
    'fault||munmap',
    'fork saw reap',
    'sigbus faults',
  ];
  const body = rows.map((r) => {
    const c = which === 'pct' ? r.pctOverlap : r.overlap;
    const t = which === 'pct' ? r.pct.totals : r.free.totals;
    return [
      r.era,
      String(c.runs),
      ...OVERLAP_KEYS.map((k) => pc(c[k], c.runs)),
      `${t.forkSawReap}/${t.forks + t.forksFailed}`,
      String(t.sigbus),
    ];
  });
  return render(head, body);
}

function render(head, body) {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) =>
    cells
      .map((x, i) => x.padEnd(w[i]))
      .join('  ')
      .trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`soak: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  const entry = findScenario('teardown-soak');
  const machine = sharedMachine();
  const log = o.json ? () => {} : (m) => process.stderr.write(`${m}\n`);
  const start = performance.now();
  const load0 = os.loadavg();
  const rows = [];
  for (const era of o.eras) rows.push(await soakEra(machine, entry, era, o, log));
  const wallMs = Math.round(performance.now() - start);
  const load1 = os.loadavg();
  await shutdownMachine();
  const ok = rows.every((r) => r.ok);
  if (o.json) {
    const json = {
      ok,
      seconds: o.seconds,
      pctRuns: o.pctRuns,
      depth: o.depth,
      seed: o.seed,
      wallMs,
      loadavg: { start: load0, end: load1 },
      host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      eras: rows,
    };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    const lines = [
      `teardown soak: ${o.eras.length} eras, ${o.seconds} s free + ${o.pctRuns} PCT runs (depth ${o.depth}) each, seed ${o.seed}`,
      '',
      table(rows, o),
      '',
      `free mode: overlaps in ${o.probe} traced runs per era (share of runs where the two ran at once;`,
      'fork saw reap and sigbus faults over the untraced runs above):',
      overlapTable(rows, 'free'),
      '',
      'PCT: overlaps in the traced PCT runs (interleaved in virtual time), counters over the same runs:',
      overlapTable(rows, 'pct'),
    ];
    for (const r of rows) {
      for (const [mode, m] of [
        ['free', r.free],
        ['PCT', r.pct],
      ]) {
        const f = m.first;
        if (!f) continue;
        lines.push('', `${r.era} ${mode}: first failure (${f.kind})`);
        if (f.kind === 'error') lines.push(`  ${f.text.split('\n')[0]}`);
        if (f.kind === 'report') {
          lines.push(`  run ${f.run}, seed ${f.seed}`, ...f.lines.map((l) => `  ${l}`));
          if (f.schedule)
            lines.push(
              `  replay: node dist/cli.js repro teardown-soak --variant ${r.era} --replay '${f.schedule}'`,
            );
        }
        if (f.kind === 'check')
          lines.push(`  final check '${f.check}' in run ${f.run} (seed ${f.seed}): ${f.detail}`);
      }
    }
    lines.push(
      '',
      `${ok ? 'ok' : 'FAILED'}: ${rows.filter((r) => !r.ok).length} of ${rows.length} eras off; wall ${(wallMs / 1000).toFixed(0)} s, load ${load0.map((x) => x.toFixed(2)).join(' ')} -> ${load1.map((x) => x.toFixed(2)).join(' ')}`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return ok ? 0 : 1;
}

process.exitCode = await main();
