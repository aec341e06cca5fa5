import type { MetricSeries } from '#shared/contracts/modelhub';
import { lttb, minMaxBuckets } from './downsample';
import type { MetricPoints } from './metric-codec';
import { jsonNumber } from './service';

/**
 * A metric series ready to draw: ordered by x (steps, or timestamps), and reduced to about `maxPoints` points
 * that keep its shape — LTTB for smooth curves, min/max buckets when every spike must survive.
 */
export function chartSeries(
  runId: string,
  key: string,
  points: MetricPoints,
  options: { x: 'step' | 'time'; maxPoints: number; method: 'lttb' | 'minmax' },
): MetricSeries {
  const n = points.steps.length;
  const xsRaw = options.x === 'step' ? points.steps : points.timestamps;
  let order: number[] | null = null;
  for (let i = 1; i < n; i++) {
    if ((xsRaw[i] as number) < (xsRaw[i - 1] as number)) {
      // Logged out of order (a resumed run, several writers): sort once.
      order = Array.from({ length: n }, (_, k) => k).sort((a, b) => (xsRaw[a] as number) - (xsRaw[b] as number));
      break;
    }
  }
  const xs = order ? Float64Array.from(order, (k) => xsRaw[k] as number) : xsRaw;
  const ys = order ? Float64Array.from(order, (k) => points.values[k] as number) : points.values;
  const keep =
    n <= options.maxPoints
      ? null
      : options.method === 'lttb'
        ? lttb(xs, ys, options.maxPoints)
        : minMaxBuckets(xs, ys, Math.max(1, Math.floor(options.maxPoints / 2) - 1));
  const x: number[] = [];
  const y: MetricSeries['y'] = [];
  if (keep) {
    for (const k of keep) {
      x.push(xs[k] as number);
      y.push(jsonNumber(ys[k] as number));
    }
  } else {
    for (let k = 0; k < n; k++) {
      x.push(xs[k] as number);
      y.push(jsonNumber(ys[k] as number));
    }
  }
  return { runId, key, total: n, x, y };
}
