import { AppError } from '#shared/errors';

/**
 * Downsampling for metric charts. Both functions take a series as parallel x and y arrays, x finite and in
 * ascending order (steps or timestamps), and return the indices to keep, ascending, so the caller can pick
 * steps, timestamps and values alike.
 *
 * Non-finite ys are signals (a loss that went NaN or infinite), so neither function averages or compares them
 * away: a bucket that holds one keeps it, and the geometry around it uses only finite points.
 */

function allIndices(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function checkSizes(xs: ArrayLike<number>, ys: ArrayLike<number>, field: string, count: number): void {
  if (xs.length !== ys.length) {
    throw AppError.invalid('ys', `xs and ys must be the same length (got ${xs.length} and ${ys.length})`);
  }
  if (!Number.isFinite(count) || count < 0) throw AppError.invalid(field, `must be a non-negative number`);
}

/**
 * Largest-Triangle-Three-Buckets (Steinarsson, 2013): keeps the first and last points and, from each of
 * `threshold - 2` equal buckets between them, the point forming the largest triangle with the point kept
 * before it and the mean of the next bucket. Returns at most `threshold` indices (all of them when the series
 * is no longer than that; just the first and last when `threshold` is below 3).
 *
 * A bucket holding a non-finite y keeps its first such point instead; triangles are then drawn from the last
 * finite point kept, and next-bucket means are over finite points only.
 */
export function lttb(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): number[] {
  checkSizes(xs, ys, 'threshold', threshold);
  const n = ys.length;
  const t = Math.floor(threshold);
  if (t >= n) return allIndices(n);
  if (t < 1) return [];
  if (t < 3) return t === 1 ? [0] : [0, n - 1];

  const kept: number[] = [0];
  const every = (n - 2) / (t - 2);

  // The triangle's first corner: the last finite point kept (or, before any, the first finite point).
  let ax = xs[0] as number;
  let ay = ys[0] as number;
  if (!Number.isFinite(ay)) {
    for (let i = 1; i < n; i++) {
      const y = ys[i] as number;
      if (Number.isFinite(y)) {
        ax = xs[i] as number;
        ay = y;
        break;
      }
    }
  }

  for (let b = 0; b < t - 2; b++) {
    const start = Math.floor(b * every) + 1;
    const end = Math.min(Math.floor((b + 1) * every) + 1, n - 1);
    const nextStart = Math.min(end, n - 1);
    const nextEnd = Math.min(Math.floor((b + 2) * every) + 1, n);

    // Mean of the next bucket's finite points; with none, aim at the current corner (area = distance).
    let sx = 0;
    let sy = 0;
    let count = 0;
    for (let i = nextStart; i < nextEnd; i++) {
      const y = ys[i] as number;
      if (Number.isFinite(y)) {
        sx += xs[i] as number;
        sy += y;
        count++;
      }
    }
    const cx = count > 0 ? sx / count : ax;
    const cy = count > 0 ? sy / count : ay;

    let best = start;
    let bestArea = -1;
    let special = -1;
    const dx = ax - cx;
    const dy = cy - ay;
    for (let i = start; i < end; i++) {
      const y = ys[i] as number;
      if (!Number.isFinite(y)) {
        special = i;
        break;
      }
      const area = Math.abs(dx * (y - ay) - (ax - (xs[i] as number)) * dy);
      if (area > bestArea) {
        bestArea = area;
        best = i;
      }
    }
    if (special >= 0) {
      kept.push(special);
    } else {
      kept.push(best);
      ax = xs[best] as number;
      ay = ys[best] as number;
    }
  }
  kept.push(n - 1);
  return kept;
}

/** Orders ys for min/max: NaN counts as above +Infinity, so a bucket that went NaN keeps it as its max. */
function above(a: number, b: number): boolean {
  return a > b || (a !== a && b === b);
}

/**
 * Splits the series into `buckets` runs of equal length and keeps each run's minimum and maximum (one index
 * when they coincide), plus the first and last points, so that spikes survive however far the series is
 * reduced. Returns at most `2 * buckets + 2` indices, ascending; all of them when that is not fewer than the
 * series. ±Infinity compare as usual; NaN counts as the largest value.
 */
export function minMaxBuckets(xs: ArrayLike<number>, ys: ArrayLike<number>, buckets: number): number[] {
  checkSizes(xs, ys, 'buckets', buckets);
  const n = ys.length;
  const k = Math.floor(buckets);
  if (2 * k + 2 >= n) return allIndices(n);
  const kept: number[] = [0];
  for (let b = 0; b < k; b++) {
    const start = Math.floor((b * n) / k);
    const end = Math.floor(((b + 1) * n) / k);
    if (start >= end) continue;
    let lo = start;
    let hi = start;
    let loY = ys[start] as number;
    let hiY = loY;
    for (let i = start + 1; i < end; i++) {
      const y = ys[i] as number;
      if (above(loY, y)) {
        lo = i;
        loY = y;
      }
      if (above(y, hiY)) {
        hi = i;
        hiY = y;
      }
    }
    const first = Math.min(lo, hi);
    const second = Math.max(lo, hi);
    if (first !== kept[kept.length - 1]) kept.push(first);
    if (second !== first) kept.push(second);
  }
  if (kept[kept.length - 1] !== n - 1) kept.push(n - 1);
  return kept;
}
