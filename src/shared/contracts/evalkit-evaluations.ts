import { z } from 'zod';
import { endpoint } from '../api/endpoint';
import { Id, Ok, Timestamp } from './common';
import { DeploymentRuntime } from './deploy';

/**
 * EvalKit's evaluation runs (a model version or a deployment × a DataForge dataset version → metrics by task, with
 * slices and bootstrap confidence intervals, recorded as a ModelHub run too) and gates (metric thresholds a model
 * version must pass before a gated alias may point at it).
 */

export const EVALUATION_STATES = ['queued', 'running', 'succeeded', 'failed'] as const;
export const EvaluationState = z.enum(EVALUATION_STATES);
export type EvaluationState = z.infer<typeof EvaluationState>;

export const EvaluationTask = z.enum(['classification', 'regression']);
export type EvaluationTask = z.infer<typeof EvaluationTask>;

/**
 * The headline metrics an evaluation reports (and logs to ModelHub) and a gate can name. Classification:
 * `accuracy`, `f1` (the positive class's for binary, macro for multiclass), `macro_precision`, `macro_recall`,
 * `macro_f1`, `weighted_precision`, `weighted_recall`, `weighted_f1`, `roc_auc`, `pr_auc`, `log_loss`,
 * `expected_calibration_error`. Regression: `mae`, `mse`, `rmse`, `r2`.
 */
export const CLASSIFICATION_METRICS = [
  'accuracy',
  'f1',
  'macro_precision',
  'macro_recall',
  'macro_f1',
  'weighted_precision',
  'weighted_recall',
  'weighted_f1',
  'roc_auc',
  'pr_auc',
  'log_loss',
  'expected_calibration_error',
] as const;
export const REGRESSION_METRICS = ['mae', 'mse', 'rmse', 'r2'] as const;
export const EVALUATION_METRICS = [...CLASSIFICATION_METRICS, ...REGRESSION_METRICS] as const;
export const EvaluationMetric = z.enum(EVALUATION_METRICS);
export type EvaluationMetric = z.infer<typeof EvaluationMetric>;

/** A version number or `@alias` (a bare alias name is accepted too). */
const VersionSelector = z.union([
  z.number().int().positive(),
  z
    .string()
    .min(1)
    .max(256)
    .regex(/^@?[A-Za-z0-9_-]+$/, 'must be a version number or an alias (@name)'),
]);

export const EvaluationInput = z.object({
  /** A registered model (with `version`, default its newest), or… */
  model: z.string().min(1).max(256).optional(),
  version: VersionSelector.optional(),
  /** …a deployment (id or name) serving an ONNX tabular model. */
  deployment: z.string().min(1).max(128).optional(),
  /** A DataForge dataset (id or name). */
  dataset: z.string().min(1).max(256),
  /** A version number, tag, id or `latest` (default). */
  datasetVersion: z.string().min(1).max(256).default('latest'),
  /** The table in the version; default its only table (CSV, TSV, JSON lines or Parquet). */
  file: z.string().min(1).max(4096).optional(),
  /** The column holding the true label (classification) or value (regression). */
  target: z.string().min(1).max(256),
  /** Default: what the model predicts (labels with probabilities: classification; values: regression). */
  task: EvaluationTask.optional(),
  /** Metrics per value of this column too. */
  slice: z.string().min(1).max(256).optional(),
  /** Bootstrap resamples for the confidence intervals; 0: none. */
  resamples: z.number().int().min(0).max(10_000).default(1000),
  confidence: z.number().gt(0).lt(1).default(0.95),
});
export type EvaluationInput = z.input<typeof EvaluationInput>;

export const ConfidenceInterval = z.object({
  estimate: z.number().nullable(),
  lower: z.number().nullable(),
  upper: z.number().nullable(),
  confidence: z.number(),
  resamples: z.number().int(),
  /** Resamples on which the metric was defined. */
  valid: z.number().int(),
  reason: z.string().optional(),
});

const MaybeMetric = z.object({ value: z.number().nullable(), reason: z.string().optional() });
const Averages = z.object({ precision: z.number(), recall: z.number(), f1: z.number() });
const Label = z.union([z.string(), z.number()]);

