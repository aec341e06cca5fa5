import {
  bootstrapClassification,
  bootstrapRegression,
  classificationMetrics,
  classificationSlices,
  prepareClassification,
  prepareRegression,
  regressionMetrics,
  regressionSlices,
  type ClassificationInput,
  type ClassificationMetrics,
  type RegressionMetrics,
} from '#platform/evaluation/index';
import type { TabularPrediction } from '#shared/contracts/deploy';
import type { EvaluationReport, EvaluationTask } from '#shared/contracts/evalkit-evaluations';
import { AppError } from '#shared/errors';

export interface ReportInput {
  /** The target column's values as read (null: missing). */
  target: { name: string; values: readonly (string | null)[] };
  predictions: readonly TabularPrediction[];
  /** As asked; checked against what the model predicts. */
  task: EvaluationTask | null;
  slice: { name: string; values: readonly (string | null)[] } | null;
  resamples: number;
  confidence: number;
}

/** The task of a model's predictions: labels with probabilities, or values. */
export function taskOf(predictions: readonly TabularPrediction[], asked: EvaluationTask | null): EvaluationTask {
  const found: EvaluationTask = predictions.length > 0 && 'label' in predictions[0]! ? 'classification' : 'regression';
  if (asked && asked !== found) {
    throw AppError.invalid(
      'task',
      `the model predicts ${found === 'classification' ? 'labels (classification)' : 'values (regression)'}, not ${asked}`,
    );
  }
  return found;
}

/** The headline metrics of a classification, by the names gates and ModelHub use. */
export function classificationHeadline(m: ClassificationMetrics): Record<string, number | null> {
  return {
    accuracy: m.accuracy,
    f1: m.positive ? m.positive.f1 : m.macro.f1,
    macro_precision: m.macro.precision,
    macro_recall: m.macro.recall,
    macro_f1: m.macro.f1,
    weighted_precision: m.weighted.precision,
    weighted_recall: m.weighted.recall,
    weighted_f1: m.weighted.f1,
    roc_auc: m.rocAuc.value,
    pr_auc: m.prAuc.value,
    log_loss: m.logLoss.value,
    expected_calibration_error: m.calibration?.expectedCalibrationError ?? null,
  };
}

export function regressionHeadline(m: RegressionMetrics): Record<string, number | null> {
  return { mae: m.mae, mse: m.mse, rmse: m.rmse, r2: m.r2 };
}

/**
 * Metrics of a model's predictions against the target column, with EvalKit's statistics library: classification
 * from the predicted labels and every class's probability (the classes are the model's), regression from the
 * values; slices per value of a column, and percentile bootstrap intervals (seed 0, so a rerun gives the same).
 */
export async function evaluationReport(
  input: ReportInput,
): Promise<{ task: EvaluationTask; metrics: Record<string, number | null>; report: EvaluationReport }> {
  const task = taskOf(input.predictions, input.task);
  const sliceColumn = input.slice && { name: input.slice.name, values: input.slice.values };
  const bootstrap = { resamples: input.resamples, confidence: input.confidence, seed: 0 };
  if (task === 'classification') {
    const predictions = input.predictions as { label: string; probabilities: Record<string, number> }[];
    const classes = Object.keys(predictions[0]?.probabilities ?? {}).sort();
    input.target.values.forEach((value, row) => {
      if (value === null || value.trim() === '') {
        throw AppError.invalid('target', `column '${input.target.name}' has no label at row ${row + 1}`);
      }
      if (!classes.includes(value)) {
        throw AppError.invalid(
          'target',
          `column '${input.target.name}' has the label '${value}' at row ${row + 1}, which the model does not know ` +
            `(its classes: ${classes.join(', ')})`,
        );
      }
    });
    const data: ClassificationInput = {
      labels: input.target.values as string[],
      predicted: predictions.map((p) => p.label),
      classProbabilities: classes.map((c) => Float64Array.from(predictions, (p) => p.probabilities[c] ?? 0)),
      classes,
    };
    const metrics = classificationMetrics(data);
    const intervals =
      input.resamples > 0
        ? await bootstrapClassification(prepareClassification(data), { ...bootstrap, metrics })
        : null;
    return {
      task,
      metrics: classificationHeadline(metrics),
      report: {
        task,
        metrics,
        intervals,
        slices: sliceColumn ? classificationSlices(data, sliceColumn) : null,
      },
    };
  }
  const actual = input.target.values.map((value, row) => {
    const n = value === null ? Number.NaN : Number(value);
    if (value === null || value.trim() === '' || !Number.isFinite(n)) {
      throw AppError.invalid(
        'target',
        `column '${input.target.name}' has ${value === null || value.trim() === '' ? 'no value' : `the value '${value}'`} ` +
          `at row ${row + 1}; a regression target needs a number in every row`,
      );
    }
    return n;
  });
  const data = { actual, predicted: input.predictions.map((p) => ('value' in p ? p.value : Number.NaN)) };
  const metrics = regressionMetrics(data);
  return {
    task,
    metrics: regressionHeadline(metrics),
    report: {
      task,
      metrics,
      intervals: input.resamples > 0 ? bootstrapRegression(prepareRegression(data), bootstrap) : null,
      slices: sliceColumn ? regressionSlices(data, sliceColumn) : null,
    },
  };
}
