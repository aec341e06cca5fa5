import { z } from 'zod';

/**
 * The Open Inference Protocol (KServe "V2 inference protocol") over HTTP/REST, as in KServe's
 * `docs/predict-api/v2/rest_predict_v2.yaml` and `required_api.md`: the JSON bodies of
 * `GET /v2`, `GET /v2/models/{name}[/versions/{version}]` and `POST /v2/models/{name}[/versions/{version}]/infer`.
 * Field names are the protocol's (snake_case); unknown fields are ignored, as the protocol allows extensions.
 */

/** Tensor element types (required_api.md, "Tensor Data Types"). BYTES is a string (UTF-8 text) per element. */
export const V2Datatype = z.enum([
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
]);
export type V2Datatype = z.infer<typeof V2Datatype>;

/** `$parameters`: a JSON object of string, number or boolean values. */
export const V2Parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
export type V2Parameters = z.infer<typeof V2Parameters>;

/** A dimension of a request or response tensor. */
const Dim = z.number().int().nonnegative();

/**
 * `$tensor_data`: the elements in row-major order, as a flat array or nested arrays following the shape; numbers,
 * booleans (BOOL) or strings (BYTES). Elements are checked while the data is converted to a tensor (one pass, with
 * the element's index in the error), not by this schema: walking a large tensor twice costs more than the parse.
 */
export const V2TensorData = z
  .array(z.unknown())
  .meta({ description: 'flat or nested array of numbers, booleans (BOOL) or strings (BYTES), row-major' });
export type V2TensorData = unknown[];

export const V2RequestInput = z.object({
  name: z.string().min(1),
  shape: z.array(Dim),
  datatype: V2Datatype,
  parameters: V2Parameters.optional(),
  data: V2TensorData,
});
export type V2RequestInput = z.infer<typeof V2RequestInput>;

export const V2RequestOutput = z.object({
  name: z.string().min(1),
  parameters: V2Parameters.optional(),
});
export type V2RequestOutput = z.infer<typeof V2RequestOutput>;

/** `$inference_request`. Without `outputs`, every output of the model is returned. */
export const V2InferRequest = z.object({
  id: z.string().optional(),
  parameters: V2Parameters.optional(),
  inputs: z.array(V2RequestInput).min(1),
  outputs: z.array(V2RequestOutput).optional(),
});
export type V2InferRequest = z.infer<typeof V2InferRequest>;

export const V2ResponseOutput = z.object({
  name: z.string(),
  shape: z.array(Dim),
  datatype: V2Datatype,
  parameters: V2Parameters.optional(),
  /** Flat, row-major. */
  data: z.array(z.union([z.number(), z.boolean(), z.string()])),
});
export type V2ResponseOutput = z.infer<typeof V2ResponseOutput>;

/** `$inference_response`; `id` echoes the request's. */
export const V2InferResponse = z.object({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string().optional(),
  parameters: V2Parameters.optional(),
  outputs: z.array(V2ResponseOutput),
});
export type V2InferResponse = z.infer<typeof V2InferResponse>;

/** `$metadata_tensor`: -1 marks a dimension of variable size. */
export const V2MetadataTensor = z.object({
  name: z.string(),
  datatype: V2Datatype,
  shape: z.array(z.number().int().min(-1)),
});
export type V2MetadataTensor = z.infer<typeof V2MetadataTensor>;

/**
 * `$metadata_model_response`. Platform `onnxruntime_onnx` for ONNX models (Triton's name), `tensorflowjs` for TF.js
 * models (the protocol lists no name for TF.js).
 */
export const V2ModelMetadata = z.object({
  name: z.string(),
  versions: z.array(z.string()).optional(),
  platform: z.string(),
  inputs: z.array(V2MetadataTensor).optional(),
  outputs: z.array(V2MetadataTensor).optional(),
});
export type V2ModelMetadata = z.infer<typeof V2ModelMetadata>;

/** `$metadata_server_response` (`GET /v2`). */
export const V2ServerMetadata = z.object({
  name: z.string(),
  version: z.string(),
  extensions: z.array(z.string()),
});
export type V2ServerMetadata = z.infer<typeof V2ServerMetadata>;

/**
 * `$inference_error_response` / `$metadata_model_error_response`: the protocol's own error shape, which the
 * `/v2/...` routes answer with instead of AI-DOS's `{ error: { code, message } }`.
 */
export const V2ErrorResponse = z.object({ error: z.string() });
export type V2ErrorResponse = z.infer<typeof V2ErrorResponse>;
