/**
 * DeployEngine's TF.js runtime: a TF.js layers model (`model.json` and its weight shards, read from disk) served
 * by a pool of replica threads with the ONNX runtime's dynamic batching, signature validation and KServe v2
 * conversions. The replica threads' own code, the file checks and TF.js's IO handlers for the file system are in
 * #platform/tfjs-serving (entry src/workers/tfjs-replica.ts).
 */
export { readTfjsServingSignature, TfjsRuntime, type TfjsRuntimeOptions } from './runtime';
export { readTfjsModelFiles, type TfjsModelFiles } from '#platform/tfjs-serving/model-files';
export { loadHandler, saveHandler, WEIGHTS_SHARD } from '#platform/tfjs-serving/io';
export { tfjsModelFolder } from './model-folder';
