import { z } from 'zod';
import { endpoint, noInput } from '../api/endpoint';
import { Id, Ok, Timestamp, page } from './common';
import { V2Datatype } from './deploy-v2';

/**
 * DeployEngine: deployments of model versions (or model files) behind a runtime chosen by format, with states,
 * events, a sampled request log and per-deployment statistics. The inference APIs themselves (OpenAI's `/v1/...`
 * for GGUF models, KServe's Open Inference Protocol `/v2/...` for ONNX models, in `deploy-v2.ts`) are other
 * products' wire formats and are not declared here; `deployments.predict` is AI-DOS's own, for ONNX models.
 */

/** Used as the OpenAI `model` id and in paths: letters, digits, `.`, `_`, `-`; starts with a letter or digit. */
/**
 * A request header of the inference routes: `off` keeps the request out of its deployment's request log (it is
 * counted in the metrics all the same): synthetic traffic such as load benchmarks, which drift checks would
 * otherwise take for clients' requests, or data that must not be kept.
 */
export const REQUEST_LOG_HEADER = 'x-aidos-request-log';

export const DeploymentName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-", starting with a letter or digit');

/** A deployment by its id or its name. */
export const DeploymentRef = z.string().min(1).max(128);

/** What a deployment serves with: one runtime per model format (TF.js: a `model.json` and its weight shards). */
export const DeploymentRuntime = z.enum(['gguf', 'onnx', 'tfjs']);
export type DeploymentRuntime = z.infer<typeof DeploymentRuntime>;

/**
 * `pending`: wanted but not loaded (it loads at start, or on its first request when `minReplicas` is 0);
 * `loading`; `ready`: serving; `idle-unloaded`: unloaded after its idle timeout or to make room for a training job
 * (the next request loads it again); `stopped`: by a person, refuses requests; `failed`: loading failed (`reason`).
 */
export const DEPLOYMENT_STATES = ['pending', 'loading', 'ready', 'idle-unloaded', 'stopped', 'failed'] as const;
export const DeploymentState = z.enum(DEPLOYMENT_STATES);
export type DeploymentState = z.infer<typeof DeploymentState>;

/** `auto`: the GPU when there is one and the runtime can use it, else the CPU. */
export const DeploymentDevice = z.enum(['auto', 'cpu', 'gpu']);
export type DeploymentDevice = z.infer<typeof DeploymentDevice>;

/** A model version (`2`) or an alias (`@champion`); a bare alias name is accepted too. Default: the newest. */
export const VersionSelector = z.union([
  z.number().int().positive(),
  z
    .string()
    .min(1)
    .max(256)
    .regex(/^@?[A-Za-z0-9_-]+$/, 'must be a version number or an alias (@name)'),
]);

/** Which requests are written to the request log (EvalKit reads it), and how much of each. */
export const RequestLogSettings = z.object({
  /** The share of requests logged, 0 (none) to 1 (all). */
  sampleRate: z.number().min(0).max(1).default(1),
  /** Inputs and outputs are cut to this many characters (and marked truncated). */
  maxChars: z.number().int().min(64).max(1_000_000).default(4096),
});
export type RequestLogSettings = z.infer<typeof RequestLogSettings>;

/**
 * How an ONNX deployment's replicas follow its load, between `minReplicas` (at least 1 while loaded) and
 * `maxReplicas`. Every `intervalMs` the controller looks at the requests answered since its last look: one replica
 * more when the mean queue depth (requests waiting, averaged over the interval) reaches `scaleUpQueueDepth`, the
 * p95 latency reaches `scaleUpP95Ms`, or requests were refused with a full queue (`maxQueue`); one fewer after three
 * intervals in a row in which the replicas were busy less than `scaleDownUtilization` of the time and the queue
 * stayed under half the threshold (an interval without requests always counts). Scaling to zero is
 * `idleUnloadSeconds`. GGUF deployments run one replica and ignore this.
 */
