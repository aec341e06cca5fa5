import type { DeploymentRuntime } from '#shared/contracts/deploy';
import { AppError } from '#shared/errors';
import { GgufRuntime, type RequestStats } from './llm/runtime';
import { inspectGguf } from './llm/gguf-inspect';

/**
 * The seam between deployments and the libraries that run models: one `ServingRuntime` per format. A deployment
 * asks its runtime to `prepare` a load (read the file's header, estimate memory: nothing loaded yet), decides
 * whether it fits (RAM, the VRAM arbiter), then loads. Requests reach the loaded model through the accessor of
 * its kind (`gguf` for the OpenAI routes).
 *
 * ONNX plugs in here: an `onnx` entry whose `prepare` reads the signature and estimates the session's memory
 * (weights × replicas), whose `load` starts `OnnxRuntime` (#services/deploy/onnx) with `minReplicas` replicas and
 * the batching settings, and whose `LoadedModel` gains an `onnx` accessor for the KServe v2 and predict routes.
 * Until it is wired, `runtimeFor('onnx')` refuses with a 400.
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
  onRequestFinished(stats: RuntimeRequestStats): void;
}

export interface LoadedModel {
  /** What the model serves (GGUF: `generation` or `embedding`). */
  readonly kind: string;
  /** Requests holding a slot and waiting for one. */
  load(): { inFlight: number; queued: number };
  /** The GGUF runtime behind the OpenAI routes; undefined for models of other runtimes. */
  readonly gguf: GgufRuntime | undefined;
  dispose(): Promise<void>;
}

export interface PreparedLoad {
  estimate: LoadEstimate;
  /** What the model will serve, from its header. */
  kind: string;
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
          load: () => {
            const stats = runtime.stats();
            return { inFlight: stats.inFlight, queued: stats.queued };
          },
          dispose: () => runtime.dispose(),
        };
      },
    };
  },
};

/** The runtimes deployments can use now, by format. */
export const SERVING_RUNTIMES: Partial<Record<DeploymentRuntime, ServingRuntime>> = { gguf: ggufServingRuntime };

/** The runtime of a format, or a 400 saying why it cannot be deployed. */
export function runtimeFor(
  runtimes: Partial<Record<DeploymentRuntime, ServingRuntime>>,
  format: string,
  field: string,
): ServingRuntime {
  if (format !== 'gguf' && format !== 'onnx') {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${field}: the model's format is '${format}'; DeployEngine serves GGUF models (ONNX soon)`,
      { field, format },
    );
  }
  const runtime = runtimes[format];
  if (!runtime) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${field}: ${format.toUpperCase()} deployments are not served yet (the ${format} runtime is not wired in); deploy a GGUF model`,
      { field, format },
    );
  }
  return runtime;
}
