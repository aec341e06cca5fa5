import type { TensorData } from './tensors';

/**
 * Messages between one of DeployEngine's tensor-model runtimes (the core's thread) and one replica thread, which
 * holds one loaded model and runs one batch at a time: src/workers/onnx-replica.ts (an `InferenceSession`) and
 * src/workers/tfjs-replica.ts (a TF.js model) speak it alike, except for what each says when it is ready.
 */

/** The ONNX replica's `workerData` (beside `workerEntry`'s own fields): what to load and how. */
export interface ReplicaInit {
  file: string;
  device: 'cpu' | 'gpu';
  intraOpNumThreads: number;
  interOpNumThreads: number;
  /** The replica's shared slot (#platform/onnx-serving/shared-slot), through which small batches come and go. */
  slot?: SharedArrayBuffer;
}

/** Run one batch: `feeds` by input name; `outputs` null for all of them. */
export interface ReplicaRun {
  kind: 'run';
  id: number;
  feeds: Record<string, TensorData>;
  outputs: string[] | null;
}

export type ToReplica = ReplicaRun;

/** What a replica of either runtime says once its model is loaded. */
export interface ReplicaReady {
  kind: 'ready';
  loadMs: number;
}

/** What an ONNX replica says once its session is loaded. */
export interface OnnxReplicaReady extends ReplicaReady {
  inputNames: string[];
  outputNames: string[];
}

export type FromReplica<Ready extends ReplicaReady = OnnxReplicaReady> =
  | Ready
  /** The model could not be loaded; the thread exits after this. */
  | { kind: 'load-failed'; code: string; message: string }
  /** `inferenceMs`: the model's run alone, measured in the thread. */
  | { kind: 'result'; id: number; outputs: Record<string, TensorData>; inferenceMs: number }
  | { kind: 'error'; id: number; code: string; message: string };
