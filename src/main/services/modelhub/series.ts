import type { MetricSeries } from '#shared/contracts/modelhub';
import type { BinarySeries } from '#shared/series-binary';
import { lttb, minMaxBuckets } from './downsample';

export interface ChartOptions {
  x: 'step' | 'time';
  maxPoints: number;
  method: 'lttb' | 'minmax';
}

/** A float as MLflow's JSON carries it: NaN and ±Infinity as strings. */
export function jsonNumber(v: number): number | 'NaN' | 'Infinity' | '-Infinity' {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

/** One series' x column (steps or timestamps) and values, as logged. */
export interface SeriesColumns {
  xs: Float64Array;
  ys: Float64Array;
}

/**
 * A metric series ready to draw: ordered by x (steps, or timestamps), and reduced to about `maxPoints` points
 * that keep its shape — LTTB for smooth curves, min/max buckets when every spike must survive.
 */
export function chartSeries(runId: string, key: string, columns: SeriesColumns, options: ChartOptions): BinarySeries {
  const { xs: xsRaw, ys: ysRaw } = columns;
  const n = ysRaw.length;
  let order: number[] | null = null;
  for (let i = 1; i < n; i++) {
    if ((xsRaw[i] as number) < (xsRaw[i - 1] as number)) {
      // Logged out of order (a resumed run, several writers): sort once.
      order = Array.from({ length: n }, (_, k) => k).sort((a, b) => (xsRaw[a] as number) - (xsRaw[b] as number));
      break;
    }
  }
  const xs = order ? Float64Array.from(order, (k) => xsRaw[k] as number) : xsRaw;
  const ys = order ? Float64Array.from(order, (k) => ysRaw[k] as number) : ysRaw;
  const keep =
    n <= options.maxPoints
      ? null
      : options.method === 'lttb'
        ? lttb(xs, ys, options.maxPoints)
        : minMaxBuckets(xs, ys, Math.max(1, Math.floor(options.maxPoints / 2) - 1));
  if (!keep) return { runId, key, total: n, x: xs.slice(), y: ys.slice() };
  const x = new Float64Array(keep.length);
  const y = new Float64Array(keep.length);
  keep.forEach((k, i) => {
    x[i] = xs[k] as number;
    y[i] = ys[k] as number;
  });
  return { runId, key, total: n, x, y };
}

/** A drawn series as JSON carries it (non-finite values as strings). */
export function jsonSeries(s: BinarySeries): MetricSeries {
  return { runId: s.runId, key: s.key, total: s.total, x: Array.from(s.x), y: Array.from(s.y, jsonNumber) };
}

/**
 * What charts ask for again and again (a dashboard refreshes its runs every few seconds), least recently used
 * out first once the entries' weights exceed `capacity`. Each entry holds for the series' point count it was
 * made from: points are only ever appended (and series never deleted), so the same count means the same points.
 */
export class SeriesCache<V> {
  private readonly entries = new Map<string, { points: number; value: V; weight: number }>();
  private weight = 0;

  constructor(
    private readonly capacity: number,
    private readonly weightOf: (value: V) => number,
  ) {}

  /** The entry for `key` whatever its point count (a stale one can still be extended), and marks it used. */
  get(key: string): { points: number; value: V } | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit;
  }

  /** Forgets every entry of a series (keys start with its id), after its points were rewritten. */
  dropSeries(seriesId: number): void {
    for (const [key, e] of this.entries) {
      if (!key.startsWith(`${seriesId} `)) continue;
      this.entries.delete(key);
      this.weight -= e.weight;
    }
  }

  set(key: string, points: number, value: V): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.weight -= old.weight;
    }
    const weight = this.weightOf(value);
    if (weight > this.capacity) return;
    this.entries.set(key, { points, value, weight });
    this.weight += weight;
    for (const [k, e] of this.entries) {
      if (this.weight <= this.capacity) break;
      this.entries.delete(k);
      this.weight -= e.weight;
    }
  }
}