export const ClassificationReport = z.object({
  task: z.enum(['binary', 'multiclass']),
  rows: z.number().int(),
  classes: z.array(Label),
  accuracy: z.number(),
  perClass: z.array(
    Averages.extend({
      class: Label,
      support: z.number(),
      rocAuc: MaybeMetric.optional(),
      averagePrecision: MaybeMetric.optional(),
    }),
  ),
  macro: Averages,
  weighted: Averages,
  positive: Averages.optional(),
  /** counts[true][predicted], in the order of `classes`. */
  confusionMatrix: z.array(z.array(z.number())),
  rocAuc: MaybeMetric,
  prAuc: MaybeMetric,
  logLoss: MaybeMetric,
  calibration: z
    .object({
      kind: z.enum(['positive-class', 'top-label']),
      strategy: z.enum(['uniform', 'quantile']),
      bins: z.array(
        z.object({
          lower: z.number(),
          upper: z.number(),
          count: z.number(),
          meanPredicted: z.number().nullable(),
          observed: z.number().nullable(),
        }),
      ),
      expectedCalibrationError: z.number(),
    })
    .nullable(),
});

export const RegressionReport = z.object({
  rows: z.number().int(),
  mae: z.number(),
  mse: z.number(),
  rmse: z.number(),
  r2: z.number(),
  /** residual = actual − predicted. */
  residuals: z.object({
    mean: z.number(),
    std: z.number(),
    min: z.number(),
    p25: z.number(),
    median: z.number(),
    p75: z.number(),
    max: z.number(),
    histogram: z.object({ edges: z.array(z.number()), counts: z.array(z.number()) }),
  }),
});

const SliceOf = <T extends z.ZodType>(metrics: T) =>
  z.object({
    /** The column's value; null for rows missing it. */
    value: Label.nullable(),
    rows: z.number().int(),
    metrics: metrics.nullable(),
    reason: z.string().optional(),
  });

/** A headline metric's name (as in `metrics`) → the key of its confidence interval in a report's `intervals`. */
export const INTERVAL_KEY_OF_METRIC: Readonly<Record<string, string>> = {
  accuracy: 'accuracy',
  f1: 'f1',
  roc_auc: 'rocAuc',
  pr_auc: 'prAuc',
  log_loss: 'logLoss',
  mae: 'mae',
  rmse: 'rmse',
  r2: 'r2',
};

/** The detailed result: every metric, intervals of the headline ones, and the slices. */
export const EvaluationReport = z.discriminatedUnion('task', [
  z.object({
    task: z.literal('classification'),
    metrics: ClassificationReport,
    /** Keyed by the library's headline names: accuracy, f1, rocAuc, prAuc, logLoss. */
    intervals: z.record(z.string(), ConfidenceInterval).nullable(),
    slices: z.array(SliceOf(ClassificationReport)).nullable(),
  }),
  z.object({
    task: z.literal('regression'),
    metrics: RegressionReport,
    /** mae, rmse, r2. */
    intervals: z.record(z.string(), ConfidenceInterval).nullable(),
    slices: z.array(SliceOf(RegressionReport)).nullable(),
  }),
]);
export type EvaluationReport = z.infer<typeof EvaluationReport>;

export const EvaluationSummary = z.object({
  id: Id,
  state: EvaluationState,
  /** Why it failed. */
  reason: z.string().nullable(),
  /** The platform-queue job doing it (its progress while running). */
  jobId: Id,
  progress: z.number().nullable(),
  /** The model version evaluated (for a deployment: the one it served), null for a deployment of a file. */
  model: z.string().nullable(),
  modelVersion: z.number().int().nullable(),
  /** The deployment evaluated; null when a model version was (through a temporary deployment). */
  deployment: z.string().nullable(),
  dataset: z.string(),
  datasetVersion: z.number().int(),
  file: z.string(),
  target: z.string(),
  /** As asked, or as found from the predictions once running. */
  task: EvaluationTask.nullable(),
  slice: z.string().nullable(),
  rows: z.number().int().nullable(),
  /** The headline metrics (`EvaluationMetric` names); null where undefined on the data. */
  metrics: z.record(z.string(), z.number().nullable()),
  /** The ModelHub run it is recorded as (experiment `evaluations`). */
  runId: z.string().nullable(),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
});
export type EvaluationSummary = z.infer<typeof EvaluationSummary>;

export const Evaluation = EvaluationSummary.extend({ report: EvaluationReport.nullable() });
export type Evaluation = z.infer<typeof Evaluation>;

