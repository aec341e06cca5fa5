import { AppError } from '#shared/errors';
import {
  checkFinite,
  checkLabels,
  checkSameLength,
  encode,
  sortLabels,
  type Label,
  type NumericColumn,
} from './input.ts';
import { BinaryRanking } from './ranking.ts';
import { quantileSorted, searchLeft } from './stats-util.ts';

/**
 * Classification metrics with scikit-learn's definitions (evaluation.int.test.ts compares them with sklearn
 * 1.2 on the same data): accuracy, precision/recall/F1 per class with macro and weighted averages, ROC AUC
 * and average precision (binary; one-vs-rest macro for multiclass), log loss, the confusion matrix and a
 * calibration curve with its expected calibration error.
 */
export interface ClassificationInput {
  /** The true labels. */
  labels: ArrayLike<Label>;
  /** Predicted labels; when absent they come from the probabilities (argmax; binary: p ≥ threshold). */
  predicted?: ArrayLike<Label>;
  /** Binary: the predicted probability of the positive class (`classes[1]`) per row. */
  positiveProbability?: NumericColumn;
  /** Multiclass (or binary): one column of predicted probabilities per class, in the order of `classes`. */
  classProbabilities?: readonly NumericColumn[];
  /**
   * The classes, in the order of the probability columns; binary: `[negative, positive]`. Default: the sorted
   * distinct values of labels and predicted labels (numbers ascending, strings by code unit, as sklearn).
   */
  classes?: readonly Label[];
}

export interface ClassificationOptions {
  /** Binary with `positiveProbability` and no `predicted`: the positive class when p ≥ threshold. Default 0.5. */
  threshold?: number;
  /** Probabilities are clipped to [eps, 1 − eps] for log loss. Default: float64 machine epsilon, as sklearn 1.2's 'auto'. */
  logLossEps?: number;
  /** Calibration bins. Default 10. */
  calibrationBins?: number;
  /** 'uniform' (equal widths on [0, 1], default) or 'quantile' (equal counts), as sklearn's `calibration_curve`. */
  calibrationStrategy?: 'uniform' | 'quantile';
}

/** A metric that may be undefined on the data; `reason` says why it is null. */
export interface MaybeMetric {
  value: number | null;
  reason?: string;
}

export interface ClassMetrics {
  class: Label;
  precision: number;
  recall: number;
  f1: number;
  /** Rows whose true label is this class. */
  support: number;
  /** One-vs-rest ROC AUC and average precision of this class's probability (when there are probabilities). */
  rocAuc?: MaybeMetric;
  averagePrecision?: MaybeMetric;
}

export interface Averages {
  precision: number;
  recall: number;
  f1: number;
}

export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean predicted probability (binary: of the positive class; multiclass: of the predicted class); null if empty. */
  meanPredicted: number | null;
  /** Fraction of positives (multiclass: of correct predictions) among the bin's rows; null if empty. */
  observed: number | null;
}

export interface Calibration {
  /** 'positive-class' for binary, 'top-label' (confidence of the predicted class vs correct) for multiclass. */
  kind: 'positive-class' | 'top-label';
  strategy: 'uniform' | 'quantile';
  bins: CalibrationBin[];
  /** Expected calibration error: Σ (nᵦ/n)·|observedᵦ − meanPredictedᵦ| over non-empty bins. */
  expectedCalibrationError: number;
}

export interface ClassificationMetrics {
  task: 'binary' | 'multiclass';
  rows: number;
  classes: Label[];
  accuracy: number;
  /** Per class in the order of `classes`; a class in neither labels nor predictions has support 0 and zeros. */
  perClass: ClassMetrics[];
  /** Unweighted means over the classes present in labels or predictions (sklearn's `average='macro'`). */
  macro: Averages;
  /** Means weighted by support (sklearn's `average='weighted'`). */
  weighted: Averages;
  /** Binary: the positive class's precision, recall and F1 (sklearn's `average='binary'`). */
  positive?: Averages;
  /** counts[true][predicted], in the order of `classes`. */
  confusionMatrix: number[][];
  /** Binary ROC AUC, or the one-vs-rest macro average over classes with both positives and negatives. */
  rocAuc: MaybeMetric;
  /** Average precision (PR AUC); multiclass: one-vs-rest macro. */
  prAuc: MaybeMetric;
  logLoss: MaybeMetric;
  calibration: Calibration | null;
}

/** Validated, encoded rows. */
export interface PreparedClassification {
  rows: number;
  classes: Label[];
  /** Codes into `classes`. */
  truth: Int32Array;
  predicted: Int32Array;
  /** Binary: P(classes[1]) per row. */
  positive: Float64Array | null;
  /** Multiclass: one column per class. */
  probabilities: Float64Array[] | null;
  /** The clipping of log loss. */
  eps: number;
}

