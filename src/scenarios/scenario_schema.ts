// The shape of a scenario, checked field by field: a user's scenario file is the program's input,
// so a mistake in it is reported as one line naming the field, never found later as a crash.

import type { z as Zod } from 'zod';
import { MAX_CPUS } from '../cpu/control.js';
import { type JitterConfig, NO_JITTER } from '../cpu/jitter.js';
import { ERAS, eraByName } from '../eras/index.js';
import { listsEra, suggestEra } from './era_matrix.js';
import { MAX_GLOBALS } from './kernel_image.js';
import { loadZod } from './lazy_zod.js';
import type { Scenario } from './scenario.js';
import { scenariosTrusted } from './scenario_trust.js';
import { suggestSimilar } from './suggest.js';

/** A scenario that does not have the shape of one: the message is one line naming the field. */
export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

const ID = /^[a-z0-9][a-z0-9-]*$/;

// Built when a scenario is first checked: zod loads then, not at start-up (lazy_zod.ts).
let built: ReturnType<typeof buildSchema> | undefined;

function scenarioSchema() {
  built ??= buildSchema(loadZod());
  return built;
}

function buildSchema(z: typeof Zod) {
  const text = z.string();
  const name = z.string().min(1, { error: 'must not be empty' });
  const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', {
    error: 'expected a function',
  });
  const share = z.number().min(0).max(1);
  const knobs = {
    probability: share,
    maxSpin: z.number().int().min(0),
    yieldShare: share,
    maxYieldUs: z.number().min(0).max(1e6),
  };

  const jitter = z
    .strictObject({
      windows: z.array(name),
      ...knobs,
      overrides: z.record(z.string(), z.strictObject(knobs).partial()).optional(),
    })
    .superRefine((j, ctx) => {
      for (const w of Object.keys(j.overrides ?? {})) {
        if (!j.windows.includes(w))
          ctx.addIssue({
            code: 'custom',
            path: ['overrides', w],
            message: `'${w}' is not one of jitter.windows`,
          });
      }
    });

  /** An era profile's name (src/eras), maybe with a .config patch ('v4.14+PARAVIRT=n'). */
  const eraName = z.string().refine((e) => eraByName(e) !== undefined, {
    error: (iss) => unknownEra(iss.input),
  });

  const variant = z.strictObject({
    name,
    era: eraName,
    expected: z.enum(['reproduces', 'clean'], {
      error: (iss) => `expected 'reproduces' or 'clean', got ${show(iss.input)}`,
    }),
    note: text.optional(),
    minPctRuns: z.number().int().min(1).optional(),
  });

  const cpu = z.strictObject({
    name,
    task: name,
    kthread: z.boolean().optional(),
    run: fn,
  });

  const check = z.strictObject({ name, check: fn });

  /** A .config patch (eras/config.ts): the options the emulator knows, each y or n. */
  const config = z.strictObject({ PARAVIRT: z.boolean(), PPC_BOOK3S_64: z.boolean() }).partial();

  const symptoms = z.strictObject({
    expected: z.array(name).min(1, { error: 'no expected symptom: give at least one' }),
    acceptable: z.array(name).optional(),
  });

  return z
    .strictObject({
      id: z
        .string()
        .regex(ID, { error: (iss) => `must be lower-case words joined by '-', got ${show(iss.input)}` }),
      title: text,
      description: text,
      refs: z.array(text),
      globals: z
        .array(name)
        .max(MAX_GLOBALS, { error: (iss) => `${size(iss.input)} names; at most ${MAX_GLOBALS}` }),
      cpus: z
        .array(cpu)
        .min(1, { error: 'no CPUs: give at least one' })
        .max(MAX_CPUS, { error: (iss) => `${size(iss.input)} CPUs; the machine has at most ${MAX_CPUS}` }),
      variants: z.array(variant).min(1, { error: 'no variants: give at least one' }),
      expectFailIn: z.array(eraName).optional(),
      config: config.optional(),
      symptoms: symptoms.optional(),
      setup: fn,
      setupOnce: z.boolean().optional(),
      checks: z.array(check).default([]),
      jitter: jitter.default(NO_JITTER as Zod.input<typeof jitter>),
      diagramDepth: z.number().int().min(1).max(12).optional(),
      timeScale: z
        .number()
        .positive()
        .refine(Number.isFinite, { error: 'must be a finite number' })
        .optional(),
    })
    .superRefine((s, ctx) => {
      duplicates(s.globals, ['globals'], 'global', ctx);
      duplicates(
        s.variants.map((v) => v.name),
        ['variants'],
        'variant name',
        ctx,
      );
      if (s.expectFailIn) {
        duplicates(s.expectFailIn, ['expectFailIn'], 'era', ctx);
        // A variant named after its era is the scenario's program on that era: one expectation.
        s.variants.forEach((v, i) => {
          if (v.name !== v.era) return;
          const listed = listsEra(s.expectFailIn!, v.era);
          if ((v.expected === 'reproduces') === listed) return;
          ctx.addIssue({
            code: 'custom',
            path: ['variants', i, 'expected'],
            message:
              `'${v.expected}', but expectFailIn ${listed ? 'lists' : 'does not list'} ${v.era} ` +
              '(a variant named after its era must agree with expectFailIn)',
          });
        });
      }
      s.cpus.forEach((c, i) => {
        if (!s.globals.includes(c.task))
          ctx.addIssue({
            code: 'custom',
            path: ['cpus', i, 'task'],
            message: `CPU '${c.name}' runs task '${c.task}', which is not one of globals (${s.globals.join(', ') || 'none'})`,
          });
      });
    });
}

