import { elementCount, valuesMatch, type TensorData } from '#platform/onnx-serving/tensors';
import { AppError } from '#shared/errors';
import type { ServingSignature, ServingTensorSpec } from './signature';

/** What validation found out about a request: its rows (dim 0) when the model batches, and its batching key. */
export interface ValidatedRequest {
  /** The inputs' dim 0 when the signature is batchable, else 1 (the request runs as it is). */
  rows: number;
  /** Requests with equal keys can be concatenated along dim 0: equal dtypes and dims after the first. */
  key: string;
}

function shapeText(shape: readonly (number | string | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/**
 * Checks a request's tensors against the model's signature before it is queued, so a bad request fails alone
 * with a 400 instead of failing a batch: every input present and none unknown, each tensor's dtype, rank and fixed
 * dimensions as declared, a symbolic dimension of the same name equal across inputs, and `data` holding exactly
 * the product of `dims` elements of the dtype's storage. Errors are `AppError.invalid('inputs.<name>', ...)` saying
 * what was expected and what came. A declared shape of `[]` (the file gives no rank) is not checked.
 */
export function validateInputs(signature: ServingSignature, inputs: Record<string, TensorData>): ValidatedRequest {
  const known = new Set(signature.inputs.map((s) => s.name));
  for (const name of Object.keys(inputs))
    if (!known.has(name))
      throw AppError.invalid(
        `inputs.${name}`,
        `the model has no input '${name}' (its inputs: ${[...known].join(', ')})`,
      );
  const symbols = new Map<string, { size: number; input: string }>();
  const keyParts: string[] = [];
  let rows = 1;
  for (const spec of signature.inputs) {
    const tensor = inputs[spec.name];
    const field = `inputs.${spec.name}`;
    if (!tensor)
      throw AppError.invalid(field, `missing; the model needs a ${spec.dtype} ${shapeText(spec.shape)} tensor`);
    checkTensor(field, spec, tensor, symbols);
    if (signature.batchable) rows = tensor.dims[0] as number;
    keyParts.push(`${spec.name}:${tensor.dtype}:${tensor.dims.slice(signature.batchable ? 1 : 0).join('x')}`);
  }
  if (signature.batchable && rows < 1)
    throw AppError.invalid(`inputs.${signature.inputs[0]?.name}`, 'has no rows (dim 0 is 0)');
  return { rows, key: keyParts.join('|') };
}

function checkTensor(
  field: string,
  spec: ServingTensorSpec,
  tensor: TensorData,
  symbols: Map<string, { size: number; input: string }>,
): void {
  if (tensor.dtype !== spec.dtype) throw AppError.invalid(field, `expected dtype ${spec.dtype}, got ${tensor.dtype}`);
  if (!Array.isArray(tensor.dims) || tensor.dims.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw AppError.invalid(field, `dims must be non-negative integers, got [${String(tensor.dims)}]`);
  if (spec.shape.length > 0) {
    if (tensor.dims.length !== spec.shape.length)
      throw AppError.invalid(
        field,
        `expected rank ${spec.shape.length} ${shapeText(spec.shape)}, got rank ${tensor.dims.length} [${tensor.dims.join(', ')}]`,
      );
    spec.shape.forEach((dim, i) => {
      const got = tensor.dims[i] as number;
      if (typeof dim === 'number' && dim !== got)
        throw AppError.invalid(
          field,
          `dimension ${i} must be ${dim} (shape ${shapeText(spec.shape)}), got ${got} (shape [${tensor.dims.join(', ')}])`,
        );
      if (typeof dim === 'string') {
        const seen = symbols.get(dim);
        if (seen && seen.size !== got)
          throw AppError.invalid(
            field,
            `dimension ${i} ('${dim}') is ${got}, but it is ${seen.size} in input '${seen.input}'; they must agree`,
          );
        symbols.set(dim, { size: got, input: field.slice('inputs.'.length) });
      }
    });
  }
  if (!valuesMatch(tensor.dtype, tensor.data))
    throw AppError.invalid(field, `data is not the storage of a ${tensor.dtype} tensor`);
  const expected = elementCount(tensor.dims);
  if (tensor.data.length !== expected)
    throw AppError.invalid(
      field,
      `shape [${tensor.dims.join(', ')}] needs ${expected} values, got ${tensor.data.length}`,
    );
}
