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
  type ReplicateRunner,
} from '#platform/evaluation/index';
import type {
  EvaluationReportJob,
  EvaluationReportResult,
  EvaluationTask,
} from '#shared/contracts/evalkit-evaluations';
import { AppError } from '#shared/errors';

// The computation of an evaluation run's report, run by the worker entry `evaluation-metrics` (a module of its own
// so that it can be tested outside a worker thread).

/** The task of a model's predictions: labels with probabilities, or values. */
export function taskOf(predictions: EvaluationReportJob['predictions'], asked: EvaluationTask | null): EvaluationTask {
  const found = predictions.kind;
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

/** Where a classification's bootstrap resamples run: `parts` ranges through `runner` (other threads). */
export interface BootstrapThreads {
  runner: ReplicateRunner;
  parts: number;
}

/**
 * Metrics of a model's predictions against the target column, with EvalKit's statistics library: classification
 * from the predicted labels and every class's probability (the classes are the model's), regression from the
 * values; slices per value of a column, and percentile bootstrap intervals (seed 0, so a rerun gives the same;
 * split over `threads` when given, with the same result).
 */
export async function evaluationReport(
  input: EvaluationReportJob,
  threads?: BootstrapThreads,
): Promise<EvaluationReportResult> {
  taskOf(input.predictions, input.task);
  const rows = input.target.values.length;
  const predictions = input.predictions;
  const predictedRows = predictions.kind === 'classification' ? predictions.labels.length : predictions.values.length;
  if (predictedRows !== rows) {
    throw new AppError('INTERNAL', `${predictedRows} predictions for ${rows} rows of '${input.target.name}'`);
  }
  const sliceColumn = input.slice && { name: input.slice.name, values: input.slice.values };
  const bootstrap = { resamples: input.resamples, confidence: input.confidence, seed: 0 };
  if (predictions.kind === 'classification') {
    const { classes } = predictions;
    const known = new Set(classes);
    input.target.values.forEach((value, row) => {
      if (value === null || value.trim() === '') {
        throw AppError.invalid('target', `column '${input.target.name}' has no label at row ${row + 1}`);
      }
      if (!known.has(value)) {
        throw AppError.invalid(
          'target',
          `column '${input.target.name}' has the label '${value}' at row ${row + 1}, which the model does not know ` +
            `(its classes: ${classes.join(', ')})`,
        );
      }
    });
    const data: ClassificationInput = {
      labels: input.target.values as string[],
      predicted: predictions.labels,
      classProbabilities: predictions.probabilities,
      classes,
    };
    const metrics = classificationMetrics(data);
    const intervals =
      input.resamples > 0
        ? await bootstrapClassification(prepareClassification(data), { ...bootstrap, metrics, ...threads })
        : null;
    return {
      task: 'classification',
      metrics: classificationHeadline(metrics),
      report: {
        task: 'classification',
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
  const data = { actual, predicted: predictions.values };
  const metrics = regressionMetrics(data);
  return {
    task: 'regression',
    metrics: regressionHeadline(metrics),
    report: {
      task: 'regression',
      metrics,
      intervals: input.resamples > 0 ? bootstrapRegression(prepareRegression(data), bootstrap) : null,
      slices: sliceColumn ? regressionSlices(data, sliceColumn) : null,
    },
  };
}
