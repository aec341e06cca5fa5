import { z } from 'zod';
import { endpoint, noInput } from '../api/endpoint';
import { Id, Ok, QueryBool, Timestamp, page } from './common';
import { DeploymentRef } from './deploy';
import { Job } from './jobs';

/**
 * EvalKit's drift monitors, alerts and A/B tests. A monitor compares the rows of a tabular ONNX deployment's request
 * log (`deployments.predict` with `rows`) with a reference (the training dataset version) feature by feature, on a
 * schedule, and raises alerts past its thresholds. An A/B test compares two deployments (or model versions) on
 * outcomes posted per arm or per logged request.
 */

/** A monitor or A/B test name: letters, digits, `.`, `_`, `-`. */
export const EvalkitName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-", starting with a letter or digit');

/** Which statistic decides a feature's verdict (`auto`: the KS/chi-square p-value up to 1,000 rows, else PSI). */
export const DriftRuleSchema = z.enum(['auto', 'psi', 'p-value', 'jensen-shannon']);

/** When an alert is raised: any threshold crossed (each optional; none given: `driftedShare` 0.5). */
export const AlertThresholds = z.object({
  /** A feature's PSI above this (0.2 is the usual rule of thumb). */
  psi: z.number().positive().max(100).optional(),
  /** The share of drifted features at or above this (0..1]. */
  driftedShare: z.number().positive().max(1).optional(),
  /** The prediction's PSI above this. */
  predictionPsi: z.number().positive().max(100).optional(),
  /** Accuracy over labelled requests below this (classifiers). */
  accuracyBelow: z.number().positive().max(1).optional(),
  /** Mean absolute error over labelled requests above this (regressors). */
  maeAbove: z.number().positive().optional(),
});
export type AlertThresholds = z.infer<typeof AlertThresholds>;

export const MonitorInput = z.object({
  /** Default: the deployment's name. */
  name: EvalkitName.optional(),
  deployment: DeploymentRef,
  /**
   * The reference: a DataForge dataset and version (number, tag or `latest`). Default: the dataset version the
   * deployed model version was trained on, as ModelHub's lineage knows it.
   */
  dataset: z.string().min(1).max(256).optional(),
  datasetVersion: z.string().min(1).max(64).optional(),
  /** The CSV file in the version; default its first `.csv`. */
  path: z.string().min(1).max(1024).optional(),
  /** The reference's target column (compared with the predictions); default the training run's `target` param. */
  target: z.string().min(1).max(256).optional(),
  /** Current rows per check: the newest logged rows. */
  windowRows: z.number().int().min(10).max(100_000).default(1000),
  /** Check after this many new logged requests (null: not by count). */
  everyRequests: z.number().int().min(1).max(1_000_000).nullable().default(null),
  /** Check every this many minutes (null: not by time). */
  everyMinutes: z
    .number()
    .positive()
    .max(7 * 24 * 60)
    .nullable()
    .default(null),
  rule: DriftRuleSchema.default('auto'),
  /** Numeric bins for PSI and Jensen–Shannon (the reference's quantiles). */
  bins: z.number().int().min(2).max(100).default(10),
  alerts: AlertThresholds.default({}),
  /** Alerts are POSTed here as JSON (http or https). */
  webhookUrl: z.string().max(2048).nullable().default(null),
});
export type MonitorInput = z.input<typeof MonitorInput>;

export const Monitor = z.object({
  id: Id,
  name: EvalkitName,
  deploymentId: Id,
  deployment: z.string(),
  reference: z.object({ dataset: z.string(), version: z.number().int(), path: z.string() }),
  target: z.string().nullable(),
  windowRows: z.number().int(),
  everyRequests: z.number().int().nullable(),
  everyMinutes: z.number().nullable(),
  rule: DriftRuleSchema,
  bins: z.number().int(),
  alerts: AlertThresholds,
  webhookUrl: z.string().nullable(),
  lastCheckAt: Timestamp.nullable(),
  /** The check waiting or running on the queue, if any. */
  pendingJobId: Id.nullable(),
  /** The latest check when it failed (its job's error), until a check succeeds or another is queued. */
  lastFailure: z.object({ at: Timestamp, jobId: Id, message: z.string() }).nullable(),
  createdAt: Timestamp,
});
export type Monitor = z.infer<typeof Monitor>;

