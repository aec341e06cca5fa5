/**
 * Chart data helpers, pure so that they are tested without a canvas: metric values as numbers or gaps, EMA
 * smoothing of the (already downsampled) points, and the alignment uPlot needs when several runs share a chart.
 */

/** A metric value as the API sends it: NaN and ±Infinity travel as strings. */
export type WireValue = number | 'NaN' | 'Infinity' | '-Infinity';

/** A drawable number, or null (a gap in the line) for NaN and ±Infinity. */
export function finiteOrNull(value: WireValue | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * Exponential moving average as TensorBoard smooths: `weight` 0 is the raw series, 0.99 very smooth; the start
 * is debiased (so the first points are not pulled toward 0). Gaps stay gaps and do not reset the average.
 */
export function ema(ys: readonly (number | null)[], weight: number): (number | null)[] {
  const w = Math.min(Math.max(weight, 0), 0.999);
  if (w === 0) return ys.slice();
  let last = 0;
  let count = 0;
  return ys.map((y) => {
    if (y === null) return null;
    last = last * w + (1 - w) * y;
    count++;
    return last / (1 - w ** count);
  });
}

/** For a log-scaled axis: values that a logarithm cannot place (zero, negative) become gaps. */
export function positiveOrNull(ys: readonly (number | null)[]): (number | null)[] {
  return ys.map((y) => (y !== null && y > 0 ? y : null));
}

/** One line to draw: its x values ascending, its y values (null: a gap). */
export interface Line {
  x: readonly number[];
  y: readonly (number | null)[];
}

/**
 * Several lines on one shared x axis, as uPlot takes them: the sorted union of their xs, and per line its value
 * at each x. Where a line has no point at an x it gets `undefined` (uPlot draws across it), where it has a gap
 * `null` (uPlot breaks the line).
 */
export function alignLines(lines: readonly Line[]): [number[], ...(number | null | undefined)[][]] {
  const xs = [...new Set(lines.flatMap((l) => l.x))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = lines.map((line) => {
    const out: (number | null | undefined)[] = new Array<number | null | undefined>(xs.length).fill(undefined);
    line.x.forEach((x, i) => {
      const at = index.get(x);
      // Two points at one x (a series logged twice at a step): the later one wins, as MLflow's charts do.
      if (at !== undefined) out[at] = line.y[i] ?? null;
    });
    return out;
  });
  return [xs, ...columns];
}

/**
 * How many points to ask the server for: about one per pixel of the chart, rounded up to a hundred so that a
 * small resize does not refetch.
 */
export function pointsForWidth(px: number): number {
  const rounded = Math.ceil(Math.max(px, 1) / 100) * 100;
  return Math.min(100_000, Math.max(100, rounded));
}

/** A short number for axes and tables: 4 significant digits, exponent form for very large or small ones. */
export function formatMetric(value: WireValue | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value === 'Infinity' ? '∞' : value === '-Infinity' ? '−∞' : 'NaN';
  if (Number.isInteger(value) && Math.abs(value) < 1e9) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

/** Distinct line colours, run i getting colour i (mod the palette), the same in every chart of a page. */
export const RUN_COLORS = [
  '#6366f1',
  '#f59e0b',
  '#10b981',
  '#ef4444',
  '#0ea5e9',
  '#a855f7',
  '#84cc16',
  '#ec4899',
  '#14b8a6',
  '#f97316',
] as const;

export function runColor(index: number): string {
  return RUN_COLORS[index % RUN_COLORS.length] as string;
}
