// An experiment's figures (experiments/experiment.ts Figure) as vega-lite specs, rendered to SVG in
// Node by vega's headless View (renderer 'none', toSVG()): no canvas, no browser. A figure over a
// CPU count marks the host's cores with a rule and draws the points beyond them (oversubscribed:
// more emulated CPUs than host cores) hollow, with their own legend.
import type { Figure } from '../experiments/experiment.js';

export const OVERSUB_FIELD = 'placement';
export const WITHIN = 'within host cores';
export const OVERSUBSCRIBED = 'oversubscribed';

type Spec = Record<string, unknown>;

/** The vega-lite spec of one figure. */
export function figureSpec(f: Figure, hostCores: number): Spec {
  const data = f.data.map((d) =>
    f.cpuAxis ? { ...d, [OVERSUB_FIELD]: Number(d[f.x.field]) > hostCores ? OVERSUBSCRIBED : WITHIN } : d,
  );
  const x: Spec = { field: f.x.field, type: f.x.type, title: f.x.title };
  if (f.x.type === 'quantitative') x.axis = { tickMinStep: 1, format: 'd' };
  // Bars: the colour legend names them; labels under every panel would take more room than the bars.
  if (f.mark === 'bar') x.axis = { labels: false, ticks: false };
  const y: Spec = { field: f.y.field, type: 'quantitative', title: f.y.title };
  if (f.y.log) y.scale = { type: 'log' };
  else if (f.y.zero === false) y.scale = { zero: false };
  const color = {
    field: f.series.field,
    type: 'nominal',
    title: f.series.title,
    legend: { labelLimit: 260 },
  };
  const layers: Spec[] = [];
  if (f.mark === 'line') {
    layers.push({ mark: { type: 'line' }, encoding: { x, y, color } });
    const point: Spec = { mark: { type: 'point', size: 50 }, encoding: { x, y, color } };
    if (f.cpuAxis)
      (point.encoding as Spec).fill = {
        condition: { test: `datum.${OVERSUB_FIELD} === '${WITHIN}'`, field: f.series.field, type: 'nominal' },
        value: 'white',
      };
    if (f.cpuAxis)
      (point.encoding as Spec).shape = {
        field: OVERSUB_FIELD,
        type: 'nominal',
        title: `CPUs vs ${hostCores} host cores`,
        scale: { domain: [WITHIN, OVERSUBSCRIBED], range: ['circle', 'diamond'] },
        legend: { encode: { symbols: { update: { fill: { value: 'gray' } } } } },
      };
    else (point.mark as Spec).filled = true;
    layers.push(point);
  } else if (f.y.log) {
    // A bar on a log scale has no base: points instead.
    layers.push({ mark: { type: 'point', filled: true, size: 90 }, encoding: { x, y, color } });
  } else {
    layers.push({ mark: { type: 'bar' }, encoding: { x, y, color } });
  }
  if (f.cpuAxis) {
    layers.push({
      mark: { type: 'rule', strokeDash: [4, 3], color: 'gray' },
      encoding: { x: { datum: hostCores, type: 'quantitative' } },
    });
    layers.push({
      mark: { type: 'text', align: 'left', dx: 4, dy: -4, color: 'gray', fontSize: 10, baseline: 'bottom' },
      encoding: {
        x: { datum: hostCores, type: 'quantitative' },
        y: { value: 12 },
        text: { value: `host: ${hostCores} cores; oversubscribed beyond` },
      },
    });
  }
  (f.rules ?? []).forEach((r, i) => {
    layers.push({
      mark: { type: 'rule', strokeDash: [2, 2], color: 'firebrick' },
      encoding: { y: { datum: r.y, type: 'quantitative' } },
    });
    layers.push({
      // Labels above and below their lines in turn, so that two close lines keep readable labels.
      mark: {
        type: 'text',
        align: 'left',
        dx: 2,
        dy: i % 2 ? -3 : 3,
        color: 'firebrick',
        fontSize: 10,
        baseline: i % 2 ? 'bottom' : 'top',
      },
      encoding: {
        y: { datum: r.y, type: 'quantitative' },
        x: { value: 2 },
        text: { value: `published: ${r.label}` },
      },
    });
  });
  const inner: Spec = { width: f.column ? 200 : 420, height: f.column ? 180 : 260, layer: layers };
  const base: Spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: f.title,
    data: { values: data },
    config: { font: 'sans-serif' },
  };
  if (f.column)
    return {
      ...base,
      facet: { field: f.column.field, title: f.column.title },
      columns: 3,
      // Panels differ by orders of magnitude (hold times): each its own y scale.
      resolve: { scale: { y: 'independent' } },
      spec: inner,
    };
  return { ...base, ...inner };
}

/** SVG text of one figure (vega and vega-lite are loaded on first use: they take a few 100 ms). */
export async function figureSvg(f: Figure, hostCores: number): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(figureSpec(f, hostCores) as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
