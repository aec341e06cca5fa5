import { readFile, stat } from 'node:fs/promises';
import {
  PREPROCESSING_FORMAT,
  PREPROCESSING_METADATA_KEY,
  type Preprocessing,
  type TabularPreprocessing,
} from '#platform/builtin-training/preprocessing';
import type { DeploymentDevice, DeploymentRuntime } from '#shared/contracts/deploy';
import { AppError } from '#shared/errors';
import { GgufRuntime, type RequestStats } from './llm/runtime';
import { inspectGguf } from './llm/gguf-inspect';
import {
  OnnxRuntime,
  checkTabularModel,
  parseTabularPreprocessing,
  readServingSignature,
  type BatchTiming,
  type RequestTiming,
  type ServingSignature,
} from './onnx/index';
import { TfjsRuntime, readTfjsModelFiles } from './tfjs/index';

/**
 * The seam between deployments and the libraries that run models: one `ServingRuntime` per format. A deployment
 * asks its runtime to `prepare` a load (read the file's header, estimate memory: nothing loaded yet), decides
 * whether it fits (RAM, the VRAM arbiter), then loads. Requests reach the loaded model through the accessor of
 * its kind (`gguf` for the OpenAI routes).
 *
 * ONNX models go through `onnxServingRuntime`: `prepare` reads the signature (and the preprocessing saved beside
 * a built-in trainer's model) and estimates memory, `load` starts `OnnxRuntime` (#services/deploy/onnx) with the
 * deployment's replicas and batching settings, and the `onnx` accessor serves the KServe v2 and predict routes.
 * TF.js layers models (`model.json` and its weight shards) go through `tfjsServingRuntime`, served by the same
 * routes through the same accessor: `TfjsRuntime` (#services/deploy/tfjs) and `OnnxRuntime` are both a
 * `TensorModelRuntime` (one replica pool, batching and validation), each with its own replica threads.
 */

/** What a load is asked for, from the deployment's settings. */
export interface LoadRequest {
  path: string;
  /** The deployment's name: the `model` responses carry. */
  name: string;
  gpu: boolean;
  contextSize: number | undefined;
  parallel: number;
  maxQueue: number;
  threads: number | undefined;
  chatFormat: 'auto' | 'raw';
  /** The setting as given (`gpu` above is what `auto` resolved to for runtimes that take any GPU). */
  device: DeploymentDevice;
  /** ONNX: replica threads to start with, and the most the autoscaler may run (what memory must allow for). */
  replicas: number;
  maxReplicas: number;
  /** ONNX dynamic batching. */
  maxBatchSize: number;
  maxQueueDelayMs: number;
  /** ONNX: the built-in trainer's preprocessing.json saved with the model, if any. */
  preprocessingPath: string | null;
}

/** Memory a load needs, estimated before anything is read into memory. */
export interface LoadEstimate {
  ramBytes: number;
  vramBytes: number;
  contextSize: number;
  gpuLayers: number;
}

/** What a request finished with, reported by the runtime (tokens, time to first token). */
export type RuntimeRequestStats = RequestStats;

export interface LoadHooks {
  /** GGUF: each generation's tokens and time to first token. */
  onRequestFinished(stats: RuntimeRequestStats): void;
  /** ONNX: each `session.run` (rows and requests batched together). */
  onBatch(batch: BatchTiming): void;
  /** ONNX: each request's queue and inference time, once answered. */
  onInference(timing: RequestTiming): void;
  /** ONNX: a request refused because the queue was full. */
  onQueueFull(): void;
}

/**
 * A loaded tensor model, as the KServe v2 and predict routes use it: an ONNX model, or a TF.js one (whose
 * preprocessing, for a built-in trainer's TF.js export, is in its `model.json`).
 */
export interface OnnxModel {
  readonly runtime: OnnxRuntime | TfjsRuntime;
  /** The built-in trainer's preprocessing saved with the model; null for a plain model. */
  readonly preprocessing: Preprocessing | null;
  /** The same when the model is tabular: JSON rows can be predicted. */
  readonly tabular: TabularPreprocessing | null;
}

