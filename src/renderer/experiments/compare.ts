import type { KeyValue, Run } from '#shared/contracts/modelhub';
import { finiteOrNull, formatMetric } from './charts';

/**
 * The compare view's tables and its parallel-coordinates plot, as data: which params differ between runs, and
 * where each run crosses each axis.
 */

export interface CompareRow {
  key: string;
  /** Per run, in the order given; null where the run has no such key. */
  values: (string | null)[];
  /** The runs do not all have the same value (a missing value counts as different). */
  differs: boolean;
}

function rowsOf(runs: readonly Run[], pick: (run: Run) => readonly KeyValue[]): CompareRow[] {
  const keys = [...new Set(runs.flatMap((r) => pick(r).map((kv) => kv.key)))].sort((a, b) => a.localeCompare(b));
  return keys.map((key) => {
    const values = runs.map((r) => pick(r).find((kv) => kv.key === key)?.value ?? null);
    return { key, values, differs: new Set(values).size > 1 };
  });
}

/** One row per param key of any of the runs. */
export function paramRows(runs: readonly Run[]): CompareRow[] {
  return rowsOf(runs, (r) => r.params);
}

/** One row per metric key: the latest value of each run, formatted short ("NaN" stays "NaN"). */
export function metricRows(runs: readonly Run[]): CompareRow[] {
  return rowsOf(runs, (r) => r.metrics.map((m) => ({ key: m.key, value: formatMetric(m.value) })));
}

export interface Axis {
  key: string;
  kind: 'numeric' | 'categorical';
  /** Numeric: the lowest and highest value (equal when all are the same). */
  min: number;
  max: number;
  /** Categorical: the values in order, bottom to top. */
  categories: string[];
}

/** An axis for values of one param or metric: numeric when every present value parses as a finite number. */
export function axisOf(key: string, values: readonly (string | null)[]): Axis {
  const present = values.filter((v): v is string => v !== null && v !== '');
  const numbers = present.map(Number);
  if (present.length > 0 && numbers.every((n) => Number.isFinite(n))) {
    return { key, kind: 'numeric', min: Math.min(...numbers), max: Math.max(...numbers), categories: [] };
  }
  const categories = [...new Set(present)].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return { key, kind: 'categorical', min: 0, max: Math.max(0, categories.length - 1), categories };
}

/** Where a value sits on an axis, 0 (bottom) to 1 (top); null for a missing or unplaceable value. */
export function positionOn(axis: Axis, value: string | null): number | null {
  if (value === null || value === '') return null;
  if (axis.kind === 'categorical') {
    const i = axis.categories.indexOf(value);
    if (i < 0) return null;
    return axis.categories.length === 1 ? 0.5 : i / (axis.categories.length - 1);
  }
  const n = Number(value);
  if (!Number.isFinite(n)) return null;
  return axis.max === axis.min ? 0.5 : (n - axis.min) / (axis.max - axis.min);
}

export interface ParallelData {
  axes: Axis[];
  /** Per run: its position on each axis (null: missing), and the metric's value for its colour. */
  lines: { runId: string; positions: (number | null)[]; metric: number | null }[];
}

/**
 * Parallel coordinates of params × one metric: one axis per param that varies between the runs (all params
 * when none varies), then the metric's axis last; one line per run.
 */
export function parallelData(runs: readonly Run[], metric: string): ParallelData {
  const rows = paramRows(runs);
  const varying = rows.filter((r) => r.differs);
  const shown = varying.length > 0 ? varying : rows;
  const metricValues = runs.map((r) => {
    const m = r.metrics.find((p) => p.key === metric);
    const n = finiteOrNull(m?.value);
    return n === null ? null : String(n);
  });
  const axes = [...shown.map((r) => axisOf(r.key, r.values)), axisOf(metric, metricValues)];
  const columns = [...shown.map((r) => r.values), metricValues];
  return {
    axes,
    lines: runs.map((run, i) => ({
      runId: run.info.id,
      positions: axes.map((axis, a) => positionOn(axis, columns[a]?.[i] ?? null)),
      metric: metricValues[i] === null ? null : Number(metricValues[i]),
    })),
  };
}