export const AutoscalingSettings = z.object({
  intervalMs: z.number().int().min(50).max(600_000).default(5000),
  scaleUpQueueDepth: z.number().positive().max(100_000).default(2),
  /** Null: latency is not a reason to scale up. */
  scaleUpP95Ms: z.number().positive().max(600_000).nullable().default(null),
  scaleDownUtilization: z.number().min(0).max(1).default(0.3),
});
export type AutoscalingSettings = z.infer<typeof AutoscalingSettings>;

/**
 * The nested settings as a PATCH sends them: any of their fields, the others left as they are (a `partial()` of
 * the settings would fill them with defaults), no unknown ones.
 */
const AutoscalingPatch = z.strictObject({
  intervalMs: AutoscalingSettings.shape.intervalMs.unwrap().optional(),
  scaleUpQueueDepth: AutoscalingSettings.shape.scaleUpQueueDepth.unwrap().optional(),
  scaleUpP95Ms: AutoscalingSettings.shape.scaleUpP95Ms.unwrap().optional(),
  scaleDownUtilization: AutoscalingSettings.shape.scaleDownUtilization.unwrap().optional(),
});
const RequestLogPatch = z.strictObject({
  sampleRate: RequestLogSettings.shape.sampleRate.unwrap().optional(),
  maxChars: RequestLogSettings.shape.maxChars.unwrap().optional(),
});

/** Settings a deployment can change after creation (a change that affects loading reloads a loaded model). */
export const DeploymentSettings = z.object({
  device: DeploymentDevice.default('auto'),
  /** Tokens per sequence (GGUF); default the model's training context, at most 4096. */
  contextSize: z.number().int().min(16).max(1_048_576).optional(),
  /** Requests served at once (GGUF: sequences of one context). */
  parallel: z.number().int().min(1).max(64).default(1),
  /** Requests that may wait for a slot (ONNX: for a replica); more get a 429. */
  maxQueue: z.number().int().min(0).max(10_000).default(32),
  /**
   * 0: loaded on its first request (scale from zero); ≥ 1: loaded when created, started, and when the app starts.
   * GGUF deployments run one replica (with `parallel` sequences); ONNX deployments start with
   * `max(1, minReplicas)` replica threads and autoscale up to `maxReplicas`.
   */
  minReplicas: z.number().int().min(0).max(16).default(1),
  maxReplicas: z.number().int().min(1).max(16).default(1),
  /** Unload after this many seconds without requests; the next request loads it again. Null: never. */
  idleUnloadSeconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .nullable()
    .default(null),
  /**
   * CPU threads per evaluation. GGUF: default the runtime's (all cores). ONNX: each replica session's
   * `intraOpNumThreads`, default 1 (replicas, not threads, are how ONNX deployments scale).
   */
  threads: z.number().int().min(1).max(256).optional(),
  /**
   * ONNX dynamic batching: concurrent requests are concatenated along dim 0 into one `session.run` of at most this
   * many rows (for models whose inputs have a dynamic dim 0); a single request with more rows is refused. 0: off.
   */
  maxBatchSize: z.number().int().min(0).max(4096).default(32),
  /**
   * ONNX dynamic batching: how long a request may wait at most for others to join its batch. The wait is adaptive:
   * a batch goes as soon as an event-loop turn passes without a new request, so a lone request does not wait.
   */
  maxQueueDelayMs: z.number().min(0).max(1000).default(2),
  autoscaling: AutoscalingSettings.default({
    intervalMs: 5000,
    scaleUpQueueDepth: 2,
    scaleUpP95Ms: null,
    scaleDownUtilization: 0.3,
  }),
  /** GGUF chat prompts: `auto` (the file's chat template, raw when it has none) or `raw` (contents concatenated). */
  chatFormat: z.enum(['auto', 'raw']).default('auto'),
  requestLog: RequestLogSettings.default({ sampleRate: 1, maxChars: 4096 }),
});
export type DeploymentSettings = z.infer<typeof DeploymentSettings>;

/**
 * The `preprocessing.json` saved beside an ONNX model by TrainOS's built-in trainers (in the version's artifact
 * folder, or beside a model file): how `deployments.predict` turns JSON rows into the model's input.
 */