export interface LoadedModel {
  /** What the model serves (GGUF: `generation` or `embedding`; ONNX: `tensor` or its preprocessing's kind). */
  readonly kind: string;
  /** Requests holding a slot and waiting for one. */
  load(): { inFlight: number; queued: number };
  /** Replicas running now (GGUF: 1). */
  replicas(): number;
  /** The GGUF runtime behind the OpenAI routes; undefined for models of other runtimes. */
  readonly gguf: GgufRuntime | undefined;
  /** The ONNX or TF.js runtime behind the KServe v2 and predict routes; undefined for GGUF models. */
  readonly onnx: OnnxModel | undefined;
  /** Frees the model; requests waiting or running are refused with `reason` (default: the model was unloaded). */
  dispose(reason?: AppError): Promise<void>;
}

export interface PreparedLoad {
  estimate: LoadEstimate;
  /** What the model will serve, from its header. */
  kind: string;
  /**
   * The requests it takes, said so that two models compare (a canary must take the main version's requests):
   * tensors by name, dtype and shape, or a preprocessing's rows, images or texts; null when `kind` says it all
   * (GGUF) or only loading tells (TF.js).
   */
  accepts: string | null;
  load(hooks: LoadHooks): Promise<LoadedModel>;
}

export interface ServingRuntime {
  readonly format: DeploymentRuntime;
  /** Reads the model's header and estimates memory; a corrupted file fails here with code `invalid_model_file`. */
  prepare(request: LoadRequest): Promise<PreparedLoad>;
}

/** GGUF models through node-llama-cpp (`#services/deploy/llm`). */
export const ggufServingRuntime: ServingRuntime = {
  format: 'gguf',
  async prepare(request) {
    const gpu = request.gpu ? ('auto' as const) : false;
    const inspection = await inspectGguf(request.path, {
      contextSize: request.contextSize,
      parallel: request.parallel,
      gpu,
    });
    const { estimate, summary } = inspection;
    return {
      estimate: {
        ramBytes: estimate.ramBytes,
        vramBytes: estimate.vramBytes,
        contextSize: estimate.contextSize,
        gpuLayers: estimate.gpuLayers,
      },
      kind: summary.kind,
      accepts: null,
      load: async (hooks) => {
        const runtime = await GgufRuntime.load({
          path: request.path,
          name: request.name,
          contextSize: estimate.contextSize,
          parallel: request.parallel,
          maxQueue: request.maxQueue,
          gpu,
          chatFormat: request.chatFormat,
          inspection,
          ...(request.threads === undefined ? {} : { threads: request.threads }),
          onRequestFinished: (stats) => hooks.onRequestFinished(stats),
        });
        return {
          kind: runtime.info.kind,
          gguf: runtime,
          onnx: undefined,
          load: () => {
            const stats = runtime.stats();
            return { inFlight: stats.inFlight, queued: stats.queued };
          },
          replicas: () => 1,
          dispose: (reason) => runtime.dispose(reason),
        };
      },
    };
  },
};

const MIB = 1024 * 1024;

/**
 * The RAM (or, on the GPU, VRAM) one ONNX replica takes, estimated from the file alone: onnxruntime keeps the
 * weights (nearly all of an ONNX file's bytes) in each session, and its optimised graph, the arena of
 * intermediate tensors and the replica's worker thread (a V8 isolate of its own, about 10 MiB) add to them. A
 * quarter of the file's size plus 32 MiB covers those for the models served here (digits MLP: a 26 KiB file,
 * about 30 MiB per replica measured as the process's RSS growth); the arena grows with batch size, so large
 * batches of large activations may exceed it.
 */
function onnxReplicaBytes(fileBytes: number): number {
  return Math.ceil(fileBytes * 1.25) + 32 * MIB;
}

/** A preprocessing.json saved with a model: FAILED_PRECONDITION naming the file when it cannot be used. */
async function readPreprocessing(file: string, signature: ServingSignature, model: string): Promise<Preprocessing> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new AppError(
      'FAILED_PRECONDITION',
      `preprocessing '${file}' cannot be read: ${err instanceof Error ? err.message : String(err)}`,
      { file },
    );
  }
  return checkPreprocessing(value, file, signature, model);
}

/** `PreparedLoad.accepts` of an ONNX model: its preprocessing's input when it has one, else its input tensors. */
function onnxAccepts(signature: ServingSignature, preprocessing: Preprocessing | null): string {
  switch (preprocessing?.kind) {
    case 'tabular-classifier':
    case 'tabular-regressor':
      return `rows with the columns ${[...new Set(preprocessing.features.map((f) => f.column))].sort().join(', ')}`;
    case 'image-classifier':
      return 'images';
    case 'text-classifier':
      return `texts in the column ${preprocessing.textColumn}`;
    default:
      return signature.inputs
        .map((i) => `${i.name} ${i.dtype} [${i.shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`)
        .join(', ');
  }
}

