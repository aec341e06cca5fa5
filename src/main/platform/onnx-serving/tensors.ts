import { AppError } from '#shared/errors';

/**
 * Tensors as DeployEngine's ONNX runtime passes them between the core and its replica threads: plain typed arrays
 * (structured-cloneable, transferable), never `ort.Tensor`, so the core's thread never loads onnxruntime. The
 * dtype names are onnxruntime's (`ort.Tensor.type`), which are also those of ModelHub's ONNX signature reader.
 */
export const TENSOR_DTYPES = [
  'float32',
  'float64',
  'float16',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
  'string',
] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

export function isTensorDtype(value: string): value is TensorDtype {
  return (TENSOR_DTYPES as readonly string[]).includes(value);
}

/** The element storage of each dtype: float16 as its IEEE bits (Uint16Array), bool as 0/1 bytes, as onnxruntime-node. */
export interface TensorValuesOf {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
  string: string[];
}
export type TensorValues = TensorValuesOf[TensorDtype];
export type NumericDtype = Exclude<TensorDtype, 'string'>;

export interface TensorData {
  dtype: TensorDtype;
  /** Row-major; `data.length` is the product of `dims`. */
  dims: number[];
  data: TensorValues;
}

type ArrayConstructorOf = { [D in NumericDtype]: { new (length: number): TensorValuesOf[D] } };

const ARRAYS: ArrayConstructorOf = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

/** A zeroed array of `length` elements of `dtype` (strings: empty strings). */
export function allocateValues(dtype: TensorDtype, length: number): TensorValues {
  if (dtype === 'string') return new Array<string>(length).fill('');
  return new ARRAYS[dtype](length);
}

/** Whether `data` is the storage `dtype` uses (the right typed array, or an array of strings). */
export function valuesMatch(dtype: TensorDtype, data: unknown): boolean {
  if (dtype === 'string') return Array.isArray(data) && data.every((v) => typeof v === 'string');
  return data instanceof ARRAYS[dtype];
}

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * Joins tensors of one dtype whose dims agree after the first along dim 0 (the batch), in order: the input of one
 * `session.run` for several requests. The result has its own buffer, so it can be transferred to a thread.
 */
export function concatRows(tensors: readonly TensorData[]): TensorData {
  const first = tensors[0];
  if (!first) throw new AppError('INTERNAL', 'concatRows of no tensors');
  const inner = first.dims.slice(1);
  let rows = 0;
  for (const t of tensors) {
    if (
      t.dtype !== first.dtype ||
      t.dims.length !== first.dims.length ||
      t.dims.some((d, i) => i > 0 && d !== inner[i - 1])
    )
      throw new AppError(
        'INTERNAL',
        `cannot batch a ${t.dtype} [${t.dims.join(',')}] tensor with a ${first.dtype} [${first.dims.join(',')}] one`,
      );
    rows += t.dims[0] as number;
  }
  const dims = [rows, ...inner];
  if (first.dtype === 'string') {
    return { dtype: 'string', dims, data: tensors.flatMap((t) => t.data as string[]) };
  }
  const out = allocateValues(first.dtype, elementCount(dims)) as Exclude<TensorValues, string[]>;
  let offset = 0;
  for (const t of tensors) {
    // Same dtype, so the same typed array class: set() copies without conversion.
    (out as Float32Array).set(t.data as Float32Array, offset);
    offset += t.data.length;
  }
  return { dtype: first.dtype, dims, data: out };
}

/**
 * Splits a batch's output along dim 0 into consecutive parts of `rows[i]` rows (each part a copy, so one
 * request's result does not keep the others' alive). The output's dim 0 must be the sum of `rows`.
 */
export function splitRows(tensor: TensorData, rows: readonly number[]): TensorData[] {
  const total = rows.reduce((a, b) => a + b, 0);
  if (tensor.dims.length === 0 || tensor.dims[0] !== total)
    throw new AppError(
      'INTERNAL',
      `a batch of ${total} rows gave an output of shape [${tensor.dims.join(',')}], which cannot be split by row`,
    );
  const inner = tensor.dims.slice(1);
  const rowSize = elementCount(inner);
  const parts: TensorData[] = [];
  let start = 0;
  for (const n of rows) {
    const end = start + n * rowSize;
    parts.push({ dtype: tensor.dtype, dims: [n, ...inner], data: tensor.data.slice(start, end) as TensorValues });
    start = end;
  }
  return parts;
}

/** IEEE 754 half-precision bits of a number (round to nearest even; overflow to ±Infinity). */
export function toFloat16Bits(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa rounds up into the exponent (and to Infinity at the top), as it should.
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** The number that IEEE 754 half-precision bits stand for. */
export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