export const PreprocessingFile = z.object({ path: z.string(), sha256: z.string().nullable() });

/** Where a deployment's model comes from: a registered version, or a file on this machine. */
export const DeploymentSource = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('model-version'),
    model: z.string(),
    version: z.number().int(),
    /** The alias it was deployed by (`champion`), if any: it is not followed when the alias moves. */
    alias: z.string().nullable(),
    format: z.string(),
    path: z.string(),
    sha256: z.string().nullable(),
    preprocessing: PreprocessingFile.nullable().optional(),
  }),
  z.object({
    kind: z.literal('file'),
    format: z.string(),
    path: z.string(),
    sha256: z.string().nullable(),
    preprocessing: PreprocessingFile.nullable().optional(),
  }),
]);
export type DeploymentSource = z.infer<typeof DeploymentSource>;

/**
 * A second model version served beside the main one: `canary` answers `percent` of the requests (chosen at random
 * per request); `shadow` is sent every request as well, after the main version has answered, and its answers are
 * discarded (they only count in its per-version metrics). It loads its own replicas next to the main version's.
 */
export const TrafficMode = z.enum(['canary', 'shadow']);
export type TrafficMode = z.infer<typeof TrafficMode>;

export const DeploymentTraffic = z.object({
  mode: TrafficMode,
  /** The share of requests the canary answers, 0–100 (a shadow sees all of them: 100). */
  percent: z.number().min(0).max(100),
  /** The second version (always a registered model version). */
  source: DeploymentSource,
});
export type DeploymentTraffic = z.infer<typeof DeploymentTraffic>;

/** How `deployments.update` sets the second version; `traffic: null` clears it. */
export const TrafficInput = z.object({
  mode: TrafficMode,
  /** A version of the deployment's model other than the one it serves (a number or `@alias`). */
  version: VersionSelector,
  /** Canary only, required: the share of requests (0–100) it answers. */
  percent: z.number().min(0).max(100).optional(),
});
export type TrafficInput = z.infer<typeof TrafficInput>;

/** The memory a load needs, as estimated before loading. */
export const MemoryEstimate = z.object({
  ramBytes: z.number(),
  vramBytes: z.number(),
  contextSize: z.number().int(),
  gpuLayers: z.number().int(),
});

export const Deployment = DeploymentSettings.extend({
  id: Id,
  name: DeploymentName,
  runtime: DeploymentRuntime,
  source: DeploymentSource,
  /** The source before the last change of model or file: what `rollback` returns to. */
  previousSource: DeploymentSource.nullable(),
  /** A canary or shadow version served beside the main one (null: none). */
  traffic: DeploymentTraffic.nullable(),
  state: DeploymentState,
  /** Why it failed, was stopped or unloaded. */
  reason: z.string().nullable(),
  /**
   * What the loaded model serves (GGUF: `generation` or `embedding`; ONNX: `tensor`, or with its preprocessing
   * `tabular-classifier`, `tabular-regressor`, `image-classifier`, `text-classifier`); null until first loaded.
   */
  modelKind: z.string().nullable(),
  /** A loaded tabular model's feature columns, each row of a predict request needs them; otherwise null. */
  inputColumns: z.array(z.string()).nullable(),
  /** Where it runs while loaded: `cpu` or `gpu <index>`. */
  placement: z.string().nullable(),
  /** Replicas running now (ONNX: as the autoscaler set them; GGUF: 1); null while not loaded. */
  replicas: z.number().int().nullable(),
  estimate: MemoryEstimate.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  loadedAt: Timestamp.nullable(),
  lastRequestAt: Timestamp.nullable(),
});
export type Deployment = z.infer<typeof Deployment>;

const SourceInput = {
  /** A registered model's name (with `version`), or… */
  model: z.string().min(1).max(256).optional(),
  version: VersionSelector.optional(),
  /** …an absolute path to a model file on this machine (a quick start without registering it). */
  file: z.string().min(1).max(4096).optional(),
};