/** The tabular preprocessing among a model's, or null. */
function tabularOf(preprocessing: Preprocessing | null): TabularPreprocessing | null {
  return preprocessing?.kind === 'tabular-classifier' || preprocessing?.kind === 'tabular-regressor'
    ? preprocessing
    : null;
}

/**
 * A preprocessing read from `file` (a preprocessing.json, or the `model.json` whose metadata carries it), checked:
 * a tabular one against the model's signature. FAILED_PRECONDITION naming the file when it cannot be used.
 */
function checkPreprocessing(value: unknown, file: string, signature: ServingSignature, model: string): Preprocessing {
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (kind === 'tabular-classifier' || kind === 'tabular-regressor') {
    const tabular = parseTabularPreprocessing(value, file);
    checkTabularModel(tabular, signature, model);
    return tabular;
  }
  const pre = value as Partial<Preprocessing> | null;
  if (pre?.format !== PREPROCESSING_FORMAT || (kind !== 'image-classifier' && kind !== 'text-classifier')) {
    throw new AppError(
      'FAILED_PRECONDITION',
      `preprocessing '${file}' is not a built-in trainer's (${PREPROCESSING_FORMAT})`,
      {
        file,
      },
    );
  }
  return value as Preprocessing;
}

/** The signature of a model file; one that cannot be read is the deployment's fault (`invalid_model_file`). */
async function onnxSignature(file: string): Promise<ServingSignature> {
  try {
    return await readServingSignature(file);
  } catch (err) {
    if (err instanceof AppError && (err.code === 'INVALID_ARGUMENT' || err.code === 'NOT_FOUND')) {
      throw new AppError('FAILED_PRECONDITION', err.message, { code: 'invalid_model_file' });
    }
    throw err;
  }
}

/**
 * ONNX models through onnxruntime-node in replica threads (`#services/deploy/onnx`). The device is the GPU only
 * when the deployment asks for `gpu` (onnxruntime's CUDA provider, which fails clearly without CUDA): `auto` stays
 * on the CPU, since a GPU being present does not mean onnxruntime-node can use it.
 */
export const onnxServingRuntime: ServingRuntime = {
  format: 'onnx',
  async prepare(request) {
    const signature = await onnxSignature(request.path);
    const preprocessing =
      request.preprocessingPath === null
        ? null
        : await readPreprocessing(request.preprocessingPath, signature, request.path);
    const { size } = await stat(request.path);
    const gpu = request.device === 'gpu';
    // Memory for the most replicas the autoscaler may run, so that scaling up never runs out of it.
    const perReplica = onnxReplicaBytes(size);
    const replicas = Math.max(request.replicas, request.maxReplicas);
    const kind = preprocessing?.kind ?? 'tensor';
    return {
      estimate: {
        ramBytes: gpu ? replicas * 32 * MIB + size : replicas * perReplica,
        vramBytes: gpu ? replicas * perReplica : 0,
        contextSize: 0,
        gpuLayers: 0,
      },
      kind,
      accepts: onnxAccepts(signature, preprocessing),
      load: async (hooks) => {
        const runtime = await OnnxRuntime.load(request.path, {
          device: gpu ? 'gpu' : 'cpu',
          replicas: request.replicas,
          intraOpNumThreads: request.threads ?? 1,
          maxBatchSize: request.maxBatchSize,
          maxQueueDelayMs: request.maxQueueDelayMs,
          maxQueueSize: Math.max(1, request.maxQueue),
          onBatch: (batch) => hooks.onBatch(batch),
          onRequest: (timing) => hooks.onInference(timing),
          onQueueFull: () => hooks.onQueueFull(),
        });
        const tabular = tabularOf(preprocessing);
        return {
          kind,
          gguf: undefined,
          onnx: { runtime, preprocessing, tabular },
          load: () => {
            const stats = runtime.stats();
            return { inFlight: stats.inFlight, queued: stats.queueDepth };
          },
          replicas: () => runtime.replicas,
          dispose: (reason) => runtime.close(reason),
        };
      },
    };
  },
};

/**
 * The RAM one TF.js replica takes: its thread's isolate with TF.js and the wasm backend loaded (measured as the
 * process's RSS growth: about 60 MiB for the first replica, 15 for each next one, which shares the compiled code;
 * from source, with tsx in the thread, twice that), and the weights twice (the shards as read, then the backend's
 * own copy of each tensor). 64 MiB a replica covers the first and leaves room for activations on the others.
 */
