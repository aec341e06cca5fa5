/**
 * DeployEngine's ONNX runtime, the library the deploy service's routes call: load a model file into a pool of
 * replica threads with dynamic batching (`OnnxRuntime`, on `TensorModelRuntime`, which the TF.js runtime shares),
 * convert Open Inference Protocol bodies (`v2.ts`) and tabular JSON rows (`tabular.ts`). The replica threads' own code is in #platform/onnx-serving.
 */
export { OnnxRuntime, type OnnxRuntimeOptions } from './runtime';
export {
  TensorModelRuntime,
  type BatchTiming,
  type InferOptions,
  type InferResult,
  type RequestTiming,
  type RuntimeStats,
  type TensorRuntimeOptions,
} from './tensor-runtime';
export { readServingSignature, type ServingSignature, type ServingTensorSpec } from './signature';
export { validateInputs } from './validate';
export {
  dtypeOfV2,
  parseV2InferRequest,
  tensorsFromV2,
  v2DatatypeOf,
  v2ModelMetadata,
  v2Output,
  v2Response,
  type V2Inputs,
} from './v2';
export {
  checkTabularModel,
  parseTabularPreprocessing,
  predictTabular,
  tabularInputFromRows,
  tabularPredictions,
  type TabularCell,
  type TabularPrediction,
} from './tabular';
export type { TensorData, TensorDtype } from '#platform/onnx-serving/tensors';