export const DeploymentInput = DeploymentSettings.extend({
  /** Default: the model's name (or the file's name without its extension). */
  name: DeploymentName.optional(),
  ...SourceInput,
  /**
   * What serves it; default the one of the model's format. `tfjs` also serves an ONNX version that carries a TF.js
   * export (`model/tfjs/`, written by TrainOS's built-in trainers); any other runtime must match the format.
   */
  runtime: DeploymentRuntime.optional(),
  // Strict inside too: a misspelt key here (`sampleRte`) would leave the default in force.
  autoscaling: AutoscalingSettings.strict().default(DeploymentSettings.shape.autoscaling.def.defaultValue),
  requestLog: RequestLogSettings.strict().default(DeploymentSettings.shape.requestLog.def.defaultValue),
}).strict();
export type DeploymentInput = z.input<typeof DeploymentInput>;

/** Strict: a field that cannot be changed (name, runtime) or is misspelt is refused, not silently dropped. */
export const DeploymentUpdate = z.strictObject({
  deployment: DeploymentRef,
  device: DeploymentDevice.optional(),
  contextSize: z.number().int().min(16).max(1_048_576).nullable().optional(),
  parallel: z.number().int().min(1).max(64).optional(),
  maxQueue: z.number().int().min(0).max(10_000).optional(),
  minReplicas: z.number().int().min(0).max(16).optional(),
  maxReplicas: z.number().int().min(1).max(16).optional(),
  idleUnloadSeconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .nullable()
    .optional(),
  threads: z.number().int().min(1).max(256).nullable().optional(),
  chatFormat: z.enum(['auto', 'raw']).optional(),
  maxBatchSize: z.number().int().min(0).max(4096).optional(),
  maxQueueDelayMs: z.number().min(0).max(1000).optional(),
  autoscaling: AutoscalingPatch.optional(),
  requestLog: RequestLogPatch.optional(),
  /** Another version of the same model (the current one becomes `previousSource`). */
  version: VersionSelector.optional(),
  /** Another file, for a file deployment. */
  file: z.string().min(1).max(4096).optional(),
  /** A canary or shadow version beside the main one; null clears it (its replicas are unloaded). */
  traffic: TrafficInput.nullable().optional(),
});
export type DeploymentUpdate = z.input<typeof DeploymentUpdate>;

export const DeploymentEvent = z.object({
  id: Id,
  deploymentId: Id,
  at: Timestamp,
  state: DeploymentState,
  message: z.string(),
});
export type DeploymentEvent = z.infer<typeof DeploymentEvent>;

/** One logged request: what came in and went out, cut to the deployment's `requestLog.maxChars`. */
export const RequestLogEntry = z.object({
  id: Id,
  deploymentId: Id,
  at: Timestamp,
  /** `chat`, `completion`, `embedding` (GGUF); `infer` (KServe v2), `predict` (ONNX). */
  endpoint: z.string(),
  /** The model version served (null for file deployments). */
  modelVersion: z.number().int().nullable(),
  status: z.enum(['ok', 'error', 'cancelled']),
  /** HTTP status sent (499 for a request whose client left first). */
  httpStatus: z.number().int(),
  durationMs: z.number(),
  promptTokens: z.number().int().nullable(),
  completionTokens: z.number().int().nullable(),
  input: z.string(),
  output: z.string().nullable(),
  error: z.string().nullable(),
  truncated: z.boolean(),
});
export type RequestLogEntry = z.infer<typeof RequestLogEntry>;

const Latency = z.object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() });

const RequestCounts = z.object({ total: z.number().int(), errors: z.number().int(), cancelled: z.number().int() });

/**
 * One model version's figures since the app started. `role`: what it is to the deployment now (`main`, `canary`,
 * `shadow`, or `retired` for a version it served earlier). A shadow's requests are the mirrored ones.
 */
