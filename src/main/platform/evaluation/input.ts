import { AppError } from '#shared/errors';

/** A label or category value: a class name or number. */
export type Label = string | number;

/** Numbers as a typed array or a plain array. */
export type NumericColumn = Float64Array | Float32Array | Int32Array | readonly number[];

/** Refuses a column with a non-finite value, naming the column and the first offending row. */
export function checkFinite(column: ArrayLike<number>, name: string): void {
  for (let i = 0; i < column.length; i++) {
    const v = column[i]!;
    if (!Number.isFinite(v)) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `column '${name}' has a ${Number.isNaN(v) ? 'NaN' : 'non-finite'} value at row ${i}; ` +
          `drop or impute missing values first`,
        { column: name, row: i },
      );
    }
  }
}

/** A column as finite float64s (copied). */
export function toFloat64(column: ArrayLike<number>, name: string): Float64Array {
  checkFinite(column, name);
  return Float64Array.from(column);
}

export function checkSameLength(columns: Record<string, { length: number } | undefined>): number {
  let n: number | undefined;
  let first = '';
  for (const [name, column] of Object.entries(columns)) {
    if (!column) continue;
    if (n === undefined) {
      n = column.length;
      first = name;
    } else if (column.length !== n) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `columns '${first}' (${n} rows) and '${name}' (${column.length} rows) differ in length`,
      );
    }
  }
  return n ?? 0;
}

/** Refuses a missing label (null, undefined, NaN, ''), naming the column. */
export function checkLabels(column: ArrayLike<Label | null | undefined>, name: string): void {
  for (let i = 0; i < column.length; i++) {
    const v = column[i];
    if (v === null || v === undefined || v === '' || (typeof v === 'number' && !Number.isFinite(v))) {
      throw new AppError('INVALID_ARGUMENT', `column '${name}' has a missing value at row ${i}`, {
        column: name,
        row: i,
      });
    }
  }
}

/** Sorts labels as scikit-learn's `unique_labels` does: numbers ascending, else strings by code unit. */
export function sortLabels(labels: Iterable<Label>): Label[] {
  const list = [...new Set(labels)];
  if (list.every((l) => typeof l === 'number')) return (list as number[]).sort((a, b) => a - b);
  if (list.some((l) => typeof l === 'number')) {
    throw new AppError('INVALID_ARGUMENT', 'labels mix numbers and strings; use one type for all classes');
  }
  return (list as string[]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Codes 0..k−1 of each value against `classes`; a value not in `classes` is refused, naming the column. */
export function encode(column: ArrayLike<Label>, classes: readonly Label[], name: string): Int32Array {
  const index = new Map<Label, number>(classes.map((c, i) => [c, i]));
  const codes = new Int32Array(column.length);
  for (let i = 0; i < column.length; i++) {
    const code = index.get(column[i]!);
    if (code === undefined) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `column '${name}' has the value '${String(column[i])}' at row ${i}, not one of the classes ` +
          `${classes.map((c) => `'${String(c)}'`).join(', ')}`,
        { column: name, row: i },
      );
    }
    codes[i] = code;
  }
  return codes;
}
