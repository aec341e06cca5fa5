import { readFile, stat } from 'node:fs/promises';
import { readOnnxSignature } from '#platform/model-formats';
import { isTensorDtype, type TensorDtype } from '#platform/onnx-serving/tensors';
import { AppError } from '#shared/errors';

/** One input or output as served: a tensor of a dtype onnxruntime-node takes, with its declared shape. */
export interface ServingTensorSpec {
  name: string;
  dtype: TensorDtype;
  /** A number is a fixed size; a string a symbolic dimension (`dim_param`); null an unnamed dynamic one (-1). */
  shape: (number | string | null)[];
}

export interface ServingSignature {
  inputs: ServingTensorSpec[];
  outputs: ServingTensorSpec[];
  /**
   * Whether requests can be batched: every input and output has a dynamic dim 0, and the inputs' dim 0 is one and
   * the same (the same symbol, or unnamed). Then a request's rows are its inputs' dim 0.
   */
  batchable: boolean;
  /** ModelHub's facts about the file (ir_version, opset, producer_name, ...). */
  metadata: Record<string, string | number | boolean | null>;
}

/** Files above this size are refused: protobuf caps a model at 2 GiB (bigger ones keep weights outside). */
const MAX_MODEL_BYTES = 2 ** 31;

/**
 * Reads an ONNX model file's signature with ModelHub's reader (#platform/model-formats) and checks that this
 * runtime can serve it. A missing file is NOT_FOUND; a file that is not a readable ONNX model (truncated,
 * corrupted, another format) INVALID_ARGUMENT; a model with inputs or outputs that are not plain tensors
 * (sequences, maps, bfloat16, ...) FAILED_PRECONDITION. Each message names the file.
 */
export async function readServingSignature(file: string): Promise<ServingSignature> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) throw new AppError('NOT_FOUND', `model file '${file}' does not exist`, { file });
  if (info.size === 0) throw new AppError('INVALID_ARGUMENT', `model file '${file}' is empty`, { file });
  if (info.size >= MAX_MODEL_BYTES)
    throw new AppError(
      'FAILED_PRECONDITION',
      `model file '${file}' is ${info.size} bytes; ONNX models with external weights are not served yet`,
      { file },
    );
  let signature;
  try {
    signature = readOnnxSignature(await readFile(file));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new AppError('INVALID_ARGUMENT', `model file '${file}' is not a readable ONNX model (${reason})`, { file });
  }
  return servingSignatureOf(signature, file);
}

/** The served view of a ModelHub ONNX signature (exported for tests and for signatures read elsewhere). */
export function servingSignatureOf(
  signature: {
    inputs: { name: string; dtype: string; shape: (number | string | null)[] }[];
    outputs: { name: string; dtype: string; shape: (number | string | null)[] }[];
    metadata: Record<string, string | number | boolean | null>;
  },
  file: string,
): ServingSignature {
  const check = (
    role: 'input' | 'output',
    spec: { name: string; dtype: string; shape: (number | string | null)[] },
  ) => {
    if (!isTensorDtype(spec.dtype))
      throw new AppError(
        'FAILED_PRECONDITION',
        `model file '${file}': ${role} '${spec.name}' is of type ${spec.dtype}; the ONNX runtime serves tensors of ` +
          'float16/32/64, (u)int8/16/32/64, bool and string',
        { file, [role]: spec.name },
      );
    return { name: spec.name, dtype: spec.dtype, shape: [...spec.shape] };
  };
  const inputs = signature.inputs.map((s) => check('input', s));
  const outputs = signature.outputs.map((s) => check('output', s));
  if (inputs.length === 0 || outputs.length === 0)
    throw new AppError('INVALID_ARGUMENT', `model file '${file}' has no ${inputs.length ? 'outputs' : 'inputs'}`, {
      file,
    });
  return { inputs, outputs, batchable: isBatchable(inputs, outputs), metadata: signature.metadata };
}

function isDynamic(dim: number | string | null | undefined): dim is string | null {
  return dim === null || typeof dim === 'string';
}

function isBatchable(inputs: ServingTensorSpec[], outputs: ServingTensorSpec[]): boolean {
  if (![...inputs, ...outputs].every((s) => s.shape.length > 0 && isDynamic(s.shape[0]))) return false;
  const symbols = new Set(inputs.map((s) => s.shape[0]).filter((d) => typeof d === 'string'));
  return symbols.size <= 1;
}