function tfjsReplicaBytes(modelBytes: number): number {
  return modelBytes * 2 + 64 * MIB;
}

/**
 * TF.js layers models through TF.js in replica threads (`#services/deploy/tfjs`), on the CPU: the wasm backend
 * (tfjs-node's native one when it is installed, the cpu backend when wasm cannot start). `prepare` checks the
 * model's files (`model.json`, every weight shard present and of the size its manifest needs).
 */
export const tfjsServingRuntime: ServingRuntime = {
  format: 'tfjs',
  async prepare(request) {
    if (request.device === 'gpu')
      throw new AppError(
        'FAILED_PRECONDITION',
        "device 'gpu': TF.js models are served on the CPU (TF.js's wasm backend); use device 'cpu' or 'auto'",
        { field: 'device' },
      );
    let files;
    try {
      files = await readTfjsModelFiles(request.path);
    } catch (err) {
      if (err instanceof AppError && (err.code === 'INVALID_ARGUMENT' || err.code === 'NOT_FOUND'))
        throw new AppError('FAILED_PRECONDITION', err.message, { code: 'invalid_model_file' });
      throw err;
    }
    const replicas = Math.max(request.replicas, request.maxReplicas);
    // Where TrainOS's TF.js export keeps the built-in trainer's preprocessing.
    const metadata = files.json.userDefinedMetadata as Record<string, unknown> | undefined;
    const saved = metadata?.[PREPROCESSING_METADATA_KEY];
    const kind = (saved as { kind?: unknown } | undefined)?.kind;
    return {
      estimate: { ramBytes: replicas * tfjsReplicaBytes(files.totalBytes), vramBytes: 0, contextSize: 0, gpuLayers: 0 },
      kind: typeof kind === 'string' ? kind : 'tensor',
      accepts: null,
      load: async (hooks) => {
        const runtime = await TfjsRuntime.load(request.path, {
          replicas: request.replicas,
          maxBatchSize: request.maxBatchSize,
          maxQueueDelayMs: request.maxQueueDelayMs,
          maxQueueSize: Math.max(1, request.maxQueue),
          onBatch: (batch) => hooks.onBatch(batch),
          onRequest: (timing) => hooks.onInference(timing),
          onQueueFull: () => hooks.onQueueFull(),
        });
        let preprocessing: Preprocessing | null = null;
        try {
          // Checked once loaded: TF.js states the model's signature only then.
          if (saved !== undefined)
            preprocessing = checkPreprocessing(saved, request.path, runtime.signature, request.path);
        } catch (err) {
          await runtime.close();
          throw err;
        }
        return {
          kind: preprocessing?.kind ?? 'tensor',
          gguf: undefined,
          onnx: { runtime, preprocessing, tabular: tabularOf(preprocessing) },
          load: () => {
            const stats = runtime.stats();
            return { inFlight: stats.inFlight, queued: stats.queueDepth };
          },
          replicas: () => runtime.replicas,
          dispose: (reason) => runtime.close(reason),
        };
      },
    };
  },
};

/** The runtimes deployments can use, by format. */
export const SERVING_RUNTIMES: Partial<Record<DeploymentRuntime, ServingRuntime>> = {
  gguf: ggufServingRuntime,
  onnx: onnxServingRuntime,
  tfjs: tfjsServingRuntime,
};

/** The runtime of a format, or a 400 saying why it cannot be deployed. */
export function runtimeFor(
  runtimes: Partial<Record<DeploymentRuntime, ServingRuntime>>,
  format: string,
  field: string,
): ServingRuntime {
  if (format !== 'gguf' && format !== 'onnx' && format !== 'tfjs') {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${field}: the model's format is '${format}'; DeployEngine serves GGUF, ONNX and TF.js models` +
        (field === 'file' ? " (an ONNX file is known by its .onnx name, or by runtime 'onnx')" : ''),
      { field, format },
    );
  }
  const runtime = runtimes[format];
  if (!runtime) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${field}: ${format.toUpperCase()} deployments are not served here (the ${format} runtime is not wired in)`,
      { field, format },
    );
  }
  return runtime;
}

/** A runtime as a sentence says it: "a GGUF", "an ONNX", "a TF.js". */
export function aRuntime(runtime: string): string {
  const name = runtime === 'tfjs' ? 'TF.js' : runtime.toUpperCase();
  return `${/^[AEFHILMNORSX]/.test(name) ? 'an' : 'a'} ${name}`;
}
