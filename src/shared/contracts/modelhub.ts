import { z } from 'zod';
import { RawReplySchema, endpoint } from '../api/endpoint';
import { Id, Timestamp } from './common';

/**
 * ModelHub: experiments and runs (params, tags, metric step series, inputs). Experiment ids are MLflow's
 * integers as strings ("0" is the default experiment); run ids are 32 hex digits (a UUIDv7, so they sort by
 * creation), so MLflow clients and ours name the same things the same way.
 */
export const ExperimentId = z.string().regex(/^\d{1,18}$/, 'must be an experiment id (digits)');
export const RunId = z.string().regex(/^[0-9a-f]{32}$/, 'must be a run id (32 hex digits)');

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatus>;

export const LifecycleStage = z.enum(['active', 'deleted']);

export const KeyValue = z.object({ key: z.string(), value: z.string() });
export type KeyValue = z.infer<typeof KeyValue>;

export const Experiment = z.object({
  id: ExperimentId,
  name: z.string(),
  artifactLocation: z.string(),
  lifecycleStage: LifecycleStage,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  tags: z.array(KeyValue),
  /** Its active runs. */
  runCount: z.number().int(),
});
export type Experiment = z.infer<typeof Experiment>;

/** A metric value: a number, or NaN / ±Infinity (JSON carries those as strings). */
export const MetricValue = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);

export const MetricPoint = z.object({
  key: z.string(),
  value: MetricValue,
  timestamp: z.number().int(),
  step: z.number().int(),
});
export type MetricPoint = z.infer<typeof MetricPoint>;

export const RunInfo = z.object({
  id: RunId,
  experimentId: ExperimentId,
  name: z.string(),
  userId: z.string(),
  status: RunStatus,
  startTime: z.number().int(),
  endTime: z.number().int().nullable(),
  lifecycleStage: LifecycleStage,
  artifactUri: z.string(),
});
export type RunInfo = z.infer<typeof RunInfo>;

export const RunInput = z.object({
  name: z.string(),
  digest: z.string(),
  sourceType: z.string(),
  source: z.string(),
  schema: z.string().nullable(),
  profile: z.string().nullable(),
  tags: z.array(KeyValue),
  /** The DataForge version this input is, when known. */
  datasetVersionId: z.string().nullable(),
});
export type RunInput = z.infer<typeof RunInput>;

export const Run = z.object({
  info: RunInfo,
  /** The latest point of each metric (highest step, then time, then value). */
  metrics: z.array(MetricPoint),
  params: z.array(KeyValue),
  tags: z.array(KeyValue),
  inputs: z.array(RunInput),
});
export type Run = z.infer<typeof Run>;

export const RegisteredModelName = z
  .string()
  .min(1)
  .max(256)
  .refine((n) => n.trim() === n && !/[\0\n\r/]/.test(n), 'must not have outer spaces, "/" or control characters');

