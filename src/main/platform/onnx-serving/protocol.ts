import type { TensorData } from './tensors';

/**
 * Messages between DeployEngine's ONNX runtime (the core's thread) and one replica thread
 * (src/workers/onnx-replica.ts), which holds one `InferenceSession` and runs one batch at a time.
 */

/** The replica's `workerData` (beside `workerEntry`'s own fields): what to load and how. */
export interface ReplicaInit {
  file: string;
  device: 'cpu' | 'gpu';
  intraOpNumThreads: number;
  interOpNumThreads: number;
}

/** Run one batch: `feeds` by input name; `outputs` null for all of them. */
export interface ReplicaRun {
  kind: 'run';
  id: number;
  feeds: Record<string, TensorData>;
  outputs: string[] | null;
}

export type ToReplica = ReplicaRun;

export type FromReplica =
  | { kind: 'ready'; loadMs: number; inputNames: string[]; outputNames: string[] }
  /** The session could not be created; the thread exits after this. */
  | { kind: 'load-failed'; code: string; message: string }
  /** `inferenceMs`: the `session.run` call alone, measured in the thread. */
  | { kind: 'result'; id: number; outputs: Record<string, TensorData>; inferenceMs: number }
  | { kind: 'error'; id: number; code: string; message: string };
