import { readFileSync } from 'node:fs';
import type { TabularPreprocessing } from '#platform/builtin-training/preprocessing';
import type { Deployment, DeploymentSource, RequestLogEntry } from '#shared/contracts/deploy';

/** One prediction of a tabular model, as `deployments.predict` logs it. */
export type Prediction = { label: string } | { value: number };

/**
 * The rows a logged request carried, by column, and the model's prediction for each (null when the request did not
 * ask for the model's prediction output).
 */
export interface TabularRequest {
  rows: Record<string, unknown>[];
  predictions: (Prediction | null)[];
}

/**
 * The text a one-hot column reads as when the request's tensor marks none of the model's categories: the client sent
 * a value the model was not trained on (which one, the tensor does not say).
 */
export const OTHER_CATEGORY = '(a value outside the model’s categories)';

/** A tensor as logged: `shape` and (possibly nested, row-major) `data`. */
interface LoggedTensor {
  shape: number[];
  data: unknown[];
}

function isTensor(value: unknown): value is LoggedTensor {
  const t = value as Partial<LoggedTensor> | null;
  return typeof t === 'object' && t !== null && Array.isArray(t.shape) && Array.isArray(t.data);
}

/** A tensor of the request, by name: `predict`'s `{name: tensor}` or v2's `[{name, ...tensor}]`. */
function tensorNamed(logged: unknown, name: string): LoggedTensor | null {
  const found = Array.isArray(logged)
    ? (logged as { name?: unknown }[]).find((t) => typeof t === 'object' && t !== null && t.name === name)
    : typeof logged === 'object' && logged !== null
      ? (logged as Record<string, unknown>)[name]
      : undefined;
  return isTensor(found) ? found : null;
}

/**
 * The number a float32 tensor held, as the shortest decimal that rounds to it (a client sending float32 data sends
 * 5.099999904632568 for 5.1, which the reference table has as 5.1).
 */
function shortestDecimal(x: number): number {
  if (Math.fround(x) !== x) return x;
  for (let digits = 1; digits < 10; digits++) {
    const candidate = Number(x.toPrecision(digits));
    if (Math.fround(candidate) === x) return candidate;
  }
  return x;
}

/**
 * The columns of a tabular model's encoded input, decoded with its preprocessing: numeric features as numbers (NaN,
 * logged as null, is a missing value), one-hot features as their category (or `OTHER_CATEGORY`). Datetime features
 * are left out: the days the model reads are not the text the reference table holds.
 */
function decodeRows(pre: TabularPreprocessing, tensor: LoggedTensor): Record<string, unknown>[] | null {
  const [rows, width] = tensor.shape;
  const data = tensor.data.flat(Infinity) as unknown[];
  if (tensor.shape.length !== 2 || width !== pre.inputSize || rows === undefined || data.length !== rows * width) {
    return null;
  }
  const out: Record<string, unknown>[] = [];
  for (let r = 0; r < rows; r++) {
    const at = (i: number): number | null => {
      const v = data[r * width + i];
      return typeof v === 'number' && !Number.isNaN(v) ? v : null;
    };
    const row: Record<string, unknown> = {};
    for (const feature of pre.features) {
      if (feature.encoding === 'numeric') {
        const v = at(feature.index);
        row[feature.column] = v === null ? null : shortestDecimal(v);
      } else if (feature.encoding === 'one-hot') {
        const hot = feature.categories.findIndex((_, i) => at(feature.index + i) === 1);
        row[feature.column] = hot < 0 ? OTHER_CATEGORY : feature.categories[hot];
      }
    }
    out.push(row);
  }
  return out;
}

/** The model's output tensor as one prediction per row (classifiers: the most probable label). */
function decodePredictions(pre: TabularPreprocessing, output: unknown, rows: number): (Prediction | null)[] {
  const tensor = tensorNamed(output, pre.output.name);
  const data = tensor ? (tensor.data.flat(Infinity) as unknown[]) : [];
  const labels = pre.labels;
  const width = labels ? labels.length : 1;
  if (!tensor || data.length !== rows * width || !data.every((v) => typeof v === 'number')) {
    return new Array<null>(rows).fill(null);
  }
  const values = data as number[];
  return Array.from({ length: rows }, (_, r): Prediction => {
    if (!labels) return { value: values[r]! };
    let best = 0;
    for (let c = 1; c < width; c++) if (values[r * width + c]! > values[r * width + best]!) best = c;
    return { label: labels[best]! };
  });
}

