import {
  allocateValues,
  elementCount,
  fromFloat16Bits,
  toFloat16Bits,
  type TensorData,
  type TensorDtype,
  type TensorValues,
} from '#platform/onnx-serving/tensors';
import {
  V2InferRequest,
  type V2Datatype,
  type V2InferResponse,
  type V2MetadataTensor,
  type V2ModelMetadata,
  type V2ResponseOutput,
} from '#shared/contracts/deploy-v2';
import { AppError } from '#shared/errors';
import type { ServingSignature, ServingTensorSpec } from './signature';

/**
 * Conversions between the Open Inference Protocol's JSON tensors (#shared/contracts/deploy-v2) and the runtime's
 * typed-array tensors. Request bodies are parsed by `parseV2InferRequest`; elements are checked here.
 */

const DTYPE_OF: Record<V2Datatype, TensorDtype> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const DATATYPE_OF = Object.fromEntries(Object.entries(DTYPE_OF).map(([k, v]) => [v, k])) as Record<
  TensorDtype,
  V2Datatype
>;

/**
 * An inference request body, or a 400 naming the field of the first thing wrong with it. The shape every client
 * sends is recognised by a direct check (`isPlainInferRequest`) and used as it is; anything else, an error
 * included, goes through the contract's schema, which gives the message. The check accepts nothing the schema
 * refuses, and no key the schema would drop, so both ways give the same request.
 */
export function parseV2InferRequest(body: unknown): V2InferRequest {
  if (isPlainInferRequest(body)) return body;
  const parsed = V2InferRequest.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = (issue?.path ?? []).map(String).join('.');
  throw new AppError('INVALID_ARGUMENT', field ? `${field}: ${issue?.message}` : (issue?.message ?? 'invalid body'), {
    field,
  });
}

// The keys of each object of `V2InferRequest`.
const REQUEST_KEYS = new Set(['id', 'parameters', 'inputs', 'outputs']);
const INPUT_KEYS = new Set(['name', 'shape', 'datatype', 'parameters', 'data']);
const OUTPUT_KEYS = new Set(['name', 'parameters']);

function isObjectWithKeys(value: unknown, keys: Set<string>): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const key in value) if (!keys.has(key)) return false;
  return true;
}

function isParameters(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const v of Object.values(value))
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) return false;
  return true;
}

const isName = (value: unknown) => typeof value === 'string' && value.length > 0;

/** `V2InferRequest`'s rules, checked directly: zod costs as much as the rest of a small request's work. */
function isPlainInferRequest(body: unknown): body is V2InferRequest {
  if (!isObjectWithKeys(body, REQUEST_KEYS)) return false;
  const { id, parameters, inputs, outputs } = body;
  if ((id !== undefined && typeof id !== 'string') || !isParameters(parameters)) return false;
  if (!Array.isArray(inputs) || inputs.length === 0) return false;
  for (const input of inputs) {
    if (!isObjectWithKeys(input, INPUT_KEYS) || !isName(input.name) || !isParameters(input.parameters)) return false;
    if (typeof input.datatype !== 'string' || !Object.hasOwn(DTYPE_OF, input.datatype)) return false;
    if (!Array.isArray(input.data) || !Array.isArray(input.shape)) return false;
    for (const dim of input.shape as unknown[]) if (!Number.isSafeInteger(dim) || (dim as number) < 0) return false;
  }
  if (outputs === undefined) return true;
  if (!Array.isArray(outputs)) return false;
  for (const output of outputs)
    if (!isObjectWithKeys(output, OUTPUT_KEYS) || !isName(output.name) || !isParameters(output.parameters))
      return false;
  return true;
}

export function dtypeOfV2(datatype: V2Datatype): TensorDtype {
  return DTYPE_OF[datatype];
}

export function v2DatatypeOf(dtype: TensorDtype): V2Datatype {
  return DATATYPE_OF[dtype];
}

/** Integer ranges of the 8-32-bit types, for checking request elements. */
const INT_RANGES: Partial<Record<TensorDtype, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

export interface V2Inputs {
  inputs: Record<string, TensorData>;
  /** Requested outputs, in order; undefined for all. */
  outputs: string[] | undefined;
}

/**
 * An inference request's tensors. Checks what the protocol itself requires (names unique, `data` holding the
 * product of `shape` elements, flat or nested, each of the datatype: numbers for FP*, integers in range for
 * (U)INT*, booleans for BOOL, strings for BYTES) and that requested outputs exist; errors name the field
 * (`inputs.x.data[5]`). Matching the model's signature (names, dtypes, ranks) is `validateInputs`' job.
 */
