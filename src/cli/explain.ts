// `mmrace explain <id>`: an entry's explanation, then its race drawn from a real failing schedule:
// PCT finds one, shrink.ts makes it small, and a traced replay of the shrunk schedule is drawn one
// column per CPU (report/race_diagram.ts). A control (no variant expected to reproduce) has no
// race to draw and says so.
import type { Command } from 'commander';
import { raceDiagram } from '../report/race_diagram.js';
import { lockNamer } from '../report/trace_locks.js';
import { runVariant, sharedMachine } from '../scenarios/campaign.js';
import { type CatalogueEntry, findScenario } from '../scenarios/catalogue.js';
import type { Scenario, Variant } from '../scenarios/scenario.js';
import { shrinkSchedule } from '../scenarios/shrink.js';
import { mem } from '../shm/arena.js';
import { intIn, parseRuns, parseSeed, suggestSimilar, UsageError } from './args.js';

interface ExplainOptions {
  variant?: string;
  runs?: number;
  seed?: number;
  depth?: number;
  json?: boolean;
}

export interface Explanation {
  id: string;
  title: string;
  refs: readonly string[];
  description: string;
  expectFailIn: readonly string[] | null;
  symptoms: Scenario['symptoms'] | null;
  variant: string | null;
  /** Why there is no diagram (a control, or no failing run found), else null. */
  noRace: string | null;
  seed: number | null;
  schedule: string | null;
  shrunk: { schedule: string; switches: number; steps: number; verified: boolean } | null;
  failure: string | null;
  diagram: string[];
}

export function explainCommand(program: Command, done: (code: number) => void): Command {
  return program
    .command('explain')
    .argument('<id>', 'scenario id (see `mmrace list`)')
    .description("a catalogue entry's explanation, and its race drawn from a shrunk failing schedule")
    .option('--variant <name>', 'the variant to draw (default: the first expected to reproduce)')
    .option('--runs <n>', 'PCT runs to find a failing schedule (default 2000)', parseRuns)
    .option('--seed <s>', 'the PCT campaign seed (default 1)', parseSeed)
    .option(
      '--depth <d>',
      "traced function levels drawn per CPU (default 4, or the scenario's diagramDepth)",
      intIn(1, 12),
    )
    .option('--json', 'print the explanation and the diagram as JSON')
    .action(async (id: string, o: ExplainOptions) => {
      const e = findScenario(id);
      if (!e) throw new UsageError(`unknown scenario '${id}' (see 'mmrace list')`);
      const x = await explain(e, o);
      process.stdout.write(o.json ? `${JSON.stringify(x, null, 2)}\n` : `${render(x).join('\n')}\n`);
      done(x.noRace !== null && x.variant !== null ? 1 : 0);
    });
}

function pickVariant(s: Scenario, name: string | undefined): Variant | null {
  if (name === undefined) return s.variants.find((v) => v.expected === 'reproduces') ?? null;
  const v = s.variants.find((x) => x.name === name);
  if (v) return v;
  const near = suggestSimilar(
    name,
    s.variants.map((x) => x.name),
  );
  throw new UsageError(
    `unknown variant '${name}' of ${s.id}${near ? ` (did you mean '${near}'?)` : ''}; variants: ${s.variants.map((x) => x.name).join(', ')}`,
  );
}

export async function explain(e: CatalogueEntry, o: ExplainOptions): Promise<Explanation> {
  const s = e.scenario;
  const v = pickVariant(s, o.variant);
  const x: Explanation = {
    id: s.id,
    title: s.title,
    refs: s.refs,
    description: s.description,
    expectFailIn: s.expectFailIn ?? null,
    symptoms: s.symptoms ?? null,
    variant: v?.name ?? null,
    noRace: null,
    seed: null,
    schedule: null,
    shrunk: null,
    failure: null,
    diagram: [],
  };
  if (!v) {
    x.noRace = 'a control: every variant is expected clean, so there is no failing schedule to draw';
    return x;
  }
  const machine = sharedMachine();
  const seed = o.seed ?? 1;
  const runs = o.runs ?? 2000;
  const found = await runVariant(
    machine,
    s,
    v,
    { runs, seed, mode: 'controlled', strategy: { name: 'pct', depth: 2 }, stopOnHit: true },
    e.url,
  );
  const hitSeed = found.firstHit?.seed ?? found.firstCheckFailure?.seed;
  if (!found.schedule || hitSeed === undefined) {
    x.noRace = `no run of ${v.name} showed an expected symptom in ${found.runs} PCT runs (seed ${seed})`;
    return x;
  }
  x.seed = hitSeed;
  x.schedule = found.schedule;
  const k = await shrinkSchedule(machine, s, v, found.schedule, hitSeed, e.url, undefined, found.points);
  x.shrunk = { ...k.shrunk, verified: k.verified };
  const traced = await runVariant(
    machine,
    s,
    v,
    {
      runs: 1,
      seed: hitSeed,
      mode: 'controlled',
      strategy: { name: 'replay', schedule: k.shrunk.schedule },
      points: found.points,
      trace: true,
    },
    e.url,
  );
  x.failure = traced.trace?.summary ?? null;
  if (traced.trace)
    x.diagram = raceDiagram(traced.trace.snapshot, {
      cpuNames: s.cpus.map((c) => c.name),
      lockName: lockNamer(mem.arena),
      ...((o.depth ?? s.diagramDepth) ? { maxDepth: o.depth ?? s.diagramDepth } : {}),
    });
  return x;
}

function render(x: Explanation): string[] {
  const lines = [`${x.id}: ${x.title}`, '', ...wrap(x.description, 96), ''];
  if (x.refs.length > 0) lines.push('References:', ...x.refs.map((r) => `  ${r}`), '');
  if (x.expectFailIn)
    lines.push(`Fails in: ${x.expectFailIn.join(', ') || 'no era'} (every other era: clean)`);
  if (x.symptoms) {
    lines.push(`Expected symptom: ${x.symptoms.expected.join(' | ')}`);
    if (x.symptoms.acceptable?.length) lines.push(`Also acceptable: ${x.symptoms.acceptable.join(' | ')}`);
  }
  if (x.noRace) return [...lines, '', `No race drawn: ${x.noRace}.`];
  const k = x.shrunk!;
  lines.push(
    '',
    `The race, variant ${x.variant}: a PCT run (seed ${x.seed}) failed; its schedule shrunk to ` +
      `${k.switches} context switches and ${k.steps} decisions (a strict replay ${k.verified ? 'fails the same way' : 'did NOT fail the same way'}):`,
    `  ${k.schedule}`,
    `  replay it: mmrace replay ${x.id} '${k.schedule}' --variant ${x.variant}`,
    '',
    ...x.diagram,
  );
  return lines;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/)) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}