function parsed(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Cut or not JSON: nothing to read.
    return null;
  }
}

/**
 * Reads the tabular rows out of a deployment's request log, whichever way they came: `predict` with JSON rows (as
 * logged), `predict` with the model's input tensor, or KServe v2 `infer` (the tensor decoded with the preprocessing of
 * the model version that answered). Entries that failed, were cut, or carry no tabular input are not rows.
 */
export class LoggedRows {
  /** Preprocessing files by path (read once; a version's files do not change). */
  private readonly preprocessings = new Map<string, TabularPreprocessing | null>();

  /** A reader of `d`'s log entries; it knows the preprocessing of the versions `d` serves or served last. */
  reader(
    d: Pick<Deployment, 'source' | 'traffic' | 'previousSource'>,
  ): (entry: RequestLogEntry) => TabularRequest | null {
    const byVersion = this.preprocessingsOf(d);
    return (entry) => {
      if (entry.status !== 'ok' || entry.truncated || entry.output === null) return null;
      if (entry.endpoint !== 'predict' && entry.endpoint !== 'infer') return null;
      const input = parsed(entry.input);
      const output = parsed(entry.output);
      if (entry.endpoint === 'predict' && Array.isArray(input)) return jsonRows(input, output);
      const pre = byVersion.get(entry.modelVersion);
      const tensor = pre ? tensorNamed(input, pre.input.name) : null;
      const rows = pre && tensor ? decodeRows(pre, tensor) : null;
      if (!pre || !rows) return null;
      return { rows, predictions: decodePredictions(pre, output, rows.length) };
    };
  }

  /**
   * What a ground-truth label of one of `d`'s logged requests must be, from the preprocessing of the version that
   * answered it: one of a classifier's classes, or a regressor's number; null when not known (not a tabular model).
   */
  labelKind(
    d: Pick<Deployment, 'source' | 'traffic' | 'previousSource'>,
  ): (entry: RequestLogEntry) => { classes: string[] } | { number: true } | null {
    const byVersion = this.preprocessingsOf(d);
    return (entry) => {
      const pre = byVersion.get(entry.modelVersion);
      if (!pre) return null;
      return pre.labels ? { classes: pre.labels } : { number: true };
    };
  }

  private preprocessingsOf(
    d: Pick<Deployment, 'source' | 'traffic' | 'previousSource'>,
  ): Map<number | null, TabularPreprocessing | null> {
    const byVersion = new Map<number | null, TabularPreprocessing | null>();
    const sources = [d.source, d.traffic?.source, d.previousSource].filter((s): s is DeploymentSource => !!s);
    for (const source of sources.reverse()) {
      byVersion.set(source.kind === 'model-version' ? source.version : null, this.preprocessingOf(source));
    }
    return byVersion;
  }

  private preprocessingOf(source: DeploymentSource): TabularPreprocessing | null {
    const file = source.preprocessing?.path;
    if (!file) return null;
    let pre = this.preprocessings.get(file);
    if (pre === undefined) {
      try {
        const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<TabularPreprocessing>;
        const tabular = value.kind === 'tabular-classifier' || value.kind === 'tabular-regressor';
        pre = tabular && Array.isArray(value.features) ? (value as TabularPreprocessing) : null;
      } catch {
        // Gone or unreadable: its requests' tensors cannot be decoded (the deployment reports why it cannot load).
        pre = null;
      }
      this.preprocessings.set(file, pre);
    }
    return pre;
  }
}

/** `predict`'s JSON rows and the predictions logged with them. */
function jsonRows(rows: unknown[], predictions: unknown): TabularRequest | null {
  if (!Array.isArray(predictions) || rows.length !== predictions.length) return null;
  if (!rows.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) return null;
  return { rows: rows as Record<string, unknown>[], predictions: predictions as Prediction[] };
}