export function tensorsFromV2(request: V2InferRequest, signature: ServingSignature): V2Inputs {
  const inputs: Record<string, TensorData> = {};
  for (const input of request.inputs) {
    const field = `inputs.${input.name}`;
    if (Object.hasOwn(inputs, input.name)) throw AppError.invalid(field, 'given more than once');
    const dtype = DTYPE_OF[input.datatype];
    const count = elementCount(input.shape);
    // Counted before anything is allocated: a shape of [1e9, 1e9] with 3 elements is a 400, not a huge buffer.
    const given = countElements(`${field}.data`, input.data, input.shape);
    if (given !== count)
      throw AppError.invalid(
        `${field}.data`,
        `shape [${input.shape.join(', ')}] needs ${count} elements, got ${given}`,
      );
    const data = allocateValues(dtype, count);
    fill(field, input.datatype, dtype, input.data, data, 0);
    inputs[input.name] = { dtype, dims: [...input.shape], data };
  }
  let outputs: string[] | undefined;
  if (request.outputs?.length === 0) {
    throw AppError.invalid('outputs', 'names no output: leave it out for all of them, or name those wanted');
  }
  if (request.outputs) {
    const known = new Set(signature.outputs.map((o) => o.name));
    outputs = [];
    for (const output of request.outputs) {
      if (!known.has(output.name))
        throw AppError.invalid(
          `outputs.${output.name}`,
          `the model has no output '${output.name}' (its outputs: ${[...known].join(', ')})`,
        );
      if (outputs.includes(output.name)) throw AppError.invalid(`outputs.${output.name}`, 'requested more than once');
      outputs.push(output.name);
    }
  }
  return { inputs, outputs };
}

/**
 * The elements of `data`, flat or nested row-major as the shape is: a level of arrays holds as many as its
 * dimension, a level of values as many as the dimensions from there on hold (ragged rows, mixed levels and more
 * levels than dimensions are refused; thousands of levels would overflow the stack).
 */
function countElements(field: string, data: unknown[], shape: readonly number[], depth = 1): number {
  const nested = data.length > 0 && Array.isArray(data[0]);
  const where = depth === 1 ? field : `${field} at depth ${depth}`;
  if (nested) {
    if (depth >= shape.length)
      throw AppError.invalid(field, `nested deeper than its shape's ${shape.length} dimensions`);
    if (data.length !== shape[depth - 1]) {
      throw AppError.invalid(
        where,
        `holds ${data.length} arrays where dimension ${depth - 1} of the shape is ${shape[depth - 1]}`,
      );
    }
    let n = 0;
    for (const value of data) {
      if (!Array.isArray(value)) throw AppError.invalid(where, 'mixes arrays and values');
      n += countElements(field, value, shape, depth + 1);
    }
    return n;
  }
  if (data.some((value) => Array.isArray(value))) throw AppError.invalid(where, 'mixes arrays and values');
  const expected = shape.slice(depth - 1).reduce((a, b) => a * b, 1);
  if (depth > 1 && data.length !== expected) {
    throw AppError.invalid(where, `holds ${data.length} values where the shape's last dimensions hold ${expected}`);
  }
  return data.length;
}

/**
 * Copies the elements of `data` (nested arrays are walked depth-first, which is row-major) into `out` from
 * `offset`; returns the offset after the last.
 */
