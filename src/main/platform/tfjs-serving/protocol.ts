import type { FromReplica, ReplicaReady } from '#platform/onnx-serving/protocol';
import type { TensorDtype } from '#platform/onnx-serving/tensors';

/**
 * What differs in the messages between DeployEngine's TF.js runtime and one replica thread
 * (src/workers/tfjs-replica.ts) from the ONNX runtime's (#platform/onnx-serving/protocol, which both speak):
 * the replica's `workerData` and its 'ready', which carries the signature (TF.js reads it as it loads the model).
 * Tensors travel as the ONNX runtime's do, so both share validation, batching and the v2 conversions.
 */

/** A model input or output as TF.js loaded it: its dtype and shape, null dims dynamic (the batch). */
export interface TfjsTensorSpec {
  name: string;
  dtype: TensorDtype;
  shape: (number | null)[];
}

/** The replica's `workerData` (beside `workerEntry`'s own fields). */
export interface TfjsReplicaInit {
  /** The model's `model.json`. */
  file: string;
}

/** `backend`: the TF.js backend the model runs on (wasm; cpu when wasm cannot start; tensorflow with tfjs-node). */
export interface TfjsReplicaReady extends ReplicaReady {
  backend: string;
  inputs: TfjsTensorSpec[];
  outputs: TfjsTensorSpec[];
}

export type FromTfjsReplica = FromReplica<TfjsReplicaReady>;