const Label = z.union([z.string(), z.number()]);

export const FeatureDriftResult = z.object({
  name: z.string(),
  kind: z.enum(['numeric', 'categorical']),
  referenceRows: z.number().int(),
  currentRows: z.number().int(),
  psi: z.number(),
  jensenShannon: z.number(),
  ks: z.object({ statistic: z.number(), pValue: z.number(), method: z.string() }).optional(),
  chiSquare: z.object({ statistic: z.number(), pValue: z.number(), dof: z.number(), yates: z.boolean() }).optional(),
  /** For charts: numeric bin edges or the categories, and the proportions of each sample. */
  distribution: z.object({
    edges: z.array(z.number()).optional(),
    categories: z.array(Label).optional(),
    reference: z.array(z.number()),
    current: z.array(z.number()),
  }),
  verdict: z.enum(['stable', 'warning', 'drift']),
  reason: z.string(),
});
export type FeatureDriftResult = z.infer<typeof FeatureDriftResult>;

export const DriftCheck = z.object({
  id: Id,
  monitorId: Id,
  at: Timestamp,
  trigger: z.enum(['manual', 'requests', 'schedule']),
  /** Logged requests and rows in the current window. */
  requests: z.number().int(),
  rows: z.number().int(),
  /** The newest request in the window. */
  lastRequestId: Id.nullable(),
  features: z.array(FeatureDriftResult),
  drifted: z.array(z.string()),
  share: z.number(),
  datasetDrift: z.boolean(),
  /** Predictions against the reference's target column (or the first checked window when there is none). */
  prediction: FeatureDriftResult.nullable(),
  predictionReference: z.enum(['target', 'first-window']).nullable(),
  /** Over the window's labelled requests; null without labels. */
  performance: z
    .object({
      labelledRows: z.number().int(),
      accuracy: z.number().optional(),
      mae: z.number().optional(),
    })
    .nullable(),
  /** Why it alerted (empty: no alert). */
  alertReasons: z.array(z.string()),
});
export type DriftCheck = z.infer<typeof DriftCheck>;

export const MonitorAlert = z.object({
  id: Id,
  monitorId: Id,
  monitor: z.string(),
  checkId: Id,
  at: Timestamp,
  message: z.string(),
  reasons: z.array(z.string()),
  /** `none`: no webhook; `delivered`; `failed` after every try (`webhookError` says why). */
  webhookStatus: z.enum(['none', 'pending', 'delivered', 'failed']),
  webhookAttempts: z.number().int(),
  webhookError: z.string().nullable(),
});
export type MonitorAlert = z.infer<typeof MonitorAlert>;

/** A ground-truth label per logged request: one value, or one per row of a multi-row request. */
export const RequestLabel = z.object({
  requestId: Id,
  value: z.union([Label, z.array(Label).min(1)]),
});

export const AbMetric = z.enum(['conversion', 'continuous']);

export const AbArmInput = z.object({
  /** Default `A` / `B`. */
  name: z.string().min(1).max(64).optional(),
  deployment: DeploymentRef,
  /** Only requests answered by this model version (for two versions behind one deployment). */
  version: z.number().int().positive().nullable().default(null),
});

