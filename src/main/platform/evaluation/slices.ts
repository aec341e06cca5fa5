import { AppError } from '#shared/errors';
import {
  metricsOfPrepared,
  prepareClassification,
  type ClassificationInput,
  type ClassificationMetrics,
  type ClassificationOptions,
  type PreparedClassification,
} from './classification.ts';
import { sortLabels, type Label } from './input.ts';
import {
  prepareRegression,
  regressionOfPrepared,
  type PreparedRegression,
  type RegressionInput,
  type RegressionMetrics,
  type RegressionOptions,
} from './regression.ts';

/** The same metrics per value of a column. Missing values (null, undefined, '', NaN) form their own slice. */
export interface SliceColumn {
  name: string;
  values: ArrayLike<Label | null | undefined>;
}

export interface SliceOptions {
  /** Slices to report even when they have no rows (they come back empty, with a reason). */
  expected?: readonly Label[];
  /** Below this many rows a slice's metrics are not computed. Default 1. */
  minRows?: number;
}

export interface Slice<T> {
  /** The column's value; null for the missing-value slice. */
  value: Label | null;
  rows: number;
  metrics: T | null;
  reason?: string;
}

/** Row indices per value, values in sklearn's label order, the missing slice last. */
export function sliceRows(column: SliceColumn, expectedRows: number): Map<Label | null, Int32Array> {
  if (column.values.length !== expectedRows) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `slice column '${column.name}' has ${column.values.length} rows, the data ${expectedRows}`,
      { column: column.name },
    );
  }
  const lists = new Map<Label | null, number[]>();
  for (let i = 0; i < column.values.length; i++) {
    const v = column.values[i];
    const key = v === null || v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v)) ? null : v;
    let list = lists.get(key);
    if (!list) lists.set(key, (list = []));
    list.push(i);
  }
  const keys = sortLabels([...lists.keys()].filter((k): k is Label => k !== null));
  const out = new Map<Label | null, Int32Array>();
  for (const k of keys) out.set(k, Int32Array.from(lists.get(k)!));
  if (lists.has(null)) out.set(null, Int32Array.from(lists.get(null)!));
  return out;
}

function slicesOf<T>(
  column: SliceColumn,
  rows: number,
  options: SliceOptions,
  compute: (indices: Int32Array) => T,
): Slice<T>[] {
  const minRows = options.minRows ?? 1;
  const groups = sliceRows(column, rows);
  for (const e of options.expected ?? []) if (!groups.has(e)) groups.set(e, new Int32Array(0));
  return [...groups].map(([value, indices]) => {
    if (indices.length === 0)
      return { value, rows: 0, metrics: null, reason: `no rows with ${column.name} = ${String(value)}` };
    if (indices.length < minRows) {
      return { value, rows: indices.length, metrics: null, reason: `${indices.length} rows, fewer than ${minRows}` };
    }
    return { value, rows: indices.length, metrics: compute(indices) };
  });
}

function pick<A extends Float64Array | Int32Array>(array: A, indices: Int32Array): A {
  const out = new (array.constructor as new (n: number) => A)(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = array[indices[i]!]!;
  return out;
}

/** The rows `indices` of prepared classification data, with the same classes. */
export function subsetClassification(p: PreparedClassification, indices: Int32Array): PreparedClassification {
  return {
    ...p,
    rows: indices.length,
    truth: pick(p.truth, indices),
    predicted: pick(p.predicted, indices),
    positive: p.positive ? pick(p.positive, indices) : null,
    probabilities: p.probabilities ? p.probabilities.map((c) => pick(c, indices)) : null,
  };
}

export function subsetRegression(p: PreparedRegression, indices: Int32Array): PreparedRegression {
  return { rows: indices.length, actual: pick(p.actual, indices), predicted: pick(p.predicted, indices) };
}

/** Classification metrics per slice; every slice uses the classes of the whole data. */
export function classificationSlices(
  input: ClassificationInput,
  column: SliceColumn,
  options: ClassificationOptions & SliceOptions = {},
): Slice<ClassificationMetrics>[] {
  const prepared = prepareClassification(input, options);
  return slicesOf(column, prepared.rows, options, (idx) =>
    metricsOfPrepared(subsetClassification(prepared, idx), options),
  );
}

export function regressionSlices(
  input: RegressionInput,
  column: SliceColumn,
  options: RegressionOptions & SliceOptions = {},
): Slice<RegressionMetrics>[] {
  const prepared = prepareRegression(input);
  return slicesOf(column, prepared.rows, options, (idx) =>
    regressionOfPrepared(subsetRegression(prepared, idx), options),
  );
}
