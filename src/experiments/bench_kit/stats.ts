// Small statistics over rounds, and the parsers of experiments' list options.
import { ERAS, eraByName } from '../../eras/index.js';
import { ExperimentInputError } from '../experiment.js';

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function minOf(xs: readonly number[]): number | null {
  return xs.length ? Math.min(...xs) : null;
}

export function maxOf(xs: readonly number[]): number | null {
  return xs.length ? Math.max(...xs) : null;
}

/** The non-null numbers of one metric over samples. */
export function values(
  samples: readonly { metrics: Record<string, number | null> }[],
  metric: string,
): number[] {
  return samples.map((s) => s.metrics[metric]).filter((v): v is number => typeof v === 'number');
}

/** A comma-separated list of choices (e.g. 'on,off'), each at most once. */
export function parseChoices<T extends string>(flag: string, allowed: readonly T[]): (v: string) => T[] {
  return (v: string) => {
    const items = v.split(',').map((s) => s.trim());
    for (const it of items)
      if (!allowed.includes(it as T))
        throw new ExperimentInputError(`${flag}: '${it}' is not one of ${allowed.join(', ')}`);
    if (new Set(items).size !== items.length) throw new ExperimentInputError(`${flag}: a value is repeated`);
    return items as T[];
  };
}

/** A comma-separated list of integers in min..max, each at most once, ascending. */
export function parseIntList(flag: string, min: number, max: number): (v: string) => number[] {
  return (v: string) => {
    const items = v.split(',').map((s) => s.trim());
    const out: number[] = [];
    for (const it of items) {
      const n = Number(it);
      if (!/^\d+$/.test(it) || !Number.isSafeInteger(n) || n < min || n > max)
        throw new ExperimentInputError(`${flag}: expected integers in ${min}..${max}, got '${it}'`);
      if (out.includes(n)) throw new ExperimentInputError(`${flag}: ${n} is repeated`);
      out.push(n);
    }
    return out.sort((a, b) => a - b);
  };
}

/** --eras: era names (`mmrace eras`), each at most once, in the order given. */
export function parseEraList(v: string): string[] {
  const names = v.split(',').map((s) => s.trim());
  for (const n of names)
    if (!eraByName(n))
      throw new ExperimentInputError(
        `--eras: unknown era '${n}' (known: ${ERAS.map((e) => e.name).join(', ')})`,
      );
  if (new Set(names).size !== names.length) throw new ExperimentInputError('--eras: an era is repeated');
  return names;
}

/** One integer in min..max. */
export function intFlag(flag: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || n < min || n > max)
      throw new ExperimentInputError(`${flag}: expected an integer from ${min} to ${max}, got '${v}'`);
    return n;
  };
}

/** Formats a number for tables: 3 significant digits, thousands grouped, null as '-'. */
export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 10 ** digits) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(digits)).toString();
}

/** ns as µs or ms text, for wait times. */
export function fmtNs(ns: number | null | undefined): string {
  if (ns === null || ns === undefined || !Number.isFinite(ns)) return '-';
  if (ns < 1000) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${fmt(ns / 1000)} µs`;
  return `${fmt(ns / 1e6)} ms`;
}