export const GateOp = z.enum(['>=', '>', '<=', '<']);
export type GateOp = z.infer<typeof GateOp>;

export const GateInput = z.object({
  /** A registered model. */
  model: z.string().min(1).max(256),
  /** The alias it guards; absent: every alias of the model. */
  alias: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[A-Za-z0-9_-]+$/, "must be letters, digits, '_' or '-'")
    .optional(),
  metric: EvaluationMetric,
  op: GateOp,
  value: z.number(),
});
export type GateInput = z.input<typeof GateInput>;

/** A threshold a model version's latest evaluation must meet before a gated alias is moved to it. */
export const Gate = z.object({
  id: Id,
  model: z.string(),
  /** Null: every alias of the model. */
  alias: z.string().nullable(),
  metric: EvaluationMetric,
  op: GateOp,
  value: z.number(),
  createdAt: Timestamp,
});
export type Gate = z.infer<typeof Gate>;

export const GateCheck = z.object({
  gate: Gate,
  passed: z.boolean(),
  /** The metric in the version's latest succeeded evaluation (null: none, or undefined there). */
  actual: z.number().nullable(),
  evaluationId: Id.nullable(),
  /** Why it did not pass. */
  reason: z.string().nullable(),
});
export type GateCheck = z.infer<typeof GateCheck>;

export const GateStatus = z.object({
  model: z.string(),
  version: z.number().int(),
  /** True when every gate of the model passed (also when it has none). */
  passed: z.boolean(),
  checks: z.array(GateCheck),
});
export type GateStatus = z.infer<typeof GateStatus>;

export const BenchmarkInput = z.object({
  /** A deployment (id or name): ONNX and TF.js ones are loaded through KServe v2 `infer`, GGUF ones through `/v1/chat/completions`. */
  deployment: z.string().min(1).max(128),
  /** Clients sending requests back to back. */
  concurrency: z.number().int().min(1).max(64).default(4),
  durationSeconds: z.number().min(1).max(600).default(10),
  /** GGUF: the user message of every chat request, and the tokens each may generate. */
  prompt: z.string().min(1).max(10_000).default('Say hello.'),
  maxTokens: z.number().int().min(1).max(1024).default(16),
});
export type BenchmarkInput = z.input<typeof BenchmarkInput>;

const LatencyMs = z.object({ mean: z.number(), p50: z.number(), p95: z.number(), p99: z.number(), max: z.number() });

/** A load benchmark of a deployment: what was served (the model version), the load, and what came back. */
export const Benchmark = z.object({
  id: Id,
  state: EvaluationState,
  reason: z.string().nullable(),
  jobId: Id,
  deployment: z.string(),
  runtime: DeploymentRuntime,
  /** The HTTP endpoint loaded, as users call it. */
  endpoint: z.string(),
  /** The model version served (null for a deployment of a file). */
  model: z.string().nullable(),
  modelVersion: z.number().int().nullable(),
  concurrency: z.number().int(),
  durationSeconds: z.number(),
  /** Requests answered in the timed window (after one untimed warm-up request), and those that failed. */
  requests: z.number().int().nullable(),
  errors: z.number().int().nullable(),
  /** The first failure's status and message. */
  firstError: z.string().nullable(),
  /** Answered requests per second. */
  throughput: z.number().nullable(),
  /** Of the successful requests. */
  latencyMs: LatencyMs.nullable(),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
});
export type Benchmark = z.infer<typeof Benchmark>;

const evaluationPath = '/api/v1/evaluations';
const benchmarkPath = '/api/v1/benchmarks';
const gatePath = '/api/v1/evaluation-gates';