export const ModelVersion = z.object({
  name: z.string(),
  version: z.number().int(),
  description: z.string(),
  /** Where the files are: an artifact URI (`mlflow-artifacts:/…`). */
  source: z.string(),
  runId: z.string().nullable(),
  runLink: z.string(),
  userId: z.string(),
  status: z.enum(['READY', 'PENDING_REGISTRATION', 'FAILED_REGISTRATION']),
  stage: z.enum(['None', 'Staging', 'Production', 'Archived']),
  /** onnx, gguf, safetensors, tfjs, mlflow (an MLflow model folder) or other. */
  format: z.string(),
  /** Inputs and outputs (names, dtypes, shapes) read from ONNX and GGUF files. */
  signature: z.unknown(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  tags: z.array(KeyValue),
  aliases: z.array(z.string()),
});
export type ModelVersion = z.infer<typeof ModelVersion>;

export const RegisteredModel = z.object({
  name: z.string(),
  description: z.string(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  tags: z.array(KeyValue),
  aliases: z.array(z.object({ alias: z.string(), version: z.number().int() })),
  latestVersions: z.array(ModelVersion),
});
export type RegisteredModel = z.infer<typeof RegisteredModel>;

export const AliasMove = z.object({
  kind: z.enum(['alias', 'stage']),
  name: z.string(),
  /** The version that holds the alias from `at` on; null when it was removed. */
  version: z.number().int().nullable(),
  previousVersion: z.number().int().nullable(),
  actor: z.string(),
  at: Timestamp,
});
export type AliasMove = z.infer<typeof AliasMove>;

export const ArtifactEntry = z.object({
  path: z.string(),
  isDir: z.boolean(),
  size: z.number().int().nullable(),
});

export const MetricSeries = z.object({
  runId: RunId,
  key: z.string(),
  /** Points in the whole series; `x`/`y` hold at most `maxPoints` of them, chosen to keep its shape. */
  total: z.number().int(),
  x: z.array(z.number()),
  y: z.array(MetricValue),
});
export type MetricSeries = z.infer<typeof MetricSeries>;

const ViewType = z.enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL']);
const runPath = '/api/v1/runs/:run';
const modelPath = '/api/v1/models/:name';

/** Which series a chart wants, and how far to reduce each. */
const ChartSeriesInput = z.object({
  runIds: z.array(RunId).min(1).max(1000),
  keys: z.array(z.string().min(1).max(250)).min(1).max(50),
  x: z.enum(['step', 'time']).default('step'),
  maxPoints: z.number().int().min(10).max(100_000).default(1000),
  method: z.enum(['lttb', 'minmax']).default('lttb'),
});

export const modelhubEndpoints = {
  'experiments.list': endpoint({
    method: 'GET',
    path: '/api/v1/experiments',
    summary: "Experiments, filtered with MLflow's filter language (`name LIKE 'churn%'`, `tags.team = 'x'`)",
    scope: 'read',
    input: z.object({
      filter: z.string().max(4000).optional(),
      view: ViewType.default('ACTIVE_ONLY'),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      pageToken: z.string().max(200).optional(),
    }),
    output: z.object({ items: z.array(Experiment), nextPageToken: z.string().nullable() }),
  }),
  'experiments.create': endpoint({
    method: 'POST',
    path: '/api/v1/experiments',
    summary: 'Create an experiment',
    scope: 'write',
    input: z.object({ name: z.string().min(1).max(500), tags: z.array(KeyValue).max(100).default([]) }),
    output: Experiment,
    status: 201,
  }),
  'experiments.get': endpoint({
    method: 'GET',
    path: '/api/v1/experiments/:experiment',
    summary: 'An experiment by id',
    scope: 'read',
    input: z.object({ experiment: ExperimentId }),
    output: Experiment,
  }),
  'runs.search': endpoint({
    method: 'POST',
    path: '/api/v1/runs/search',
    summary:
      "Search runs: `metrics.acc > 0.9 and params.lr = '0.01' and tags.team = 'x'`, ordered by any column, a page at a time",
    scope: 'read',
    input: z.object({
      experimentIds: z.array(ExperimentId).min(1).max(100),
      filter: z.string().max(4000).default(''),
      orderBy: z.array(z.string().max(500)).max(10).default([]),
      view: ViewType.default('ACTIVE_ONLY'),
      limit: z.number().int().min(1).max(1000).default(100),
      pageToken: z.string().max(200).optional(),
    }),
    output: z.object({ items: z.array(Run), nextPageToken: z.string().nullable() }),
  }),
  'runs.get': endpoint({
    method: 'GET',
    path: runPath,
    summary: 'A run: its info, latest metrics, params, tags and inputs',
    scope: 'read',
    input: z.object({ run: RunId }),
    output: Run,
  }),
  'runs.update': endpoint({
    method: 'PATCH',
    path: runPath,
    summary: 'Rename a run or set its status (a finished run gets its end time)',
    scope: 'write',
    input: z.object({ run: RunId, name: z.string().min(1).max(500).optional(), status: RunStatus.optional() }),
    output: RunInfo,
  }),
  'runs.history': endpoint({
    method: 'GET',
    path: `${runPath}/metrics/history`,
    summary: 'Every point of one metric of a run, in logging order, a page at a time',
    scope: 'read',
    input: z.object({
      run: RunId,
      key: z.string().min(1).max(250),
      limit: z.coerce.number().int().min(1).max(100_000).default(25_000),
      pageToken: z.string().max(200).optional(),
    }),
    output: z.object({ items: z.array(MetricPoint), nextPageToken: z.string().nullable() }),
  }),
  'runs.logMetrics': endpoint({
    method: 'POST',
    path: `${runPath}/metrics`,
    summary:
      'Log metric points in binary (application/octet-stream in the AIMB format: a JSON header of keys, then float64 columns; see docs/api.md), up to 10,000 a request; what the Python SDK sends',
    scope: 'write',
    input: z.object({ run: RunId }),
    output: z.object({ points: z.number().int() }),
    rawBody: { maxBytes: 4 * 1024 * 1024 },
  }),
  'runs.series': endpoint({
    method: 'POST',
    path: '/api/v1/runs/series',
    summary:
      'Chart data: metric series of many runs, each downsampled on the server (LTTB or min/max buckets) to at most maxPoints',
    scope: 'read',
    input: ChartSeriesInput,
    output: z.object({ series: z.array(MetricSeries) }),
    bulkOutput: true,
  }),
  'runs.seriesBinary': endpoint({
    method: 'POST',
    path: '/api/v1/runs/series/binary',
    summary:
      'The same chart data as runs.series in binary (application/x-aidos-series: a JSON header, then float64 columns; see docs/api.md); what the app draws from',
    scope: 'read',
    input: ChartSeriesInput,
    output: RawReplySchema,
    rawOutput: true,
  }),
  'runs.artifacts': endpoint({
    method: 'GET',
    path: `${runPath}/artifacts`,
    summary: "The files and folders directly inside a folder of a run's artifacts ('' for the top)",
    scope: 'read',
    input: z.object({ run: RunId, path: z.string().max(4096).default('') }),
    output: z.object({ items: z.array(ArtifactEntry) }),
  }),
  'runs.artifact': endpoint({
    method: 'GET',
    path: `${runPath}/artifacts/content`,
    summary: 'One artifact file of a run, as bytes with its media type',
    scope: 'read',
    input: z.object({ run: RunId, path: z.string().min(1).max(4096) }),
    output: RawReplySchema,
    rawOutput: true,
  }),
  'models.list': endpoint({
    method: 'GET',
    path: '/api/v1/models',
    summary: "Registered models, filtered with MLflow's filter language (`name LIKE 'digits%'`)",
    scope: 'read',
    input: z.object({
      filter: z.string().max(4000).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      pageToken: z.string().max(200).optional(),
    }),
    output: z.object({ items: z.array(RegisteredModel), nextPageToken: z.string().nullable() }),
  }),
  'models.create': endpoint({
    method: 'POST',
    path: '/api/v1/models',
    summary: 'Register a model name',
    scope: 'write',
    input: z.object({
      name: RegisteredModelName,
      description: z.string().max(20_000).default(''),
      tags: z.array(KeyValue).max(100).default([]),
    }),
    output: RegisteredModel,
    status: 201,
  }),
  'models.get': endpoint({
    method: 'GET',
    path: modelPath,
    summary: 'A registered model with its aliases and latest versions',
    scope: 'read',
    input: z.object({ name: RegisteredModelName }),
    output: RegisteredModel,
  }),
  'models.versions': endpoint({
    method: 'GET',
    path: `${modelPath}/versions`,
    summary: "A registered model's versions, oldest first",
    scope: 'read',
    input: z.object({
      name: RegisteredModelName,
      limit: z.coerce.number().int().min(1).max(10_000).default(1000),
      pageToken: z.string().max(200).optional(),
    }),
    output: z.object({ items: z.array(ModelVersion), nextPageToken: z.string().nullable() }),
  }),
  'models.createVersion': endpoint({
    method: 'POST',
    path: `${modelPath}/versions`,
    summary:
      "Make a version from a run's artifact folder or file (`runId` + `artifactPath`) or from a finished upload (`uploadId`); ONNX and GGUF signatures are read from the file",
    scope: 'write',
    input: z.object({
      name: RegisteredModelName,
      runId: RunId.optional(),
      artifactPath: z.string().max(4096).optional(),
      uploadId: Id.optional(),
      description: z.string().max(20_000).default(''),
      tags: z.array(KeyValue).max(100).default([]),
      aliases: z.array(z.string().max(255)).max(20).default([]),
    }),
    output: ModelVersion,
    status: 201,
  }),
  'models.version': endpoint({
    method: 'GET',
    path: `${modelPath}/versions/:version`,
    summary: 'A model version by number or alias (`champion`)',
    scope: 'read',
    input: z.object({ name: RegisteredModelName, version: z.string().min(1).max(255) }),
    output: ModelVersion,
  }),
  'models.setAlias': endpoint({
    method: 'PUT',
    path: `${modelPath}/aliases/:alias`,
    summary: 'Point an alias (`champion`, `challenger`) at a version; the move is kept in the history with who made it',
    scope: 'write',
    input: z.object({ name: RegisteredModelName, alias: z.string().min(1).max(255), version: z.number().int().min(1) }),
    output: RegisteredModel,
  }),
  'models.deleteAlias': endpoint({
    method: 'DELETE',
    path: `${modelPath}/aliases/:alias`,
    summary: 'Remove an alias (kept in the history)',
    scope: 'write',
    input: z.object({ name: RegisteredModelName, alias: z.string().min(1).max(255) }),
    output: RegisteredModel,
  }),
  'models.history': endpoint({
    method: 'GET',
    path: `${modelPath}/history`,
    summary:
      'Every alias and stage move of a model, oldest first: which version held which alias when, and who moved it',
    scope: 'read',
    input: z.object({ name: RegisteredModelName }),
    output: z.object({ items: z.array(AliasMove) }),
  }),
  'models.lineage': endpoint({
    method: 'GET',
    path: `${modelPath}/versions/:version/lineage`,
    summary: 'Where a model version comes from: its run, and the dataset versions that run used',
    scope: 'read',
    input: z.object({ name: RegisteredModelName, version: z.string().min(1).max(255) }),
    output: z.object({
      version: ModelVersion,
      run: Run.nullable(),
      inputs: z.array(RunInput),
    }),
  }),
} as const;

export const modelhubEvents = {
  'run.created': z.object({ run: RunInfo }),
  'run.updated': z.object({ run: RunInfo }),
  /** Points were logged (sent at most a few times a second per run, for live charts). */
  'run.metrics': z.object({ runId: RunId, keys: z.array(z.string()) }),
  'experiment.created': z.object({ experiment: Experiment }),
  'model.created': z.object({ name: z.string() }),
  'model.version.created': z.object({ name: z.string(), version: z.number().int() }),
  /** An alias now names `version` (null: it was removed). */
  'model.alias.moved': z.object({
    name: z.string(),
    alias: z.string(),
    version: z.number().int().nullable(),
    actor: z.string(),
  }),
} as const;
