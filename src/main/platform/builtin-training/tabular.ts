import type { ColumnType } from '#shared/contracts/dataforge';
import { AppError } from '#shared/errors';
import type { BuiltinTrainerParams } from './params';
import type { FeatureEncoding, TabularPreprocessing } from './preprocessing';
import { PREPROCESSING_FORMAT } from './preprocessing';
import { columnIndex, type Cell, type Table } from './tables';

const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const DAY_MS = 86_400_000;

/** A decimal number, or NaN for anything else (missing, text, hex, Infinity). */
export function parseDecimal(cell: Cell): number {
  return cell !== null && DECIMAL.test(cell) ? Number(cell) : NaN;
}

function parseDays(cell: Cell): number {
  return cell === null ? NaN : Date.parse(cell) / DAY_MS;
}

type ColumnKind = 'numeric' | 'datetime' | 'one-hot' | 'skip';

function kindOfDeclared(type: ColumnType): ColumnKind {
  switch (type) {
    case 'integer':
    case 'number':
      return 'numeric';
    case 'datetime':
      return 'datetime';
    case 'boolean':
    case 'string':
      return 'one-hot';
    case 'empty':
      return 'skip';
  }
}

/** Without a declared type: numeric when every present value is a decimal number, else categorical. */
function inferKind(rows: Cell[][], column: number): ColumnKind {
  let present = 0;
  for (const row of rows) {
    const cell = row[column] ?? null;
    if (cell === null) continue;
    present++;
    if (Number.isNaN(parseDecimal(cell))) return 'one-hot';
  }
  return present === 0 ? 'skip' : 'numeric';
}

function meanAndStd(values: number[]): { mean: number; std: number } {
  const present = values.filter((v) => !Number.isNaN(v));
  if (present.length === 0) return { mean: 0, std: 1 };
  const mean = present.reduce((a, b) => a + b, 0) / present.length;
  const variance = present.reduce((a, b) => a + (b - mean) ** 2, 0) / present.length;
  // Rounded to float32: the graph computes in float32, and the trainer must see the same numbers.
  const std = Math.sqrt(variance);
  return { mean: Math.fround(mean), std: std > 1e-12 ? Math.fround(std) : 1 };
}