export const VersionStats = z.object({
  /** Null for a file deployment. */
  version: z.number().int().nullable(),
  role: z.enum(['main', 'canary', 'shadow', 'retired']),
  requests: RequestCounts,
  /** Of the last 1,000 requests that succeeded, in ms. */
  latencyMs: Latency,
  tokens: z.object({ prompt: z.number().int(), completion: z.number().int() }),
  /** This version's replicas, and requests running on it and waiting for it, now (0 while not loaded). */
  replicas: z.number().int(),
  inFlight: z.number().int(),
  queued: z.number().int(),
});
export type VersionStats = z.infer<typeof VersionStats>;

export const DeploymentStats = z.object({
  id: Id,
  name: DeploymentName,
  state: DeploymentState,
  /** Since the app started: the requests clients sent (mirrored shadow requests are counted in `versions`). */
  requests: RequestCounts,
  /** Of the last 1,000 requests that succeeded, in ms. */
  latencyMs: Latency,
  timeToFirstTokenMs: Latency,
  tokens: z.object({ prompt: z.number().int(), completion: z.number().int() }),
  /** Decoding speed of the last generation. */
  lastTokensPerSecond: z.number().nullable(),
  /** Requests running and waiting now, on the main version and the canary or shadow. */
  inFlight: z.number().int(),
  queued: z.number().int(),
  /** The main version's replicas running now (the canary's or shadow's are in `versions`); 0 while not loaded. */
  replicas: z.number().int(),
  /** ONNX: `session.run` calls since the app started and their mean rows (dynamic batching at work when > 1). */
  batches: z.object({ total: z.number().int(), meanRows: z.number().nullable() }),
  /** Per model version: the main one first, then the canary or shadow, then retired ones. */
  versions: z.array(VersionStats),
});
export type DeploymentStats = z.infer<typeof DeploymentStats>;

/** A JSON tensor for `deployments.predict`: row-major data, flat or nested; `datatype` defaults to the model's. */
export const PredictTensor = z.object({
  shape: z.array(z.number().int().nonnegative()),
  datatype: V2Datatype.optional(),
  data: z.array(z.unknown()).meta({ description: 'flat or nested array of numbers, booleans or strings' }),
});

export const PredictInput = z.object({
  deployment: DeploymentRef,
  /**
   * Tabular models (TrainOS's built-in tabular trainers): one object of column values per row. Every feature
   * column must be given (null for a value that is not known); the target column is ignored.
   */
  rows: z.array(z.record(z.string(), z.unknown())).min(1).max(100_000).optional(),
  /** Any ONNX model: its input tensors by name. */
  inputs: z.record(z.string(), PredictTensor).optional(),
});
export type PredictInput = z.input<typeof PredictInput>;

/** Classifiers: the most probable label and every label's probability; the regressor: the value. */
export const TabularPrediction = z.union([
  z.object({ label: z.string(), probabilities: z.record(z.string(), z.number()) }),
  z.object({ value: z.number() }),
]);
export type TabularPrediction = z.infer<typeof TabularPrediction>;

export const PredictOutput = z.object({
  deployment: DeploymentName,
  /** The model version that answered (null for file deployments). */
  modelVersion: z.number().int().nullable(),
  /**
   * The request's id in the deployment's request log (what `monitors.labels` takes to record its ground truth);
   * null when the request was not sampled into the log.
   */
  requestId: Id.nullable(),
  /** For `rows`: one prediction per row, in order. */
  predictions: z.array(TabularPrediction).optional(),
  /** For `inputs`: every output tensor of the model, flat row-major data. */
  outputs: z
    .record(
      z.string(),
      z.object({
        shape: z.array(z.number().int()),
        datatype: V2Datatype,
        data: z.array(z.union([z.number(), z.boolean(), z.string()])),
      }),
    )
    .optional(),
});
export type PredictOutput = z.infer<typeof PredictOutput>;

const Ref = z.object({ deployment: DeploymentRef });
const path = '/api/v1/deployments/:deployment';

