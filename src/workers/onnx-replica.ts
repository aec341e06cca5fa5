import { serveOnnxReplica } from '#platform/onnx-serving/replica';

/** One replica of a served ONNX model (DeployEngine): its own InferenceSession, one batch at a time. */
await serveOnnxReplica();