function unknownEra(input: unknown): string {
  const known = ERAS.map((e) => e.name);
  const near = typeof input === 'string' ? suggestEra(input) : null;
  return `unknown era ${quote(input)} (${near ? `did you mean '${near}'? ` : ''}known: ${known.join(', ')})`;
}

function duplicates(
  names: readonly string[],
  path: (string | number)[],
  what: string,
  ctx: Zod.RefinementCtx,
) {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) {
      ctx.addIssue({ code: 'custom', path, message: `duplicate ${what} '${n}'` });
      return;
    }
    seen.add(n);
  }
}

/** What a scenario author writes: checks and jitter may be left out. */
export type ScenarioInput = Omit<Scenario, 'checks' | 'jitter'> & {
  readonly checks?: Scenario['checks'];
  readonly jitter?: JitterConfig;
};

/** What the schema's defaults give a scenario that was already checked. */
export function withDefaults(s: ScenarioInput): Scenario {
  return { ...s, checks: s.checks ?? [], jitter: s.jitter ?? NO_JITTER };
}

/** The scenario with its defaults filled in; a ScenarioError names the first field that is wrong. */
export function validateScenario(input: unknown): Scenario {
  if (scenariosTrusted()) return withDefaults(input as ScenarioInput);
  const r = scenarioSchema().safeParse(input, { reportInput: true });
  if (r.success) return r.data as unknown as Scenario;
  const id = (input as { id?: unknown } | null)?.id;
  const who = typeof id === 'string' && ID.test(id) ? `scenario ${id}` : 'scenario';
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new ScenarioError(`${who}: expected an object, got ${show(input)}`);
  // An unknown key first: a typo ('setpu') also makes the real key look missing.
  const issues = [...r.error.issues].sort(
    (a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'),
  );
  const iss = issues[0]!;
  const where = fieldPath(iss.path);
  throw new ScenarioError(`${who}: ${where ? `${where}: ` : ''}${describe(iss)}`.replace(/\s*\n\s*/g, ' '));
}

function describe(iss: Zod.core.$ZodIssue): string {
  switch (iss.code) {
    case 'unrecognized_keys': {
      const keys = iss.keys.map((k) => `'${k}'`).join(', ');
      const hint = iss.path.length === 0 ? suggestion(iss.keys[0]!) : '';
      return `unknown key${iss.keys.length > 1 ? 's' : ''} ${keys}${hint}`;
    }
    case 'invalid_type':
      return iss.input === undefined
        ? `missing (expected ${article(iss.expected)})`
        : `expected ${article(iss.expected)}, got ${show(iss.input)}`;
    case 'too_small':
      return iss.origin === 'number'
        ? `must be ${iss.inclusive ? 'at least' : 'more than'} ${iss.minimum}, got ${show(iss.input)}`
        : iss.message;
    case 'too_big':
      return iss.origin === 'number' ? `must be at most ${iss.maximum}, got ${show(iss.input)}` : iss.message;
    case 'invalid_format':
    case 'invalid_value':
    case 'custom':
      return iss.message;
    default:
      return `${iss.message}${'input' in iss ? `, got ${show(iss.input)}` : ''}`;
  }
}

const TOP_KEYS = [
  'id',
  'title',
  'description',
  'refs',
  'globals',
  'cpus',
  'variants',
  'expectFailIn',
  'config',
  'symptoms',
  'setup',
  'setupOnce',
  'checks',
  'jitter',
  'diagramDepth',
  'timeScale',
];

function suggestion(key: string): string {
  const near = suggestSimilar(key, TOP_KEYS);
  return near ? ` (did you mean '${near}'?)` : ` (known: ${TOP_KEYS.join(', ')})`;
}

/** variants[1].era */
function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

function article(type: string): string {
  return type === 'array' || type === 'object' ? `an ${type}` : `a ${type}`;
}

function size(v: unknown): number {
  return Array.isArray(v) ? v.length : 0;
}

function quote(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : show(v);
}

/** A user's value in a message: short, on one line. */
function show(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return 'an array';
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}