export const AbTestInput = z.object({
  name: EvalkitName,
  /** `conversion`: outcomes 0 or 1 (z-test, Beta posterior); `continuous`: any number (Welch's t-test). */
  metric: AbMetric,
  /** Control first, then treatment: differences are B − A. */
  arms: z.array(AbArmInput).length(2),
  /** Rows per arm planned (the sample-size calculator's answer): results before it are flagged not final. */
  plannedPerArm: z.number().int().positive().max(1e9).nullable().default(null),
  confidence: z.number().gt(0.5).lt(1).default(0.95),
});
export type AbTestInput = z.input<typeof AbTestInput>;

export const AbArm = z.object({
  name: z.string(),
  deploymentId: Id,
  deployment: z.string(),
  version: z.number().int().nullable(),
});

export const AbTest = z.object({
  id: Id,
  name: EvalkitName,
  metric: AbMetric,
  arms: z.array(AbArm),
  plannedPerArm: z.number().int().nullable(),
  confidence: z.number(),
  createdAt: Timestamp,
});
export type AbTest = z.infer<typeof AbTest>;

export const AbArmResult = z.object({
  name: z.string(),
  n: z.number().int(),
  /** The conversion rate or the mean. */
  mean: z.number().nullable(),
  /** Its confidence interval (Wald for a rate, t for a mean); null with too few rows. */
  interval: z.tuple([z.number(), z.number()]).nullable(),
});

export const AbResults = z.object({
  test: AbTest,
  arms: z.array(AbArmResult),
  /** Null until both arms have enough rows (`reason` says why). */
  frequentist: z
    .object({
      method: z.enum(['two-proportion z-test', "Welch's t-test"]),
      difference: z.number(),
      relativeDifference: z.number().nullable(),
      statistic: z.number(),
      df: z.number().optional(),
      pValue: z.number(),
      interval: z.tuple([z.number(), z.number()]),
      confidence: z.number(),
      significant: z.boolean(),
    })
    .nullable(),
  bayesian: z.object({ probabilityBBeatsA: z.number(), method: z.string() }).nullable(),
  /** `final` only once both arms reached the planned size; before that `warning` says why not to stop. */
  peeking: z.object({ final: z.boolean(), progress: z.number().nullable(), warning: z.string().optional() }),
  reason: z.string().nullable(),
});
export type AbResults = z.infer<typeof AbResults>;

export const SampleSizeInput = z.object({
  metric: AbMetric.default('conversion'),
  /** Conversion: the control's rate (0..1). */
  baseline: z.coerce.number().optional(),
  /** Continuous: the metric's standard deviation. */
  sd: z.coerce.number().optional(),
  /** The minimum detectable effect: absolute (or a fraction of the baseline with `relative`). */
  mde: z.coerce.number(),
  relative: QueryBool.default(false),
  power: z.coerce.number().default(0.8),
  alpha: z.coerce.number().default(0.05),
});

const monitorPath = '/api/v1/monitors/:monitor';
const abPath = '/api/v1/abtests/:test';
const MonitorRef = z.object({ monitor: z.string().min(1).max(128) });
const TestRef = z.object({ test: z.string().min(1).max(128) });