export const evaluationEndpoints = {
  'evaluations.create': endpoint({
    method: 'POST',
    path: evaluationPath,
    summary:
      'Evaluate a model version (`model` + `version` or `@alias`) or a deployment on a dataset version: a queued job that predicts every row and computes metrics by task, slices and bootstrap intervals',
    scope: 'write',
    input: EvaluationInput,
    output: EvaluationSummary,
    status: 201,
  }),
  'evaluations.list': endpoint({
    method: 'GET',
    path: evaluationPath,
    summary: 'Evaluations, newest first, optionally of one model (and version) or deployment',
    scope: 'read',
    input: z.object({
      model: z.string().min(1).max(256).optional(),
      version: z.coerce.number().int().positive().optional(),
      deployment: z.string().min(1).max(128).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
    }),
    output: z.object({ items: z.array(EvaluationSummary) }),
  }),
  'evaluations.get': endpoint({
    method: 'GET',
    path: `${evaluationPath}/:id`,
    summary: 'An evaluation with its detailed report once succeeded',
    scope: 'read',
    input: z.object({ id: Id }),
    output: Evaluation,
  }),
  'evaluationGates.list': endpoint({
    method: 'GET',
    path: gatePath,
    summary: "A model's gates (or every gate)",
    scope: 'read',
    input: z.object({ model: z.string().min(1).max(256).optional() }),
    output: z.object({ items: z.array(Gate) }),
  }),
  'evaluationGates.set': endpoint({
    method: 'POST',
    path: gatePath,
    summary: 'Set a gate: a metric threshold for a model (and alias); one per model, alias and metric (replaced)',
    scope: 'write',
    input: GateInput,
    output: Gate,
    status: 201,
  }),
  'evaluationGates.delete': endpoint({
    method: 'DELETE',
    path: `${gatePath}/:id`,
    summary: 'Remove a gate',
    scope: 'write',
    input: z.object({ id: Id }),
    output: Ok,
  }),
  'evaluationGates.status': endpoint({
    method: 'GET',
    path: `${gatePath}/status`,
    summary: "Whether a model version passed its model's gates, by its latest succeeded evaluation",
    scope: 'read',
    input: z.object({ model: z.string().min(1).max(256), version: z.coerce.number().int().positive() }),
    output: GateStatus,
  }),
  'benchmarks.create': endpoint({
    method: 'POST',
    path: benchmarkPath,
    summary:
      'Load a deployment over HTTP as users do (KServe v2 infer for ONNX, chat completions for GGUF) at a concurrency for a duration: a queued job reporting throughput and latency percentiles',
    scope: 'write',
    input: BenchmarkInput,
    output: Benchmark,
    status: 201,
  }),
  'benchmarks.list': endpoint({
    method: 'GET',
    path: benchmarkPath,
    summary: 'Benchmarks, newest first, optionally of one deployment, each with the model version it served',
    scope: 'read',
    input: z.object({
      deployment: z.string().min(1).max(128).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
    }),
    output: z.object({ items: z.array(Benchmark) }),
  }),
  'benchmarks.get': endpoint({
    method: 'GET',
    path: `${benchmarkPath}/:id`,
    summary: 'A benchmark',
    scope: 'read',
    input: z.object({ id: Id }),
    output: Benchmark,
  }),
} as const;

export const evaluationEvents = {
  /** An evaluation was created or changed state. */
  'evalkit.evaluation.updated': z.object({ evaluation: EvaluationSummary }),
  /** A benchmark was created or changed state. */
  'evalkit.benchmark.updated': z.object({ benchmark: Benchmark }),
} as const;

/**
 * The metrics of an evaluation run are computed off the API thread, in the worker entry `evaluation-metrics`
 * (src/workers/evaluation-metrics.ts), by its one job type. The predictions travel as columns (typed arrays are
 * copied in one piece, where a million prediction objects would be cloned one by one on the API thread).
 */
export const EVALUATION_METRICS_WORKER = 'evaluation-metrics';
export const EVALUATION_REPORT_JOB = 'evaluation.report';

/** A model's predictions, one entry per row. */
export type PredictionColumns =
  /** Classifiers: the predicted label and, per class (sorted), the probabilities. */
  | { kind: 'classification'; classes: string[]; labels: string[]; probabilities: Float64Array[] }
  | { kind: 'regression'; values: Float64Array };

/** The `evaluation.report` job: the target (and slice) column as read, and the predictions of the same rows. */
export interface EvaluationReportJob {
  /** The target column's values as read (null: missing). */
  target: { name: string; values: (string | null)[] };
  predictions: PredictionColumns;
  /** As asked; checked against what the model predicts. */
  task: EvaluationTask | null;
  slice: { name: string; values: (string | null)[] } | null;
  resamples: number;
  confidence: number;
}

export interface EvaluationReportResult {
  task: EvaluationTask;
  /** The headline metrics by the names gates and ModelHub use. */
  metrics: Record<string, number | null>;
  report: EvaluationReport;
}