function fill(
  field: string,
  datatype: V2Datatype,
  dtype: TensorDtype,
  data: unknown[],
  out: TensorValues,
  offset: number,
): number {
  let i = offset;
  const floats = dtype === 'float32' || dtype === 'float64';
  // Beyond it a value is stored as infinity (JSON has none: 1e400 or, for FP32, 1e39 is a mistake).
  const largest = dtype === 'float32' ? FLOAT32_MAX : Number.MAX_VALUE;
  for (const value of data) {
    // The common case first, without `store`'s switch.
    if (floats && typeof value === 'number' && value <= largest && value >= -largest)
      (out as Float32Array)[i++] = value;
    else if (Array.isArray(value)) i = fill(field, datatype, dtype, value, out, i);
    else store(field, i++, datatype, dtype, value, out);
  }
  return i;
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

function badElement(field: string, i: number, datatype: V2Datatype, value: unknown, expected: string): never {
  const got = typeof value === 'number' ? String(value) : JSON.stringify(value);
  throw AppError.invalid(`${field}.data[${i}]`, `expected ${expected} for ${datatype}, got ${got}`);
}

function store(
  field: string,
  i: number,
  datatype: V2Datatype,
  dtype: TensorDtype,
  value: unknown,
  out: TensorValues,
): void {
  switch (dtype) {
    case 'float32':
    case 'float64':
      if (typeof value !== 'number') badElement(field, i, datatype, value, 'a number');
      // Only a number out of range comes here (in range ones are stored by `fill`).
      badElement(field, i, datatype, value, `a number within ±${dtype === 'float32' ? FLOAT32_MAX : Number.MAX_VALUE}`);
      return;
    case 'float16':
      if (typeof value !== 'number') badElement(field, i, datatype, value, 'a number');
      (out as Uint16Array)[i] = toFloat16Bits(value as number);
      return;
    case 'bool':
      if (typeof value !== 'boolean') badElement(field, i, datatype, value, 'true or false');
      (out as Uint8Array)[i] = value ? 1 : 0;
      return;
    case 'string':
      if (typeof value !== 'string') badElement(field, i, datatype, value, 'a string');
      (out as string[])[i] = value as string;
      return;
    case 'int64':
    case 'uint64': {
      if (typeof value !== 'number' || !Number.isInteger(value)) badElement(field, i, datatype, value, 'an integer');
      // JSON numbers are doubles: past 2^53 the value parsed is not the one sent (9007199254740993 arrives as
      // ...992), so it is refused rather than passed on changed.
      if (!Number.isSafeInteger(value)) {
        throw AppError.invalid(
          `${field}.data[${i}]`,
          `${String(value)} is beyond ±(2^53 − 1), where JSON numbers stop being exact: ${datatype} values past it cannot be sent as JSON`,
        );
      }
      if (dtype === 'uint64' && (value as number) < 0) badElement(field, i, datatype, value, 'a non-negative integer');
      (out as BigInt64Array)[i] = BigInt(value as number);
      return;
    }
    default: {
      const [min, max] = INT_RANGES[dtype] as [number, number];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
        badElement(field, i, datatype, value, `an integer from ${min} to ${max}`);
      (out as Int32Array)[i] = value as number;
    }
  }
}

/**
 * One output as a response tensor: flat data; int64/uint64 as JSON numbers (exact up to 2^53), float16 decoded,
 * bool as true/false, strings as they are.
 */
export function v2Output(name: string, tensor: TensorData): V2ResponseOutput {
  let data: (number | boolean | string)[];
  switch (tensor.dtype) {
    case 'int64':
    case 'uint64':
      data = Array.from(tensor.data as BigInt64Array, Number);
      break;
    case 'float16':
      data = Array.from(tensor.data as Uint16Array, fromFloat16Bits);
      break;
    case 'bool':
      data = Array.from(tensor.data as Uint8Array, (v) => v !== 0);
      break;
    case 'string':
      data = [...(tensor.data as string[])];
      break;
    default:
      data = Array.from(tensor.data as Float32Array);
  }
  return { name, shape: [...tensor.dims], datatype: DATATYPE_OF[tensor.dtype], data };
}

/**
 * The inference response: outputs in the order requested (or the model's order), `id` echoed when the request had
 * one, `model_version` when known.
 */
export function v2Response(options: {
  modelName: string;
  modelVersion?: string;
  id?: string;
  outputs: Record<string, TensorData>;
  order?: string[];
}): V2InferResponse {
  const names = options.order ?? Object.keys(options.outputs);
  return {
    model_name: options.modelName,
    ...(options.modelVersion === undefined ? {} : { model_version: options.modelVersion }),
    ...(options.id === undefined ? {} : { id: options.id }),
    outputs: names.flatMap((name) => {
      const tensor = options.outputs[name];
      return tensor ? [v2Output(name, tensor)] : [];
    }),
  };
}

function metadataTensor(spec: ServingTensorSpec): V2MetadataTensor {
  return {
    name: spec.name,
    datatype: DATATYPE_OF[spec.dtype],
    shape: spec.shape.map((d) => (typeof d === 'number' ? d : -1)),
  };
}

/**
 * `GET /v2/models/{name}[/versions/{v}]`: the model's inputs and outputs with -1 for variable dimensions, and the
 * platform serving it (the protocol's `<backend>_<format>` names: `onnxruntime_onnx`; see the caller's).
 */
export function v2ModelMetadata(options: {
  name: string;
  versions?: string[];
  platform: string;
  signature: ServingSignature;
}): V2ModelMetadata {
  return {
    name: options.name,
    ...(options.versions ? { versions: options.versions } : {}),
    platform: options.platform,
    inputs: options.signature.inputs.map(metadataTensor),
    outputs: options.signature.outputs.map(metadataTensor),
  };
}
