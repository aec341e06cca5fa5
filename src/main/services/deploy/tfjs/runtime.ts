import type { TfjsReplicaInit, TfjsReplicaReady } from '#platform/tfjs-serving/protocol';
import { readTfjsModelFiles } from '#platform/tfjs-serving/model-files';
import { ReplicaPool } from '../onnx/replica-pool';
import { servingSignatureOf, type ServingSignature } from '../onnx/signature';
import { checkTensorRuntimeOptions, TensorModelRuntime, type TensorRuntimeOptions } from '../onnx/tensor-runtime';

export type TfjsRuntimeOptions = TensorRuntimeOptions;

/**
 * DeployEngine's TF.js runtime for one `model.json`: `TensorModelRuntime`'s replica pool and batching (the ONNX
 * runtime's), with replica threads of src/workers/tfjs-replica.ts, each with the model loaded by TF.js. The
 * signature comes from the model as TF.js loads it: the first replica says it when ready.
 */
export class TfjsRuntime extends TensorModelRuntime {
  private constructor(
    file: string,
    signature: ServingSignature,
    /** The TF.js backend the replicas run on. */
    readonly backend: string,
    pool: ReplicaPool,
    options: TfjsRuntimeOptions,
  ) {
    super(file, signature, pool, 'TF.js', options);
  }

  /**
   * Checks the model's files, starts one replica (whose load gives the signature), then the others: resolves when
   * all are ready. A missing `model.json` is NOT_FOUND, a corrupt one or a missing or short weight shard
   * INVALID_ARGUMENT, a model TF.js cannot load FAILED_PRECONDITION; messages name the file.
   */
  static async load(file: string, options: TfjsRuntimeOptions = {}): Promise<TfjsRuntime> {
    const replicas = checkTensorRuntimeOptions(options);
    await readTfjsModelFiles(file);
    const pool = new ReplicaPool<TfjsReplicaReady>({
      file,
      label: 'TF.js',
      entry: 'tfjs-replica',
      workerData: { file } satisfies TfjsReplicaInit,
      ...(options.onReplicaLost ? { onReplicaLost: options.onReplicaLost } : {}),
    });
    let runtime: TfjsRuntime;
    try {
      await pool.resize(1);
      const ready = pool.lastReady as TfjsReplicaReady;
      const signature = servingSignatureOf({ inputs: ready.inputs, outputs: ready.outputs, metadata: {} }, file);
      runtime = new TfjsRuntime(file, signature, ready.backend, pool, options);
    } catch (err) {
      await pool.close();
      throw err;
    }
    try {
      await runtime.setReplicas(replicas);
    } catch (err) {
      await runtime.close();
      throw err;
    }
    return runtime;
  }
}

/**
 * The signature of a `model.json` without serving it: TF.js states it only once the model is loaded, so one replica
 * loads it and stops (v2 metadata of a TF.js deployment scaled to zero). Fails as `TfjsRuntime.load`.
 */
export async function readTfjsServingSignature(file: string): Promise<ServingSignature> {
  const runtime = await TfjsRuntime.load(file);
  await runtime.close();
  return runtime.signature;
}
