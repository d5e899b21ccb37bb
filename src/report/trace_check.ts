// A structural check of a Chrome trace (JSON object or array format), as strict as the viewers
// need: what `mmrace --trace` writes must pass it, and the tests use it on traces with defects.
// Returns the problems found (empty: well formed) and a census of the events.

export interface TraceCensus {
  events: number;
  threads: Record<number, string>;
  /** Per ph. */
  phases: Record<string, number>;
  /** B/E slices per name. */
  slices: Record<string, number>;
  flows: number;
  instants: string[];
}

interface Ev {
  ph?: unknown;
  name?: unknown;
  cat?: unknown;
  pid?: unknown;
  tid?: unknown;
  ts?: unknown;
  id?: unknown;
  id2?: unknown;
  bp?: unknown;
  s?: unknown;
  args?: unknown;
}

const TRACKED = new Set(['B', 'E', 'X', 'i', 'I', 's', 't', 'f', 'b', 'e', 'n']);

function asyncKey(e: Ev): string | null {
  const cat = typeof e.cat === 'string' ? e.cat : '';
  if (e.id !== undefined) return `${cat}|id:${String(e.id)}|pid:${String(e.pid)}`;
  const id2 = e.id2 as { local?: unknown; global?: unknown } | undefined;
  if (id2 && id2.local !== undefined) return `${cat}|local:${String(id2.local)}|pid:${String(e.pid)}`;
  if (id2 && id2.global !== undefined) return `${cat}|global:${String(id2.global)}`;
  return null;
}

export function checkChromeTrace(trace: unknown): { problems: string[]; census: TraceCensus } {
  const problems: string[] = [];
  const census: TraceCensus = { events: 0, threads: {}, phases: {}, slices: {}, flows: 0, instants: [] };
  const list = Array.isArray(trace)
    ? trace
    : trace && typeof trace === 'object' && Array.isArray((trace as { traceEvents?: unknown }).traceEvents)
      ? (trace as { traceEvents: unknown[] }).traceEvents
      : null;
  if (!list) return { problems: ['no traceEvents array'], census };
  census.events = list.length;
  const stacks = new Map<string, { name: string; ts: number }[]>();
  const lastTs = new Map<string, number>();
  const open = new Map<string, { name: unknown; ts: number }[]>();
  const flows = new Map<string, { s: number; f: number; sTs: number; fTs: number }>();
  const usedTids = new Set<string>();
  list.forEach((raw, i) => {
    const e = raw as Ev;
    const where = `event ${i}`;
    if (!e || typeof e !== 'object' || typeof e.ph !== 'string') {
      problems.push(`${where}: not an event (no ph)`);
      return;
    }
    const ph = e.ph;
    census.phases[ph] = (census.phases[ph] ?? 0) + 1;
    if (typeof e.pid !== 'number') problems.push(`${where} (${ph}): no numeric pid`);
    if (ph === 'M') {
      if (e.name === 'thread_name') {
        const n = (e.args as { name?: unknown } | undefined)?.name;
        if (typeof e.tid !== 'number' || typeof n !== 'string') problems.push(`${where}: bad thread_name`);
        else census.threads[e.tid] = n;
      }
      return;
    }
    if (!TRACKED.has(ph)) {
      problems.push(`${where}: unexpected ph '${ph}'`);
      return;
    }
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || e.ts < 0) {
      problems.push(`${where} (${ph}): bad ts ${String(e.ts)}`);
      return;
    }
    if (typeof e.name !== 'string' && ph !== 'E' && ph !== 'e') problems.push(`${where} (${ph}): no name`);
    const ts = e.ts;
    const threadScoped =
      ph !== 'b' && ph !== 'e' && ph !== 'n' && !(ph === 'i' && (e.s === 'p' || e.s === 'g'));
    const thread = `${String(e.pid)}/${String(e.tid)}`;
    if (threadScoped) {
      if (typeof e.tid !== 'number') problems.push(`${where} (${ph}): no numeric tid`);
      usedTids.add(thread);
      const prev = lastTs.get(thread);
      if (prev !== undefined && ts < prev)
        problems.push(`${where} (${ph}): ts ${ts} before ${prev} on thread ${thread}`);
      lastTs.set(thread, ts);
    }
    const stack = stacks.get(thread) ?? [];
    stacks.set(thread, stack);
    switch (ph) {
      case 'B':
        stack.push({ name: String(e.name), ts });
        census.slices[String(e.name)] = (census.slices[String(e.name)] ?? 0) + 1;
        break;
      case 'E': {
        const top = stack.pop();
        if (!top) problems.push(`${where}: E '${String(e.name)}' on thread ${thread} with no open slice`);
        else if (e.name !== undefined && e.name !== top.name)
          problems.push(`${where}: E '${String(e.name)}' closes '${top.name}' on thread ${thread}`);
        break;
      }
      case 'i':
      case 'I':
        if (e.s !== undefined && e.s !== 't' && e.s !== 'p' && e.s !== 'g')
          problems.push(`${where}: instant scope '${String(e.s)}'`);
        census.instants.push(String(e.name));
        break;
      case 's':
      case 'f':
      case 't': {
        if (e.id === undefined) {
          problems.push(`${where}: flow event without id`);
          break;
        }
        if (stack.length === 0)
          problems.push(`${where}: flow ${ph} ${String(e.id)} outside any slice of ${thread}`);
        if (ph === 'f' && e.bp !== 'e') problems.push(`${where}: flow end ${String(e.id)} without bp 'e'`);
        const k = `${String(e.cat)}|${String(e.name)}|${String(e.id)}`;
        const fl = flows.get(k) ?? { s: 0, f: 0, sTs: 0, fTs: 0 };
        if (ph === 's') {
          fl.s++;
          fl.sTs = ts;
        } else if (ph === 'f') {
          fl.f++;
          fl.fTs = ts;
        }
        flows.set(k, fl);
        break;
      }
      case 'b':
      case 'e': {
        const k = asyncKey(e);
        if (!k) {
          problems.push(`${where}: async ${ph} without id or id2`);
          break;
        }
        const o = open.get(k) ?? [];
        open.set(k, o);
        if (ph === 'b') o.push({ name: e.name, ts });
        else {
          const b = o.pop();
          if (!b) problems.push(`${where}: e '${String(e.name)}' (${k}) with no open b`);
          else {
            if (e.name !== undefined && e.name !== b.name)
              problems.push(`${where}: e '${String(e.name)}' closes b '${String(b.name)}' (${k})`);
            if (ts < b.ts) problems.push(`${where}: e before its b (${k})`);
          }
        }
        break;
      }
      default:
        break;
    }
  });
  for (const [thread, stack] of stacks) {
    for (const f of stack) problems.push(`thread ${thread}: slice '${f.name}' (ts ${f.ts}) never ends`);
  }
  for (const [k, o] of open) for (const b of o) problems.push(`async '${String(b.name)}' (${k}) never ends`);
  for (const [k, fl] of flows) {
    if (fl.s !== 1 || fl.f !== 1) problems.push(`flow ${k}: ${fl.s} start(s) and ${fl.f} end(s)`);
    else {
      census.flows++;
      if (fl.fTs < fl.sTs) problems.push(`flow ${k}: ends before it starts`);
    }
  }
  for (const t of usedTids) {
    const tid = Number(t.split('/')[1]);
    if (!(tid in census.threads)) problems.push(`thread ${t} has no thread_name`);
  }
  return { problems, census };
}
