import type { OnnxReplicaReady, ReplicaInit } from '#platform/onnx-serving/protocol';
import { AppError } from '#shared/errors';
import { ReplicaPool } from './replica-pool';
import { readServingSignature, type ServingSignature } from './signature';
import { checkInt, checkTensorRuntimeOptions, TensorModelRuntime, type TensorRuntimeOptions } from './tensor-runtime';

export interface OnnxRuntimeOptions extends TensorRuntimeOptions {
  /** 'gpu' asks for onnxruntime's CUDA execution provider and fails clearly when it cannot load. Default 'cpu'. */
  device?: 'cpu' | 'gpu';
  /** Threads of each session's operators. Default 1: replicas, not threads, are the unit of scaling. */
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
}

/**
 * DeployEngine's ONNX runtime for one model file: `TensorModelRuntime`'s replica pool and batching, with replica
 * threads of src/workers/onnx-replica.ts, each with its own onnxruntime `InferenceSession`. The signature is read
 * from the file (ModelHub's reader) before any replica starts.
 */
export class OnnxRuntime extends TensorModelRuntime {
  private constructor(file: string, signature: ServingSignature, pool: ReplicaPool, options: OnnxRuntimeOptions) {
    super(file, signature, pool, 'ONNX', options);
  }

  /**
   * Reads and checks the model's signature, then starts the replicas, each loading the file: resolves when all
   * are ready. A missing file is NOT_FOUND, a corrupt or truncated one INVALID_ARGUMENT, one onnxruntime cannot
   * load (unsupported operators, no CUDA for device 'gpu') FAILED_PRECONDITION; messages name the file.
   */
  static async load(file: string, options: OnnxRuntimeOptions = {}): Promise<OnnxRuntime> {
    const replicas = checkTensorRuntimeOptions(options);
    checkInt('intraOpNumThreads', options.intraOpNumThreads ?? 1, 1, 256);
    checkInt('interOpNumThreads', options.interOpNumThreads ?? 1, 1, 256);
    if (options.device !== undefined && options.device !== 'cpu' && options.device !== 'gpu')
      throw AppError.invalid('device', `must be 'cpu' or 'gpu', got '${String(options.device)}'`);
    const signature = await readServingSignature(file);
    const pool = new ReplicaPool<OnnxReplicaReady>({
      file,
      label: 'ONNX',
      entry: 'onnx-replica',
      workerData: {
        file,
        device: options.device ?? 'cpu',
        intraOpNumThreads: options.intraOpNumThreads ?? 1,
        interOpNumThreads: options.interOpNumThreads ?? 1,
      } satisfies ReplicaInit,
      sharedSlot: true,
      ...(options.onReplicaLost ? { onReplicaLost: options.onReplicaLost } : {}),
    });
    const runtime = new OnnxRuntime(file, signature, pool, options);
    await pool.resize(replicas);
    return runtime;
  }
}
