import { PREPROCESSING_FORMAT, type TabularPreprocessing } from '#platform/builtin-training/preprocessing';
import { encodeTabularRecords, parseDecimal } from '#platform/builtin-training/tabular';
import type { TensorData } from '#platform/onnx-serving/tensors';
import { AppError } from '#shared/errors';
import type { RequestTiming, TensorModelRuntime } from './tensor-runtime';
import type { ServingSignature } from './signature';

/**
 * JSON rows in, predictions out, for models of TrainOS's built-in tabular trainers: the rows are encoded with the
 * trainer's own encoder (`encodeTabularRecords`, the reference implementation of the saved `FeatureEncoding`s),
 * after checks a server owes its clients (the trainer would quietly read a typo as a missing value).
 */

export type TabularCell = string | number | boolean | null;

export type TabularPrediction =
  /** Classifiers: the most probable label and every label's probability. */
  | { label: string; probabilities: Record<string, number> }
  /** The regressor: the predicted target value, in its units. */
  | { value: number };

const TABULAR_KINDS = new Set(['tabular-classifier', 'tabular-regressor']);

/**
 * The preprocessing.json saved with a built-in tabular model, checked enough to be used (format, kind, encodings,
 * labels). FAILED_PRECONDITION naming `source` otherwise: the deployment's files are at fault, not the request.
 */
export function parseTabularPreprocessing(value: unknown, source: string): TabularPreprocessing {
  const fail = (what: string): never => {
    throw new AppError('FAILED_PRECONDITION', `preprocessing '${source}': ${what}`, { file: source });
  };
  if (typeof value !== 'object' || value === null) return fail('not a JSON object');
  const pre = value as Partial<TabularPreprocessing> & { format?: unknown; kind?: unknown };
  if (pre.format !== PREPROCESSING_FORMAT)
    fail(`format is ${JSON.stringify(pre.format)}, not '${PREPROCESSING_FORMAT}'`);
  if (typeof pre.kind !== 'string' || !TABULAR_KINDS.has(pre.kind))
    fail(`kind ${JSON.stringify(pre.kind)} is not a tabular model (tabular-classifier, tabular-regressor)`);
  if (!pre.input?.name || !pre.output?.name) fail('input or output is missing');
  if (!Number.isInteger(pre.inputSize) || (pre.inputSize as number) < 1) fail('inputSize is not a positive integer');
  if (!Array.isArray(pre.features) || pre.features.length === 0) fail('features is not a list of encodings');
  for (const f of pre.features as unknown[]) {
    const e = f as { column?: unknown; encoding?: unknown; index?: unknown; categories?: unknown };
    if (typeof e.column !== 'string' || !Number.isInteger(e.index)) fail(`a feature without column or index`);
    if (e.encoding === 'one-hot' ? !Array.isArray(e.categories) : e.encoding !== 'numeric' && e.encoding !== 'datetime')
      fail(`feature '${String(e.column)}' has an unknown encoding ${JSON.stringify(e.encoding)}`);
  }
  if (pre.kind === 'tabular-classifier' && (!Array.isArray(pre.labels) || pre.labels.length < 2))
    fail('a classifier without labels');
  if (typeof pre.target !== 'string') fail('target is missing');
  return pre as TabularPreprocessing;
}

/** Checks that the ONNX model is the one the preprocessing describes (input name and width, output name). */
export function checkTabularModel(pre: TabularPreprocessing, signature: ServingSignature, source: string): void {
  const input = signature.inputs.find((s) => s.name === pre.input.name);
  const output = signature.outputs.find((s) => s.name === pre.output.name);
  const width = input?.shape[1];
  if (
    !input ||
    input.dtype !== 'float32' ||
    input.shape.length !== 2 ||
    (typeof width === 'number' && width !== pre.inputSize)
  )
    throw new AppError(
      'FAILED_PRECONDITION',
      `model '${source}' does not take the preprocessing's input '${pre.input.name}' float32 [batch, ${pre.inputSize}]`,
      { file: source },
    );
  if (!output)
    throw new AppError('FAILED_PRECONDITION', `model '${source}' has no output '${pre.output.name}'`, { file: source });
}