export const monitoringEndpoints = {
  'monitors.create': endpoint({
    method: 'POST',
    path: '/api/v1/monitors',
    summary:
      'Create a drift monitor on a tabular ONNX deployment against its training dataset version (or a given one), checked every N requests and/or M minutes',
    scope: 'write',
    input: MonitorInput,
    output: Monitor,
    status: 201,
  }),
  'monitors.list': endpoint({
    method: 'GET',
    path: '/api/v1/monitors',
    summary: 'Drift monitors, by name (optionally of one deployment)',
    scope: 'read',
    input: z.object({ deployment: DeploymentRef.optional() }),
    output: z.object({ items: z.array(Monitor) }),
  }),
  'monitors.get': endpoint({
    method: 'GET',
    path: monitorPath,
    summary: 'A drift monitor by id or name',
    scope: 'read',
    input: MonitorRef,
    output: Monitor,
  }),
  'monitors.delete': endpoint({
    method: 'DELETE',
    path: monitorPath,
    summary: 'Delete a drift monitor with its checks and alerts',
    scope: 'write',
    input: MonitorRef,
    output: Ok,
  }),
  'monitors.check': endpoint({
    method: 'POST',
    path: `${monitorPath}/check`,
    summary: 'Queue a drift check now (a job)',
    scope: 'write',
    input: MonitorRef,
    output: Job,
    status: 202,
  }),
  'monitors.checks': endpoint({
    method: 'GET',
    path: `${monitorPath}/checks`,
    summary: "A monitor's checks, newest first: per-feature drift, prediction drift, performance and alert reasons",
    scope: 'read',
    input: MonitorRef.extend({
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: Id.optional(),
    }),
    output: page(DriftCheck),
  }),
  'monitors.alerts': endpoint({
    method: 'GET',
    path: '/api/v1/monitor-alerts',
    summary: 'Alerts of drift monitors, newest first (optionally of one monitor), with their webhook delivery',
    scope: 'read',
    input: z.object({
      monitor: z.string().min(1).max(128).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
    }),
    output: z.object({ items: z.array(MonitorAlert) }),
  }),
  'monitors.labels': endpoint({
    method: 'POST',
    path: '/api/v1/deployments/:deployment/labels',
    summary: 'Ground-truth labels of logged requests, by request id: drift checks report accuracy or MAE over them',
    scope: 'write',
    input: z.object({ deployment: DeploymentRef, labels: z.array(RequestLabel).min(1).max(100_000) }),
    output: z.object({ recorded: z.number().int() }),
  }),
  'abTests.create': endpoint({
    method: 'POST',
    path: '/api/v1/abtests',
    summary: 'Create an A/B test of two deployments (or two model versions) on a conversion or continuous metric',
    scope: 'write',
    input: AbTestInput,
    output: AbTest,
    status: 201,
  }),
  'abTests.list': endpoint({
    method: 'GET',
    path: '/api/v1/abtests',
    summary: 'A/B tests, newest first',
    scope: 'read',
    input: noInput,
    output: z.object({ items: z.array(AbTest) }),
  }),
  'abTests.results': endpoint({
    method: 'GET',
    path: abPath,
    summary:
      'An A/B test with its results: per arm n, mean and interval; z-test or t-test; probability to beat; the peeking check',
    scope: 'read',
    input: TestRef,
    output: AbResults,
  }),
  'abTests.delete': endpoint({
    method: 'DELETE',
    path: abPath,
    summary: 'Delete an A/B test and its outcomes',
    scope: 'write',
    input: TestRef,
    output: Ok,
  }),
  'abTests.outcomes': endpoint({
    method: 'POST',
    path: `${abPath}/outcomes`,
    summary:
      'Record outcomes, each for an arm by name or for a logged request (its arm found from its deployment and model version)',
    scope: 'write',
    input: TestRef.extend({
      outcomes: z
        .array(
          z.object({
            arm: z.string().min(1).max(64).optional(),
            requestId: Id.optional(),
            value: z.number(),
          }),
        )
        .min(1)
        .max(100_000),
    }),
    output: z.object({ recorded: z.number().int(), byArm: z.record(z.string(), z.number().int()) }),
  }),
  'abTests.sampleSize': endpoint({
    method: 'GET',
    path: '/api/v1/ab-sample-size',
    summary:
      'Rows per arm to detect an effect: a conversion rate change from a baseline, or a mean change given its SD (two-sided)',
    scope: 'read',
    input: SampleSizeInput,
    output: z.object({ perArm: z.number().int(), total: z.number().int() }),
  }),
} as const;

export const monitoringEvents = {
  /** A drift check finished (alerting or not). */
  'evalkit.drift.checked': z.object({ check: DriftCheck.omit({ features: true, prediction: true }) }),
  /** A monitor crossed a threshold: the in-app notification (the webhook is sent beside it). */
  'evalkit.alert.raised': z.object({ alert: MonitorAlert }),
} as const;