export const deployEndpoints = {
  'deployments.list': endpoint({
    method: 'GET',
    path: '/api/v1/deployments',
    summary: 'Every deployment, by name',
    scope: 'read',
    input: noInput,
    output: z.object({ items: z.array(Deployment) }),
  }),
  'deployments.create': endpoint({
    method: 'POST',
    path: '/api/v1/deployments',
    summary:
      "Deploy a registered model version (`model` + `version` number or `@alias`) or a model file (`file`); the runtime follows the format unless `runtime` is given (`tfjs` serves an ONNX version's TF.js export). Refused when the memory estimate does not fit; a model that cannot load ends 'failed' with the reason",
    scope: 'write',
    input: DeploymentInput,
    output: Deployment,
    status: 201,
  }),
  'deployments.get': endpoint({
    method: 'GET',
    path,
    summary: 'A deployment by id or name',
    scope: 'read',
    input: Ref,
    output: Deployment,
  }),
  'deployments.update': endpoint({
    method: 'PATCH',
    path,
    summary: 'Change settings or the model version; a loaded model reloads when the change affects loading',
    scope: 'write',
    input: DeploymentUpdate,
    output: Deployment,
  }),
  'deployments.start': endpoint({
    method: 'POST',
    path: `${path}/start`,
    summary: 'Load a stopped, failed or unloaded deployment (waits for the load; a failure leaves it failed)',
    scope: 'write',
    input: Ref,
    output: Deployment,
  }),
  'deployments.stop': endpoint({
    method: 'POST',
    path: `${path}/stop`,
    summary: 'Unload it and refuse requests until started again',
    scope: 'write',
    input: Ref,
    output: Deployment,
  }),
  'deployments.rollback': endpoint({
    method: 'POST',
    path: `${path}/rollback`,
    summary: 'Serve the previous model version (or file) again, swapping it with the current one',
    scope: 'write',
    input: Ref,
    output: Deployment,
  }),
  'deployments.promote': endpoint({
    method: 'POST',
    path: `${path}/promote`,
    summary:
      'Make the canary (or shadow) version the main one; the old main version becomes the rollback target and the traffic split is cleared',
    scope: 'write',
    input: Ref,
    output: Deployment,
  }),
  'deployments.delete': endpoint({
    method: 'DELETE',
    path,
    summary: 'Unload and delete a deployment with its events and request log',
    scope: 'write',
    input: Ref,
    output: Ok,
  }),
  'deployments.stats': endpoint({
    method: 'GET',
    path: `${path}/stats`,
    summary: 'Requests, errors, latency percentiles, tokens and queue depth since the app started',
    scope: 'read',
    input: Ref,
    output: DeploymentStats,
  }),
  'deployments.events': endpoint({
    method: 'GET',
    path: `${path}/events`,
    summary: "A deployment's state changes, newest first",
    scope: 'read',
    input: Ref.extend({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
    output: z.object({ items: z.array(DeploymentEvent) }),
  }),
  'deployments.logs': endpoint({
    method: 'GET',
    path: `${path}/logs`,
    summary:
      "A page of the deployment's request log, newest first (pass nextCursor back as cursor); only one status or model version if asked",
    scope: 'read',
    input: Ref.extend({
      limit: z.coerce.number().int().min(1).max(500).default(50),
      cursor: Id.optional(),
      status: z.enum(['ok', 'error', 'cancelled']).optional(),
      version: z.coerce.number().int().positive().optional(),
    }),
    output: page(RequestLogEntry),
  }),
  'deployments.predict': endpoint({
    method: 'POST',
    path: `${path}/predict`,
    summary:
      'Predict with an ONNX deployment: JSON `rows` for a tabular model (its saved preprocessing applied) or input tensors by name (`inputs`); loads it first when scaled to zero',
    scope: 'read',
    input: PredictInput,
    output: PredictOutput,
    bulkOutput: true,
  }),
} as const;

export const deployEvents = {
  /** A deployment was created, changed state or settings, or was deleted (`deleted: true`). */
  'deploy.deployment.updated': z.object({ deployment: Deployment, deleted: z.boolean().default(false) }),
} as const;