export const FLOAT64_EPS = 2.220446049250313e-16;

export function prepareClassification(
  input: ClassificationInput,
  options: ClassificationOptions = {},
): PreparedClassification {
  const n = checkSameLength({
    labels: input.labels,
    predicted: input.predicted,
    positiveProbability: input.positiveProbability,
    ...Object.fromEntries((input.classProbabilities ?? []).map((c, i) => [`classProbabilities[${i}]`, c])),
  });
  checkLabels(input.labels, 'labels');
  if (input.predicted) checkLabels(input.predicted, 'predicted');
  if (input.positiveProbability && input.classProbabilities) {
    throw new AppError('INVALID_ARGUMENT', 'give positiveProbability or classProbabilities, not both');
  }
  if (!input.predicted && !input.positiveProbability && !input.classProbabilities) {
    throw new AppError('INVALID_ARGUMENT', 'give predicted labels, probabilities, or both');
  }
  let classes: Label[];
  if (input.classes) {
    classes = [...input.classes];
    if (new Set(classes).size !== classes.length) throw new AppError('INVALID_ARGUMENT', 'classes has duplicates');
  } else {
    const seen = new Set<Label>();
    for (let i = 0; i < n; i++) seen.add(input.labels[i]!);
    if (input.predicted) for (let i = 0; i < n; i++) seen.add(input.predicted[i]!);
    classes = sortLabels(seen);
    // Probabilities of 0/1 labels where only one value occurs: the other is implied.
    if (classes.length === 1 && input.positiveProbability && (classes[0] === 0 || classes[0] === 1)) classes = [0, 1];
    if (input.classProbabilities && classes.length !== input.classProbabilities.length) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `${input.classProbabilities.length} probability columns but ${classes.length} classes in the labels; ` +
          'give classes in the order of the columns',
      );
    }
  }
  if (input.positiveProbability && classes.length !== 2) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `positiveProbability is for two classes, found ${classes.length}` +
        (classes.length < 2 ? '; give classes: [negative, positive]' : '; give classProbabilities'),
    );
  }
  if (input.classProbabilities && input.classProbabilities.length !== classes.length) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${input.classProbabilities.length} probability columns for ${classes.length} classes`,
    );
  }
  const truth = encode(input.labels, classes, 'labels');
  let positive: Float64Array | null = null;
  let probabilities: Float64Array[] | null = null;
  if (input.positiveProbability) {
    checkProbabilities(input.positiveProbability, 'positiveProbability');
    positive = Float64Array.from(input.positiveProbability);
  }
  if (input.classProbabilities) {
    probabilities = input.classProbabilities.map((c, k) => {
      checkProbabilities(c, `classProbabilities[${k}] (${String(classes[k])})`);
      return Float64Array.from(c);
    });
    if (probabilities.length === 2) {
      positive = probabilities[1]!;
      probabilities = null;
    }
  }
  let predicted: Int32Array;
  if (input.predicted) predicted = encode(input.predicted, classes, 'predicted');
  else if (positive) {
    const t = options.threshold ?? 0.5;
    predicted = new Int32Array(n);
    for (let i = 0; i < n; i++) predicted[i] = positive[i]! >= t ? 1 : 0;
  } else {
    predicted = argmax(probabilities!, n);
  }
  return {
    rows: n,
    classes,
    truth,
    predicted,
    positive,
    probabilities,
    eps: options.logLossEps ?? FLOAT64_EPS,
  };
}

function checkProbabilities(column: ArrayLike<number>, name: string): void {
  checkFinite(column, name);
  for (let i = 0; i < column.length; i++) {
    const v = column[i]!;
    if (v < 0 || v > 1) {
      throw new AppError('INVALID_ARGUMENT', `column '${name}' has ${v} at row ${i}, outside [0, 1]`, {
        column: name,
        row: i,
      });
    }
  }
}

/** The first column of the largest probability per row (numpy's argmax). */
function argmax(columns: Float64Array[], n: number): Int32Array {
  const out = new Int32Array(n);
  const best = Float64Array.from(columns[0]!);
  for (let k = 1; k < columns.length; k++) {
    const c = columns[k]!;
    for (let i = 0; i < n; i++) {
      if (c[i]! > best[i]!) {
        best[i] = c[i]!;
        out[i] = k;
      }
    }
  }
  return out;
}

/** Per-row log loss: −log(clip(p_true) / Σ clip(p)), in the operation order of sklearn 1.2's `log_loss`. */
export function rowLogLoss(p: PreparedClassification): Float64Array {
  const { rows, truth, eps } = p;
  const out = new Float64Array(rows);
  const clip = (v: number) => (v < eps ? eps : v > 1 - eps ? 1 - eps : v);
  if (p.positive) {
    for (let i = 0; i < rows; i++) {
      const q1 = clip(p.positive[i]!);
      const q0 = 1 - q1;
      out[i] = -Math.log((truth[i] === 1 ? q1 : q0) / (q0 + q1));
    }
  } else if (p.probabilities) {
    const cols = p.probabilities;
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let k = 0; k < cols.length; k++) s += clip(cols[k]![i]!);
      out[i] = -Math.log(clip(cols[truth[i]!]![i]!) / s);
    }
  }
  return out;
}

/** Precision, recall and F1 from a (weighted) confusion matrix, with sklearn's zero_division = 0. */
export function scoresFromConfusion(
  cm: ArrayLike<number>,
  k: number,
): {
  perClass: { precision: number; recall: number; f1: number; support: number }[];
  macro: Averages;
  weighted: Averages;
  accuracy: number;
} {
  const perClass = [];
  let total = 0;
  let correct = 0;
  const macro = { precision: 0, recall: 0, f1: 0 };
  const weighted = { precision: 0, recall: 0, f1: 0 };
  let present = 0;
  for (let c = 0; c < k; c++) {
    let support = 0;
    let predictedAs = 0;
    for (let j = 0; j < k; j++) {
      support += cm[c * k + j]!;
      predictedAs += cm[j * k + c]!;
    }
    const tp = cm[c * k + c]!;
    const precision = predictedAs > 0 ? tp / predictedAs : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ precision, recall, f1, support });
    total += support;
    correct += tp;
    if (support > 0 || predictedAs > 0) {
      present++;
      macro.precision += precision;
      macro.recall += recall;
      macro.f1 += f1;
    }
    weighted.precision += precision * support;
    weighted.recall += recall * support;
    weighted.f1 += f1 * support;
  }
  for (const key of ['precision', 'recall', 'f1'] as const) {
    macro[key] = present > 0 ? macro[key] / present : 0;
    weighted[key] = total > 0 ? weighted[key] / total : 0;
  }
  return { perClass, macro, weighted, accuracy: total > 0 ? correct / total : NaN };
}

/** Why a one-vs-rest ranking metric is undefined. */
export function oneClassReason(classes: readonly Label[], present: number[]): string {
  if (present.length === 0) return 'no rows';
  return (
    `only one class (${String(classes[present[0]!])}) is present in the labels: ` +
    'ROC AUC needs both positive and negative rows'
  );
}

export function classificationMetrics(
  input: ClassificationInput,
  options: ClassificationOptions = {},
): ClassificationMetrics {
  return metricsOfPrepared(prepareClassification(input, options), options);
}

export function metricsOfPrepared(
  p: PreparedClassification,
  options: ClassificationOptions = {},
): ClassificationMetrics {
  const k = p.classes.length;
  const cm = new Float64Array(k * k);
  for (let i = 0; i < p.rows; i++) cm[p.truth[i]! * k + p.predicted[i]!]!++;
  const scores = scoresFromConfusion(cm, k);
  const confusionMatrix = Array.from({ length: k }, (_, r) => Array.from(cm.subarray(r * k, r * k + k)));
  const perClass: ClassMetrics[] = scores.perClass.map((s, c) => ({ class: p.classes[c]!, ...s }));
  const presentInLabels: number[] = [];
  for (let c = 0; c < k; c++) if (scores.perClass[c]!.support > 0) presentInLabels.push(c);

  let rocAuc: MaybeMetric = { value: null, reason: 'no probabilities given' };
  let prAuc: MaybeMetric = { value: null, reason: 'no probabilities given' };
  let logLoss: MaybeMetric = { value: null, reason: 'no probabilities given' };
  let calibration: Calibration | null = null;
  if (p.rows === 0) {
    rocAuc = prAuc = logLoss = { value: null, reason: 'no rows' };
  } else if (p.positive) {
    const ranking = BinaryRanking.of(p.positive, (i) => p.truth[i] === 1);
    const r = ranking.evaluate();
    rocAuc =
      r.rocAuc === null ? { value: null, reason: oneClassReason(p.classes, presentInLabels) } : { value: r.rocAuc };
    prAuc =
      r.averagePrecision === null
        ? { value: null, reason: `no row of the positive class (${String(p.classes[1])}) in the labels` }
        : { value: r.averagePrecision };
    logLoss = logLossOf(p, presentInLabels);
    calibration = calibrationCurve(p.positive, (i) => p.truth[i] === 1, 'positive-class', options);
  } else if (p.probabilities) {
    const aucs: number[] = [];
    const aps: number[] = [];
    p.probabilities.forEach((column, c) => {
      const r = BinaryRanking.of(column, (i) => p.truth[i] === c).evaluate();
      const name = String(p.classes[c]);
      perClass[c]!.rocAuc =
        r.rocAuc === null
          ? { value: null, reason: `no rows of class ${name}, or only rows of it` }
          : { value: r.rocAuc };
      perClass[c]!.averagePrecision =
        r.averagePrecision === null
          ? { value: null, reason: `no rows of class ${name}` }
          : { value: r.averagePrecision };
      if (r.rocAuc !== null) aucs.push(r.rocAuc);
      if (r.averagePrecision !== null) aps.push(r.averagePrecision);
    });
    const missing = p.classes.filter((_, c) => !presentInLabels.includes(c)).map(String);
    const note = missing.length ? `; classes without rows left out: ${missing.join(', ')}` : '';
    rocAuc = aucs.length
      ? { value: mean(aucs), ...(note ? { reason: `macro over ${aucs.length} of ${k} classes${note}` } : {}) }
      : { value: null, reason: oneClassReason(p.classes, presentInLabels) };
    prAuc = aps.length
      ? { value: mean(aps), ...(note ? { reason: `macro over ${aps.length} of ${k} classes${note}` } : {}) }
      : { value: null, reason: 'no rows' };
    logLoss = logLossOf(p, presentInLabels);
    const confidence = new Float64Array(p.rows);
    for (let i = 0; i < p.rows; i++) confidence[i] = p.probabilities[p.predicted[i]!]![i]!;
    calibration = calibrationCurve(confidence, (i) => p.truth[i] === p.predicted[i], 'top-label', options);
  }
  const result: ClassificationMetrics = {
    task: k === 2 ? 'binary' : 'multiclass',
    rows: p.rows,
    classes: p.classes,
    accuracy: scores.accuracy,
    perClass,
    macro: scores.macro,
    weighted: scores.weighted,
    confusionMatrix,
    rocAuc,
    prAuc,
    logLoss,
    calibration,
  };
  if (k === 2) {
    const { precision, recall, f1 } = scores.perClass[1]!;
    result.positive = { precision, recall, f1 };
  }
  return result;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function logLossOf(p: PreparedClassification, presentInLabels: number[]): MaybeMetric {
  // sklearn refuses labels of one class without a `labels` argument; with the classes known it is defined.
  if (presentInLabels.length === 0) return { value: null, reason: 'no rows' };
  const ll = rowLogLoss(p);
  let s = 0;
  for (let i = 0; i < ll.length; i++) s += ll[i]!;
  return { value: s / ll.length };
}

/**
 * A reliability curve of `probability` against `hit` (sklearn's `calibration_curve`: a row goes to bin
 * `searchsorted(edges[1:-1], p, 'left')`, so a probability on an inner edge belongs to the lower bin) and the
 * expected calibration error. Empty bins are listed with nulls and weigh nothing in the error.
 */
export function calibrationCurve(
  probability: Float64Array,
  hit: (row: number) => boolean,
  kind: Calibration['kind'],
  options: ClassificationOptions = {},
): Calibration {
  const binsWanted = options.calibrationBins ?? 10;
  if (!Number.isInteger(binsWanted) || binsWanted < 1) {
    throw new AppError('INVALID_ARGUMENT', `calibrationBins must be a positive integer, got ${binsWanted}`);
  }
  const strategy = options.calibrationStrategy ?? 'uniform';
  const n = probability.length;
  const edges = new Float64Array(binsWanted + 1);
  if (strategy === 'uniform') {
    // numpy's linspace(0, 1, B + 1): i·step, the last one exactly 1.
    for (let i = 0; i <= binsWanted; i++) edges[i] = i * (1 / binsWanted);
    edges[binsWanted] = 1;
  } else {
    const sorted = Float64Array.from(probability).sort();
    for (let i = 0; i <= binsWanted; i++) edges[i] = quantileSorted(sorted, (i * (1 / binsWanted) * 100) / 100);
  }
  const inner = edges.subarray(1, binsWanted);
  const counts = new Float64Array(binsWanted);
  const sums = new Float64Array(binsWanted);
  const hits = new Float64Array(binsWanted);
  for (let i = 0; i < n; i++) {
    const b = searchLeft(inner, probability[i]!);
    counts[b]!++;
    sums[b]! += probability[i]!;
    if (hit(i)) hits[b]!++;
  }
  let ece = 0;
  const bins: CalibrationBin[] = [];
  for (let b = 0; b < binsWanted; b++) {
    const count = counts[b]!;
    const meanPredicted = count > 0 ? sums[b]! / count : null;
    const observed = count > 0 ? hits[b]! / count : null;
    if (count > 0) ece += (count / n) * Math.abs(observed! - meanPredicted!);
    bins.push({ lower: edges[b]!, upper: edges[b + 1]!, count, meanPredicted, observed });
  }
  return { kind, strategy, bins, expectedCalibrationError: ece };
}