function isScalar(value: unknown): value is TabularCell {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function isBlank(value: TabularCell): boolean {
  return value === null || (typeof value === 'string' && value.trim() === '');
}

/**
 * The model's input for JSON rows (objects of column values). Each row must give every feature column (null or ''
 * for a missing value, which the model imputes as in training) and no other column but the target (ignored, so
 * labelled rows can be sent as they are). Numeric columns take numbers or decimal text, datetime columns text
 * that `Date.parse` reads, categorical columns any value (one not seen in training encodes as none of the known
 * ones). Errors: `AppError.invalid('rows[i].column', ...)`.
 */
export function tabularInputFromRows(pre: TabularPreprocessing, rows: readonly unknown[]): TensorData {
  if (rows.length === 0) throw AppError.invalid('rows', 'no rows given');
  const columns = new Set(pre.features.map((f) => f.column));
  const records: Record<string, TabularCell>[] = rows.map((row, r) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      throw AppError.invalid(`rows[${r}]`, 'must be an object of column values');
    const record = row as Record<string, unknown>;
    for (const key of Object.keys(record))
      if (!columns.has(key) && key !== pre.target)
        throw AppError.invalid(
          `rows[${r}].${key}`,
          `not a column of this model (its columns: ${[...columns].join(', ')})`,
        );
    for (const feature of pre.features) {
      const field = `rows[${r}].${feature.column}`;
      if (!Object.hasOwn(record, feature.column))
        throw AppError.invalid(field, 'missing; give null for a value that is not known');
      const value = record[feature.column];
      if (!isScalar(value))
        throw AppError.invalid(field, `expected a number, text, boolean or null, got ${JSON.stringify(value)}`);
      if (isBlank(value) || feature.encoding === 'one-hot') continue;
      if (feature.encoding === 'numeric' && (typeof value === 'boolean' || Number.isNaN(parseDecimal(String(value)))))
        throw AppError.invalid(field, `expected a number, got ${JSON.stringify(value)}`);
      if (feature.encoding === 'datetime' && Number.isNaN(Date.parse(String(value))))
        throw AppError.invalid(field, `expected a date or date-time, got ${JSON.stringify(value)}`);
    }
    return record as Record<string, TabularCell>;
  });
  return { dtype: 'float32', dims: [rows.length, pre.inputSize], data: encodeTabularRecords(pre, records) };
}

/** The model's output as one prediction per row. */
export function tabularPredictions(pre: TabularPreprocessing, output: TensorData): TabularPrediction[] {
  const values = output.data as Float32Array;
  const rows = output.dims[0] ?? 0;
  if (pre.kind === 'tabular-regressor') return Array.from({ length: rows }, (_, r) => ({ value: values[r] as number }));
  const labels = pre.labels as string[];
  const width = labels.length;
  return Array.from({ length: rows }, (_, r) => {
    const probabilities: Record<string, number> = {};
    let best = 0;
    for (let c = 0; c < width; c++) {
      const p = values[r * width + c] as number;
      probabilities[labels[c] as string] = p;
      if (p > (values[r * width + best] as number)) best = c;
    }
    return { label: labels[best] as string, probabilities };
  });
}

/**
 * Predicts JSON rows through a runtime. When the runtime batches, rows beyond its maxBatchSize are sent as several
 * requests (which may share batches with others); the predictions come back in row order.
 */
export async function predictTabular(
  runtime: TensorModelRuntime,
  pre: TabularPreprocessing,
  rows: readonly unknown[],
  options: { signal?: AbortSignal } = {},
): Promise<{ predictions: TabularPrediction[]; timings: RequestTiming[] }> {
  const input = tabularInputFromRows(pre, rows);
  const chunk = runtime.batching ? runtime.maxBatchSize : rows.length;
  const parts: Promise<{ predictions: TabularPrediction[]; timing: RequestTiming }>[] = [];
  for (let start = 0; start < rows.length; start += chunk) {
    const n = Math.min(chunk, rows.length - start);
    const data = (input.data as Float32Array).subarray(start * pre.inputSize, (start + n) * pre.inputSize);
    parts.push(
      runtime
        .infer(
          { [pre.input.name]: { dtype: 'float32', dims: [n, pre.inputSize], data } },
          { outputs: [pre.output.name], ...(options.signal ? { signal: options.signal } : {}) },
        )
        .then(({ outputs, timing }) => ({
          predictions: tabularPredictions(pre, outputs[pre.output.name] as TensorData),
          timing,
        })),
    );
  }
  const done = await Promise.all(parts);
  return { predictions: done.flatMap((d) => d.predictions), timings: done.map((d) => d.timing) };
}
