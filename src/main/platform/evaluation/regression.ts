import { AppError } from '#shared/errors';
import { checkSameLength, toFloat64, type NumericColumn } from './input.ts';
import { quantileSorted } from './stats-util.ts';

/** Regression metrics with scikit-learn's definitions: MAE, RMSE (√MSE), R² and a summary of the residuals. */
export interface RegressionInput {
  /** True values. */
  actual: NumericColumn;
  predicted: NumericColumn;
}

export interface RegressionOptions {
  /** Bins of the residual histogram (numpy `histogram(residuals, bins)`: equal widths, the last bin closed). Default 20. */
  histogramBins?: number;
}

export interface ResidualSummary {
  /** residual = actual − predicted. */
  mean: number;
  /** Population standard deviation (ddof = 0, numpy's default). */
  std: number;
  min: number;
  p25: number;
  median: number;
  p75: number;
  max: number;
  histogram: { edges: number[]; counts: number[] };
}

export interface RegressionMetrics {
  rows: number;
  mae: number;
  mse: number;
  rmse: number;
  /** 1 − SS_res/SS_tot; with constant actual values 1 if the predictions are exact, else 0 (sklearn's force_finite). */
  r2: number;
  residuals: ResidualSummary;
}

export interface PreparedRegression {
  rows: number;
  actual: Float64Array;
  predicted: Float64Array;
}

export function prepareRegression(input: RegressionInput): PreparedRegression {
  const rows = checkSameLength({ actual: input.actual, predicted: input.predicted });
  return { rows, actual: toFloat64(input.actual, 'actual'), predicted: toFloat64(input.predicted, 'predicted') };
}

export function regressionMetrics(input: RegressionInput, options: RegressionOptions = {}): RegressionMetrics {
  return regressionOfPrepared(prepareRegression(input), options);
}

export function regressionOfPrepared(p: PreparedRegression, options: RegressionOptions = {}): RegressionMetrics {
  const { rows: n, actual, predicted } = p;
  if (n === 0) throw new AppError('INVALID_ARGUMENT', 'regression metrics need at least one row');
  const residuals = new Float64Array(n);
  let abs = 0;
  let sq = 0;
  let sumActual = 0;
  for (let i = 0; i < n; i++) {
    const r = actual[i]! - predicted[i]!;
    residuals[i] = r;
    abs += Math.abs(r);
    sq += r * r;
    sumActual += actual[i]!;
  }
  const meanActual = sumActual / n;
  let ssTot = 0;
  for (let i = 0; i < n; i++) ssTot += (actual[i]! - meanActual) ** 2;
  const r2 = ssTot === 0 ? (sq === 0 ? 1 : 0) : 1 - sq / ssTot;
  const mse = sq / n;
  return {
    rows: n,
    mae: abs / n,
    mse,
    rmse: Math.sqrt(mse),
    r2,
    residuals: summarize(residuals, options.histogramBins ?? 20),
  };
}

function summarize(residuals: Float64Array, bins: number): ResidualSummary {
  if (!Number.isInteger(bins) || bins < 1) {
    throw new AppError('INVALID_ARGUMENT', `histogramBins must be a positive integer, got ${bins}`);
  }
  const n = residuals.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += residuals[i]!;
  const mean = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (residuals[i]! - mean) ** 2;
  const sorted = Float64Array.from(residuals).sort();
  return {
    mean,
    std: Math.sqrt(v / n),
    min: sorted[0]!,
    p25: quantileSorted(sorted, 0.25),
    median: quantileSorted(sorted, 0.5),
    p75: quantileSorted(sorted, 0.75),
    max: sorted[n - 1]!,
    histogram: histogram(sorted, bins),
  };
}

/** numpy's `histogram(values, bins)`: B equal bins over [min, max] (±0.5 when constant), the last one closed. */
export function histogram(values: ArrayLike<number>, bins: number): { edges: number[]; counts: number[] } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]!);
    hi = Math.max(hi, values[i]!);
  }
  if (values.length === 0) [lo, hi] = [0, 1];
  if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
  // numpy: edges = linspace(lo, hi, B + 1); index = floor((x − lo) · B / (hi − lo)), then corrected against the
  // edges so that rounding never puts a value in the wrong bin.
  const step = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * step));
  const counts = new Array<number>(bins).fill(0);
  const norm = bins / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    let b = Math.floor((x - lo) * norm);
    if (b === bins) b--;
    if (x < edges[b]!) b--;
    else if (b + 1 < bins && x >= edges[b + 1]!) b++;
    counts[b]!++;
  }
  return { edges, counts };
}