/** Label order: numeric labels by value, others by text. */
export function sortLabels(labels: string[]): string[] {
  const numeric = labels.every((l) => !Number.isNaN(parseDecimal(l)));
  return [...labels].sort((a, b) => (numeric ? parseDecimal(a) - parseDecimal(b) : a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Fits the encoding on the training rows (numeric means and spreads, one-hot vocabularies) and the label set on
 * all rows with a target; logs what it chose for each column.
 */
export function fitTabular(
  table: Table,
  params: BuiltinTrainerParams,
  trainRows: Cell[][],
  labelledRows: Cell[][],
  log: (message: string) => void,
): TabularPreprocessing {
  const target = params.target as string;
  const targetIndex = columnIndex(table, target, 'target');
  const names = params.features ?? table.columns.filter((c) => c !== target && c !== params.splitColumn);
  if (names.includes(target)) throw new AppError('INVALID_ARGUMENT', `the target '${target}' cannot also be a feature`);
  const declared = new Map((params.schema ?? []).map((c) => [c.name, c.type]));
  const features: FeatureEncoding[] = [];
  let index = 0;
  for (const name of names) {
    const column = columnIndex(table, name, 'feature');
    const type = declared.get(name);
    const kind = type ? kindOfDeclared(type) : inferKind(labelledRows, column);
    if (kind === 'skip') {
      log(`column '${name}' left out: it has no values`);
      continue;
    }
    if (kind === 'one-hot') {
      const counts = new Map<string | null, number>();
      for (const row of trainRows) counts.set(row[column] ?? null, (counts.get(row[column] ?? null) ?? 0) + 1);
      const categories = [...counts.entries()]
        .sort((a, b) => b[1] - a[1] || compareCategory(a[0], b[0]))
        .slice(0, params.maxCategories)
        .map(([value]) => value);
      if (counts.size > categories.length)
        log(`column '${name}': the ${categories.length} most frequent of ${counts.size} values one-hot encoded`);
      features.push({ column: name, encoding: 'one-hot', index, categories });
      index += categories.length;
    } else {
      const parse = kind === 'numeric' ? parseDecimal : parseDays;
      const { mean, std } = meanAndStd(trainRows.map((row) => parse(row[column] ?? null)));
      features.push({ column: name, encoding: kind, index, mean, std });
      index++;
    }
  }
  if (index === 0) throw new AppError('INVALID_ARGUMENT', 'the table has no usable feature column');

  const classifier = params.kind === 'tabular-classifier';
  let labels: string[] | null = null;
  let targetScaling: { mean: number; std: number } | null = null;
  if (classifier) {
    labels = sortLabels([...new Set(labelledRows.map((row) => row[targetIndex] as string))]);
    if (labels.length < 2)
      throw new AppError(
        'INVALID_ARGUMENT',
        `the target '${target}' has ${labels.length === 1 ? `only one class ('${labels[0]}')` : 'no values'}; a classifier needs at least two`,
      );
  } else {
    for (const row of labelledRows) {
      const cell = row[targetIndex] ?? null;
      if (Number.isNaN(parseDecimal(cell)))
        throw new AppError('INVALID_ARGUMENT', `the regression target '${target}' has a non-numeric value '${cell}'`);
    }
    targetScaling = meanAndStd(trainRows.map((row) => parseDecimal(row[targetIndex] ?? null)));
  }
  return {
    format: PREPROCESSING_FORMAT,
    kind: params.kind as TabularPreprocessing['kind'],
    input: { name: 'features', dtype: 'float32', shape: ['batch', index] },
    output: classifier
      ? { name: 'probabilities', dtype: 'float32', shape: ['batch', (labels as string[]).length] }
      : { name: 'value', dtype: 'float32', shape: ['batch', 1] },
    labels,
    target,
    inputSize: index,
    features,
    targetScaling,
  };
}

function compareCategory(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/**
 * The ONNX input of rows given as cells by column name (`features`, before imputation and scaling, which the
 * graph does): the reference implementation of `FeatureEncoding`. Numbers and booleans may be given as such.
 */
export function encodeTabularRecords(
  pre: TabularPreprocessing,
  records: Record<string, string | number | boolean | null | undefined>[],
): Float32Array {
  const out = new Float32Array(records.length * pre.inputSize);
  records.forEach((record, r) => {
    encodeInto(
      pre,
      (column) => {
        const value = record[column];
        return value === null || value === undefined || String(value).trim() === '' ? null : String(value);
      },
      out,
      r * pre.inputSize,
    );
  });
  return out;
}

/** Encodes table rows (cells by column index) into `out`. */
export function encodeTableRows(pre: TabularPreprocessing, table: Table, rows: Cell[][]): Float32Array {
  const indices = new Map(table.columns.map((c, i) => [c, i]));
  const out = new Float32Array(rows.length * pre.inputSize);
  rows.forEach((row, r) =>
    encodeInto(pre, (column) => row[indices.get(column) as number] ?? null, out, r * pre.inputSize),
  );
  return out;
}

function encodeInto(
  pre: TabularPreprocessing,
  cellOf: (column: string) => Cell,
  out: Float32Array,
  offset: number,
): void {
  for (const feature of pre.features) {
    const cell = cellOf(feature.column);
    if (feature.encoding === 'one-hot') {
      const i = feature.categories.indexOf(cell);
      if (i >= 0) out[offset + feature.index + i] = 1;
    } else out[offset + feature.index] = feature.encoding === 'numeric' ? parseDecimal(cell) : parseDays(cell);
  }
}

/** What the graph's first nodes do (NaN → mean, then (x - mean) / std), in float32 like them, in place. */
export function standardiseInPlace(pre: TabularPreprocessing, encoded: Float32Array): void {
  const rows = encoded.length / pre.inputSize;
  for (const feature of pre.features) {
    if (feature.encoding === 'one-hot') continue;
    for (let r = 0; r < rows; r++) {
      const i = r * pre.inputSize + feature.index;
      const x = encoded[i] as number;
      encoded[i] = Number.isNaN(x) ? 0 : Math.fround(Math.fround(x - feature.mean) / feature.std);
    }
  }
}

/** The graph's imputation and scaling as per-input vectors (one-hot inputs: mean 0, std 1). */
export function scalingVectors(pre: TabularPreprocessing): { mean: Float32Array; std: Float32Array } {
  const mean = new Float32Array(pre.inputSize);
  const std = new Float32Array(pre.inputSize).fill(1);
  for (const feature of pre.features) {
    if (feature.encoding === 'one-hot') continue;
    mean[feature.index] = feature.mean;
    std[feature.index] = feature.std;
  }
  return { mean, std };
}
