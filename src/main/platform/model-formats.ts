import { AppError } from '#shared/errors';

/**
 * Model file formats: detection from a file's name and first bytes, and the signature (inputs, outputs, facts)
 * of ONNX, GGUF and safetensors files, read without loading weights.
 *
 * - ONNX is a protobuf `ModelProto` (onnx/onnx.proto). A hand-written wire-format decoder walks it with
 *   `Buffer.subarray` views and skips what it does not need (node lists, tensor data), so a model's weights are
 *   never copied. Only the fields below are read; every other field is skipped by its wire type.
 * - GGUF (ggml docs/gguf.md, v2/v3, little-endian) is read through `read(offset, length)` in 64 KiB chunks, from
 *   the magic to the end of the tensor infos; the tensor data after it is never requested. Long metadata arrays
 *   (a tokenizer's vocabulary) are skipped and summarised as `type[length]`.
 * - safetensors: u64 LE header length, then that many bytes of JSON; only the header is read.
 *
 * A file that is corrupt or not of the format raises `INVALID_ARGUMENT` (HTTP 400) with `{ field: 'file' }`.
 * Every count and length read from a file is checked before it is used, so a hostile file costs at most a
 * bounded allocation and one pass over its own bytes.
 */
export type ModelFormat = 'onnx' | 'gguf' | 'safetensors' | 'tfjs' | 'other';

export interface TensorSpec {
  name: string;
  dtype: string;
  /** A number is a fixed size, a string a symbolic one (ONNX `dim_param`), null unknown. */
  shape: (number | string | null)[];
}

export interface ModelSignature {
  format: ModelFormat;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Format-specific facts; see the readers. */
  metadata: Record<string, string | number | boolean | null>;
}

type MetadataValue = string | number | boolean | null;

const FORMAT_NAMES: Record<ModelFormat, string> = {
  onnx: 'ONNX',
  gguf: 'GGUF',
  safetensors: 'safetensors',
  tfjs: 'TF.js',
  other: 'model',
};

function invalid(format: ModelFormat, message: string): never {
  throw new AppError('INVALID_ARGUMENT', `not a valid ${FORMAT_NAMES[format]} file: ${message}`, {
    field: 'file',
    format,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Format detection
// ---------------------------------------------------------------------------------------------------------------

/**
 * The format of a file from its name and first bytes (a few KiB are plenty). The bytes decide: a GGUF magic,
 * a safetensors header, a TF.js `model.json` or a protobuf that reads as an ONNX `ModelProto`. The name only
 * tips a weak ONNX match (well-formed `ModelProto` fields without the usual leading `ir_version`).
 */
export function detectFormat(fileName: string, head: Buffer): ModelFormat {
  if (head.length >= 4 && head.toString('latin1', 0, 4) === 'GGUF') return 'gguf';
  if (looksLikeSafetensors(head)) return 'safetensors';
  if (looksLikeTfjs(head)) return 'tfjs';
  const onnx = onnxEvidence(head);
  if (onnx === 'strong') return 'onnx';
  if (onnx === 'weak' && /\.onnx$/i.test(fileName)) return 'onnx';
  return 'other';
}

/** The safetensors format caps its header at 100 MB. */
const SAFETENSORS_MAX_HEADER = 100_000_000;

function looksLikeSafetensors(head: Buffer): boolean {
  if (head.length < 10) return false;
  const headerLength = head.readBigUInt64LE(0);
  if (headerLength < 2n || headerLength > BigInt(SAFETENSORS_MAX_HEADER)) return false;
  if (head[8] !== 0x7b /* { */) return false;
  // The JSON goes on with a key, the closing brace or (padded writers) a space.
  const next = head[9];
  return next === 0x22 /* " */ || next === 0x7d /* } */ || next === 0x20 || next === 0x0a;
}

function looksLikeTfjs(head: Buffer): boolean {
  const text = head.toString('utf8', 0, Math.min(head.length, 64 * 1024)).replace(/^\uFEFF/, '');
  if (!/^\s*\{/.test(text)) return false;
  return /"(modelTopology|weightsManifest)"\s*:/.test(text);
}

/** Wire types of the `ModelProto` fields (onnx.proto); any other field number is unknown to us. */
const MODEL_PROTO_WIRE: Record<number, number> = {
  1: 0, // ir_version
  2: 2, // producer_name
  3: 2, // producer_version
  4: 2, // domain
  5: 0, // model_version
  6: 2, // doc_string
  7: 2, // graph
  8: 2, // opset_import
  14: 2, // metadata_props
  20: 2, // training_info
  25: 2, // functions
};

/**
 * 'strong': the bytes start with `ir_version` (every protobuf writer emits fields in number order, and an ONNX
 * model starts with it) followed by well-formed `ModelProto` fields; 'weak': well-formed `ModelProto` fields
 * without that start; 'none': anything else.
 */
function onnxEvidence(head: Buffer): 'strong' | 'weak' | 'none' {
  const reader = new ProtoReader(head, 'onnx');
  let fields = 0;
  let startsWithIrVersion = false;
  // Two well-formed fields are asked for (the second may run past the head), or the whole head if it is shorter.
  const verdict = (cutShort: boolean): 'strong' | 'weak' | 'none' => {
    if (fields + (cutShort ? 1 : 0) < 2 && !(fields === 1 && reader.remaining() === 0)) return 'none';
    return startsWithIrVersion ? 'strong' : 'weak';
  };
  try {
    while (fields < 16 && reader.next()) {
      const expected = MODEL_PROTO_WIRE[reader.field];
      if (expected === undefined || expected !== reader.wire) return 'none';
      if (fields === 0 && reader.field === 1) {
        const irVersion = reader.varint();
        if (irVersion < 1 || irVersion > 100) return 'none';
        startsWithIrVersion = true;
      } else if (reader.wire === WIRE_LEN) {
        const length = reader.varint();
        // A field that runs past the head is fine (the head is a prefix of the file); it ends the walk.
        if (length > reader.remaining()) return verdict(true);
        reader.advance(length);
      } else {
        reader.varint();
      }
      fields++;
    }
  } catch {
    // A tag or varint cut off by the end of the head is fine; anything else is not protobuf.
    return reader.remaining() === 0 ? verdict(false) : 'none';
  }
  return verdict(false);
}

// ---------------------------------------------------------------------------------------------------------------
// Protobuf wire format
// ---------------------------------------------------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
const WIRE_NAMES = ['varint', 'i64', 'len', 'group start', 'group end', 'i32', 'wire type 6', 'wire type 7'];

/**
 * A cursor over one protobuf message. `next()` reads a tag; then the caller reads the value with `varint()`,
 * `int64()`, `bytes()`, `string()` or `message()`, or calls `skip()`. Values are views, never copies.
 */
class ProtoReader {
  private pos: number;
  private readonly end: number;
  field = 0;
  wire = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly format: ModelFormat,
    private readonly where = 'ModelProto',
  ) {
    this.pos = 0;
    this.end = buf.length;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  advance(n: number): void {
    this.pos += n;
  }

  /** Reads the next tag; false at the end of the message. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const tag = this.varint();
    this.field = Math.floor(tag / 8);
    this.wire = tag % 8;
    if (this.field === 0) this.fail('field number 0');
    if (this.wire === 3 || this.wire === 4 || this.wire > 5) {
      this.fail(`unsupported ${WIRE_NAMES[this.wire] ?? 'wire type'} for field ${this.field}`);
    }
    return true;
  }

  /** An unsigned varint; exact up to 2^53. Ten bytes at most. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const byte = this.buf[this.pos++] ?? 0;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** A signed int64 varint (negative values take ten bytes), as the nearest number. */
  int64(): number {
    const start = this.pos;
    const approx = this.varint();
    if (this.pos - start <= 7) return approx;
    let value = 0n;
    for (let i = this.pos - 1; i >= start; i--) value = (value << 7n) | BigInt((this.buf[i] ?? 0) & 0x7f);
    return Number(BigInt.asIntN(64, value));
  }

  /** The payload of a length-delimited field, as a view. */
  bytes(): Buffer {
    const length = this.varint();
    if (length > this.remaining()) {
      this.fail(`field ${this.field} claims ${length} bytes, ${this.remaining()} left (truncated file?)`);
    }
    const view = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }

  string(): string {
    return this.bytes().toString('utf8');
  }

  message(where: string): ProtoReader {
    return new ProtoReader(this.bytes(), this.format, where);
  }

  skip(): void {
    switch (this.wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        this.skipFixed(8);
        return;
      case WIRE_LEN:
        this.bytes();
        return;
      case WIRE_I32:
        this.skipFixed(4);
        return;
      default:
        this.fail(`cannot skip wire type ${this.wire}`);
    }
  }

  /** Checks the wire type of a known field. */
  expect(wire: number, name: string): void {
    if (this.wire !== wire) {
      this.fail(`${name} (field ${this.field}) has wire type ${WIRE_NAMES[this.wire]}, expected ${WIRE_NAMES[wire]}`);
    }
  }

  /** A `repeated int64`, packed or not. */
  int64s(into: number[]): void {
    if (this.wire === WIRE_VARINT) {
      into.push(this.int64());
      return;
    }
    this.expect(WIRE_LEN, 'repeated int64');
    const packed = new ProtoReader(this.bytes(), this.format, this.where);
    while (packed.remaining() > 0) into.push(packed.int64());
  }

  fail(message: string): never {
    return invalid(this.format, `${this.where}: ${message}`);
  }

  private skipFixed(n: number): void {
    if (n > this.remaining()) this.fail(`truncated fixed-width field ${this.field}`);
    this.pos += n;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// ONNX
// ---------------------------------------------------------------------------------------------------------------

/** `TensorProto.DataType` (onnx.proto): the dtype name of each number from 0. */
const ONNX_DTYPES = [
  'undefined float32 uint8 int8 uint16 int16 int32 int64 string bool float16 float64 uint32 uint64 complex64',
  'complex128 bfloat16 float8e4m3fn float8e4m3fnuz float8e5m2 float8e5m2fnuz uint4 int4 float4e2m1 float8e8m0',
]
  .join(' ')
  .split(' ');

function onnxDtype(code: number): string {
  return named(ONNX_DTYPES, code) ?? `onnx_type_${code}`;
}

/** The name at `code` in a numbering table; '-' marks a retired number. */
function named(table: readonly string[], code: number): string | undefined {
  const name = table[code];
  return name === undefined || name === '-' ? undefined : name;
}

/** Type nesting (sequence of map of optional of ...) deeper than this is refused. */
const MAX_TYPE_DEPTH = 16;

/**
 * Reads an ONNX `ModelProto`: the graph's inputs (minus initializers, which IR < 4 also lists as inputs) and
 * outputs, with element types and shapes. Metadata: `ir_version`, `producer_name`, `producer_version`,
 * `domain`, `model_version`, `opset` (the default `ai.onnx` domain) and `opset.<domain>` for others,
 * `graph_name`, `node_count`, `initializer_count`, `parameter_count` (from initializer dims) and
 * `meta.<key>` for `metadata_props`. A shape that is absent (unknown rank) is reported as `[]`.
 */
export function readOnnxSignature(bytes: Buffer): ModelSignature {
  const model = new ProtoReader(bytes, 'onnx');
  const metadata: Record<string, MetadataValue> = {};
  let graph: GraphSummary | undefined;
  let opsets = 0;
  while (model.next()) {
    switch (model.field) {
      case 1:
        model.expect(WIRE_VARINT, 'ir_version');
        metadata.ir_version = model.int64();
        break;
      case 2:
        model.expect(WIRE_LEN, 'producer_name');
        metadata.producer_name = model.string();
        break;
      case 3:
        model.expect(WIRE_LEN, 'producer_version');
        metadata.producer_version = model.string();
        break;
      case 4:
        model.expect(WIRE_LEN, 'domain');
        metadata.domain = model.string();
        break;
      case 5:
        model.expect(WIRE_VARINT, 'model_version');
        metadata.model_version = model.int64();
        break;
      case 7:
        model.expect(WIRE_LEN, 'graph');
        graph = readGraph(model.message('GraphProto'));
        break;
      case 8: {
        model.expect(WIRE_LEN, 'opset_import');
        const opset = readOpset(model.message('OperatorSetIdProto'));
        const isDefault = opset.domain === '' || opset.domain === 'ai.onnx';
        metadata[isDefault ? 'opset' : `opset.${opset.domain}`] = opset.version;
        opsets++;
        break;
      }
      case 14: {
        model.expect(WIRE_LEN, 'metadata_props');
        const entry = readStringEntry(model.message('StringStringEntryProto'));
        metadata[`meta.${entry.key}`] = entry.value;
        break;
      }
      default:
        model.skip();
    }
  }
  if (metadata.ir_version === undefined) invalid('onnx', 'ModelProto has no ir_version');
  if (graph === undefined) invalid('onnx', 'ModelProto has no graph');
  if (opsets === 0 && typeof metadata.ir_version === 'number' && metadata.ir_version >= 3) {
    invalid('onnx', 'ModelProto has no opset_import');
  }
  if (graph.name !== '') metadata.graph_name = graph.name;
  metadata.node_count = graph.nodeCount;
  metadata.initializer_count = graph.initializers.size;
  metadata.parameter_count = graph.parameterCount;
  return {
    format: 'onnx',
    inputs: graph.inputs.filter((input) => !graph.initializers.has(input.name)),
    outputs: graph.outputs,
    metadata,
  };
}

interface GraphSummary {
  name: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  initializers: Set<string>;
  nodeCount: number;
  parameterCount: number;
}

function readGraph(graph: ProtoReader): GraphSummary {
  const summary: GraphSummary = {
    name: '',
    inputs: [],
    outputs: [],
    initializers: new Set(),
    nodeCount: 0,
    parameterCount: 0,
  };
  while (graph.next()) {
    switch (graph.field) {
      case 1: // node: counted, never parsed (subgraphs and attributes stay unread)
        graph.expect(WIRE_LEN, 'node');
        graph.skip();
        summary.nodeCount++;
        break;
      case 2:
        graph.expect(WIRE_LEN, 'name');
        summary.name = graph.string();
        break;
      case 5: {
        graph.expect(WIRE_LEN, 'initializer');
        const tensor = readTensorHeader(graph.message('TensorProto'));
        summary.initializers.add(tensor.name);
        summary.parameterCount += elementCount(tensor.dims);
        break;
      }
      case 15: {
        graph.expect(WIRE_LEN, 'sparse_initializer');
        const tensor = readSparseTensorHeader(graph.message('SparseTensorProto'));
        summary.initializers.add(tensor.name);
        summary.parameterCount += elementCount(tensor.dims);
        break;
      }
      case 11:
        graph.expect(WIRE_LEN, 'input');
        summary.inputs.push(readValueInfo(graph.message('ValueInfoProto')));
        break;
      case 12:
        graph.expect(WIRE_LEN, 'output');
        summary.outputs.push(readValueInfo(graph.message('ValueInfoProto')));
        break;
      default:
        graph.skip();
    }
  }
  return summary;
}

function elementCount(dims: number[]): number {
  return dims.reduce((product, dim) => product * Math.max(dim, 0), 1);
}

/** A `TensorProto`'s name and dims; its data fields are skipped, not copied. */
function readTensorHeader(tensor: ProtoReader): { name: string; dims: number[] } {
  const result = { name: '', dims: [] as number[] };
  while (tensor.next()) {
    if (tensor.field === 1) tensor.int64s(result.dims);
    else if (tensor.field === 8) {
      tensor.expect(WIRE_LEN, 'name');
      result.name = tensor.string();
    } else tensor.skip();
  }
  return result;
}

function readSparseTensorHeader(sparse: ProtoReader): { name: string; dims: number[] } {
  let name = '';
  const dims: number[] = [];
  while (sparse.next()) {
    if (sparse.field === 1) {
      sparse.expect(WIRE_LEN, 'values');
      name = readTensorHeader(sparse.message('TensorProto')).name;
    } else if (sparse.field === 3) sparse.int64s(dims);
    else sparse.skip();
  }
  return { name, dims };
}

function readOpset(opset: ProtoReader): { domain: string; version: number } {
  const result = { domain: '', version: 0 };
  while (opset.next()) {
    if (opset.field === 1) {
      opset.expect(WIRE_LEN, 'domain');
      result.domain = opset.string();
    } else if (opset.field === 2) {
      opset.expect(WIRE_VARINT, 'version');
      result.version = opset.int64();
    } else opset.skip();
  }
  return result;
}

function readStringEntry(entry: ProtoReader): { key: string; value: string } {
  const result = { key: '', value: '' };
  while (entry.next()) {
    if (entry.field === 1 || entry.field === 2) {
      entry.expect(WIRE_LEN, entry.field === 1 ? 'key' : 'value');
      result[entry.field === 1 ? 'key' : 'value'] = entry.string();
    } else entry.skip();
  }
  return result;
}

function readValueInfo(info: ProtoReader): TensorSpec {
  let name = '';
  let type: { dtype: string; shape: (number | string | null)[] } = { dtype: 'undefined', shape: [] };
  while (info.next()) {
    if (info.field === 1) {
      info.expect(WIRE_LEN, 'name');
      name = info.string();
    } else if (info.field === 2) {
      info.expect(WIRE_LEN, 'type');
      type = readType(info.message('TypeProto'), 0);
    } else info.skip();
  }
  if (name === '') info.fail('a graph input or output has no name');
  return { name, ...type };
}

/**
 * A `TypeProto` as a dtype and shape. Tensors give their element type; other kinds are spelled out:
 * `sequence<float32>`, `map<int64,float32>`, `optional<...>`, `sparse<float32>` (with the sparse shape).
 */
function readType(type: ProtoReader, depth: number): { dtype: string; shape: (number | string | null)[] } {
  if (depth > MAX_TYPE_DEPTH) type.fail('type nested too deeply');
  let result: { dtype: string; shape: (number | string | null)[] } = { dtype: 'undefined', shape: [] };
  while (type.next()) {
    switch (type.field) {
      case 1: // tensor_type
        type.expect(WIRE_LEN, 'tensor_type');
        result = readTensorType(type.message('TypeProto.Tensor'));
        break;
      case 8: {
        type.expect(WIRE_LEN, 'sparse_tensor_type');
        const sparse = readTensorType(type.message('TypeProto.SparseTensor'));
        result = { dtype: `sparse<${sparse.dtype}>`, shape: sparse.shape };
        break;
      }
      case 4: // sequence_type { TypeProto elem_type = 1 }
      case 9: {
        // optional_type { TypeProto elem_type = 1 }
        type.expect(WIRE_LEN, type.field === 4 ? 'sequence_type' : 'optional_type');
        const kind = type.field === 4 ? 'sequence' : 'optional';
        const inner = type.message(`TypeProto.${kind}`);
        let element = { dtype: 'undefined', shape: [] as (number | string | null)[] };
        while (inner.next()) {
          if (inner.field === 1) {
            inner.expect(WIRE_LEN, 'elem_type');
            element = readType(inner.message('TypeProto'), depth + 1);
          } else inner.skip();
        }
        result = { dtype: `${kind}<${element.dtype}>`, shape: kind === 'optional' ? element.shape : [] };
        break;
      }
      case 5: {
        // map_type { int32 key_type = 1; TypeProto value_type = 2 }
        type.expect(WIRE_LEN, 'map_type');
        const map = type.message('TypeProto.Map');
        let key = 'undefined';
        let value = 'undefined';
        while (map.next()) {
          if (map.field === 1) {
            map.expect(WIRE_VARINT, 'key_type');
            key = onnxDtype(map.int64());
          } else if (map.field === 2) {
            map.expect(WIRE_LEN, 'value_type');
            value = readType(map.message('TypeProto'), depth + 1).dtype;
          } else map.skip();
        }
        result = { dtype: `map<${key},${value}>`, shape: [] };
        break;
      }
      default:
        type.skip();
    }
  }
  return result;
}

function readTensorType(tensor: ProtoReader): { dtype: string; shape: (number | string | null)[] } {
  let dtype = 'undefined';
  const shape: (number | string | null)[] = [];
  while (tensor.next()) {
    if (tensor.field === 1) {
      tensor.expect(WIRE_VARINT, 'elem_type');
      dtype = onnxDtype(tensor.int64());
    } else if (tensor.field === 2) {
      tensor.expect(WIRE_LEN, 'shape');
      const dims = tensor.message('TensorShapeProto');
      while (dims.next()) {
        if (dims.field === 1) {
          dims.expect(WIRE_LEN, 'dim');
          shape.push(readDimension(dims.message('TensorShapeProto.Dimension')));
        } else dims.skip();
      }
    } else tensor.skip();
  }
  return { dtype, shape };
}

function readDimension(dim: ProtoReader): number | string | null {
  let result: number | string | null = null;
  while (dim.next()) {
    if (dim.field === 1) {
      dim.expect(WIRE_VARINT, 'dim_value');
      const value = dim.int64();
      result = value >= 0 ? value : null;
    } else if (dim.field === 2) {
      dim.expect(WIRE_LEN, 'dim_param');
      const param = dim.string();
      result = param === '' ? null : param;
    } else dim.skip();
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// GGUF
// ---------------------------------------------------------------------------------------------------------------

const GGUF_CHUNK = 64 * 1024;
/** Limits far above any real model (a large MoE has a few thousand tensors and ~50 metadata keys). */
const GGUF_MAX_TENSORS = 1 << 20;
const GGUF_MAX_KV = 1 << 20;
const GGUF_MAX_KEY_BYTES = 65_535;
const GGUF_MAX_TENSOR_NAME_BYTES = 1024;
/** GGML_MAX_DIMS. */
const GGUF_MAX_DIMS = 4;
const GGUF_MAX_ARRAY_DEPTH = 8;
/** String values longer than this are summarised by length (and skipped), not loaded. */
const GGUF_MAX_STRING_VALUE = 1 << 20;
/** Arrays of at most this many scalars (or short strings) are kept, as JSON; longer ones become `type[n]`. */
const GGUF_SHORT_ARRAY = 16;
const GGUF_SHORT_ARRAY_STRING = 256;
const GGUF_DEFAULT_ALIGNMENT = 32;

const GGUF_TYPE_ARRAY = 9;
const GGUF_TYPE_STRING = 8;
/** GGUF value types 0-12 (gguf.md `gguf_metadata_value_type`). */
const GGUF_VALUE_TYPES = 'uint8 int8 uint16 int16 uint32 int32 float32 bool string array uint64 int64 float64'.split(
  ' ',
);
/** Byte size of the fixed-width GGUF value types (strings and arrays are variable). */
const GGUF_VALUE_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** `ggml_type` (ggml.h), from 0; '-' marks retired numbers. */
const GGML_TYPES = [
  'F32 F16 Q4_0 Q4_1 - - Q5_0 Q5_1 Q8_0 Q8_1 Q2_K Q3_K Q4_K Q5_K Q6_K Q8_K IQ2_XXS IQ2_XS IQ3_XXS IQ1_S IQ4_NL',
  'IQ3_S IQ2_S IQ4_XS I8 I16 I32 I64 F64 IQ1_M BF16 - - - TQ1_0 TQ2_0 - - - MXFP4',
]
  .join(' ')
  .split(' ');

/** `general.file_type` (llama.cpp's `llama_ftype`, "MOSTLY_" dropped), from 0: the model's quantisation. */
const GGUF_FILE_TYPES = [
  'F32 F16 Q4_0 Q4_1 - - - Q8_0 Q5_0 Q5_1 Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K IQ2_XXS',
  'IQ2_XS Q2_K_S IQ3_XS IQ3_XXS IQ1_S IQ4_NL IQ3_S IQ3_M IQ2_S IQ2_M IQ4_XS IQ1_M BF16 - - - TQ1_0 TQ2_0 MXFP4_MOE',
]
  .join(' ')
  .split(' ');

/** llama.cpp's `llama_pooling_type`. */
const GGUF_POOLING: Record<number, string> = {
  [-1]: 'unspecified',
  0: 'none',
  1: 'mean',
  2: 'cls',
  3: 'last',
  4: 'rank',
};
/** Encoder-only architectures: their GGUFs are embedding models. */
const EMBEDDING_ARCHITECTURES = new Set('bert nomic-bert nomic-bert-moe jina-bert-v2 neo-bert modern-bert'.split(' '));

/** A forward-only cursor over `read(offset, length)` with a 64 KiB window. */
class GgufCursor {
  pos = 0;
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  constructor(private readonly read: (offset: number, length: number) => Promise<Buffer>) {}

  /** Makes `n` bytes at `pos` available in the window. */
  private async need(n: number): Promise<number> {
    const at = this.pos - this.windowStart;
    if (at >= 0 && at + n <= this.window.length) return at;
    const chunk = await this.read(this.pos, Math.max(n, GGUF_CHUNK));
    if (chunk.length < n) invalid('gguf', `truncated at byte ${this.pos} (needed ${n} more bytes)`);
    this.window = chunk;
    this.windowStart = this.pos;
    return 0;
  }

  async bytes(n: number): Promise<Buffer> {
    const at = await this.need(n);
    this.pos += n;
    return this.window.subarray(at, at + n);
  }

  async u32(): Promise<number> {
    return (await this.bytes(4)).readUInt32LE(0);
  }

  /** A u64 that must be a safe integer (a count, length or offset). */
  async u64(what: string): Promise<number> {
    const value = (await this.bytes(8)).readBigUInt64LE(0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) invalid('gguf', `${what} ${value} is out of range`);
    return Number(value);
  }

  skip(n: number): void {
    if (this.pos + n > Number.MAX_SAFE_INTEGER) invalid('gguf', 'offset out of range');
    this.pos += n;
  }

  /** Fails unless the file reaches `pos` (bytes skipped over without reading are checked here). */
  async reached(): Promise<void> {
    if (this.pos <= this.windowStart + this.window.length) return;
    const last = await this.read(this.pos - 1, 1);
    if (last.length < 1) invalid('gguf', `truncated: the header runs to byte ${this.pos}, past the end of the file`);
  }

  /**
   * Skips `count` GGUF strings (a vocabulary: tens of thousands), reading lengths straight from the window and
   * awaiting only to refill it.
   */
  async skipStrings(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      let at = this.pos - this.windowStart;
      if (at < 0 || at + 8 > this.window.length) at = await this.need(8);
      const length = this.window.readBigUInt64LE(at);
      if (length > BigInt(Number.MAX_SAFE_INTEGER)) invalid('gguf', `string length ${length} is out of range`);
      this.pos += 8;
      this.skip(Number(length));
    }
  }

  /** A GGUF string (u64 length + UTF-8) of at most `max` bytes. */
  async string(max: number, what: string): Promise<string> {
    const length = await this.u64(`${what} length`);
    if (length > max) invalid('gguf', `${what} of ${length} bytes exceeds ${max}`);
    return (await this.bytes(length)).toString('utf8');
  }
}

/** A scalar GGUF value; u64/i64 beyond 2^53 become decimal strings. */
async function readGgufScalar(cursor: GgufCursor, type: number): Promise<MetadataValue> {
  const size = GGUF_VALUE_SIZE[type];
  if (size === undefined) return invalid('gguf', `unknown value type ${type}`);
  const b = await cursor.bytes(size);
  switch (type) {
    case 0:
      return b.readUInt8(0);
    case 1:
      return b.readInt8(0);
    case 2:
      return b.readUInt16LE(0);
    case 3:
      return b.readInt16LE(0);
    case 4:
      return b.readUInt32LE(0);
    case 5:
      return b.readInt32LE(0);
    case 6:
      return b.readFloatLE(0);
    case 7:
      if (b[0]! > 1) invalid('gguf', `bool value ${b[0]}`);
      return b[0] === 1;
    case 10:
      return safeNumber(b.readBigUInt64LE(0));
    case 11:
      return safeNumber(b.readBigInt64LE(0));
    default:
      return b.readDoubleLE(0);
  }
}

function safeNumber(value: bigint): number | string {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}

function valueTypeName(type: number): string {
  return GGUF_VALUE_TYPES[type] ?? invalid('gguf', `unknown value type ${type}`);
}

/**
 * Reads a GGUF value of `type`. Strings over 1 MiB and arrays longer than 16 (or of long strings, or nested)
 * are skipped and summarised as `string(N bytes)` / `type[length]`; `arrayLength` reports an array's length.
 */
async function readGgufValue(
  cursor: GgufCursor,
  type: number,
  depth: number,
): Promise<{ value: MetadataValue; arrayLength?: number }> {
  if (type === GGUF_TYPE_STRING) {
    const length = await cursor.u64('string length');
    if (length > GGUF_MAX_STRING_VALUE) {
      cursor.skip(length);
      return { value: `string(${length} bytes)` };
    }
    return { value: (await cursor.bytes(length)).toString('utf8') };
  }
  if (type !== GGUF_TYPE_ARRAY) return { value: await readGgufScalar(cursor, type) };

  if (depth >= GGUF_MAX_ARRAY_DEPTH) invalid('gguf', 'arrays nested too deeply');
  const itemType = await cursor.u32();
  const itemName = valueTypeName(itemType);
  const length = await cursor.u64('array length');
  const itemSize = GGUF_VALUE_SIZE[itemType];
  if (itemSize !== undefined) {
    if (length <= GGUF_SHORT_ARRAY) {
      const items: MetadataValue[] = [];
      for (let i = 0; i < length; i++) items.push(await readGgufScalar(cursor, itemType));
      return { value: JSON.stringify(items), arrayLength: length };
    }
    if (length > Number.MAX_SAFE_INTEGER / itemSize) invalid('gguf', `array length ${length} is out of range`);
    cursor.skip(length * itemSize);
    return { value: `${itemName}[${length}]`, arrayLength: length };
  }
  // Strings and nested arrays: walked item by item (each takes at least 8 bytes of the file, so a bogus length
  // runs into the end of the file rather than looping for ever); short arrays of short strings are kept.
  const summary = { value: `${itemName}[${length}]`, arrayLength: length };
  if (itemType === GGUF_TYPE_STRING && length > GGUF_SHORT_ARRAY) {
    await cursor.skipStrings(length);
    return summary;
  }
  const items: string[] = [];
  let keep = itemType === GGUF_TYPE_STRING;
  for (let i = 0; i < length; i++) {
    if (itemType === GGUF_TYPE_STRING) {
      const stringLength = await cursor.u64('string length');
      if (keep && stringLength <= GGUF_SHORT_ARRAY_STRING)
        items.push((await cursor.bytes(stringLength)).toString('utf8'));
      else {
        keep = false;
        cursor.skip(stringLength);
      }
    } else await readGgufValue(cursor, itemType, depth + 1);
  }
  return keep ? { value: JSON.stringify(items), arrayLength: length } : summary;
}

interface GgufTensorInfo {
  name: string;
  dims: number[];
  type: number;
  offset: number;
}

/**
 * Reads a GGUF header (v2/v3, little-endian) through `read(offset, length)`, which returns up to `length` bytes
 * at `offset` (fewer only at the end of the file); the tensor data is never requested.
 *
 * Inputs: `input_ids` int32 `['batch', context_length]`. Outputs: `logits` float32 `[vocab_size]` (the next
 * token's) for a causal LM; `embeddings` float32 `[embedding_length]` for an embedding model (an encoder
 * architecture such as `bert`, a pooling type other than none, or `<arch>.attention.causal` false; per-token
 * `['n_tokens', embedding_length]` with pooling none); `score` `[1]` for a reranker (pooling rank).
 *
 * Metadata: every key/value of the file (arrays summarised, see `readGgufValue`), plus `gguf_version`,
 * `architecture`, `name`, `context_length`, `embedding_length`, `block_count`, `file_type` (e.g. `Q8_0`),
 * `tokenizer_model`, `vocab_size`, `pooling_type`, `task` (`text-generation` | `embedding` | `rerank`),
 * `tensor_count`, `parameter_count`, `tensor_types` (e.g. `F16:14,F32:5,Q8_0:1`), `alignment`,
 * `tensor_data_offset`.
 */
export async function readGgufSignature(
  read: (offset: number, length: number) => Promise<Buffer>,
): Promise<ModelSignature> {
  const cursor = new GgufCursor(read);
  const magic = await cursor.bytes(4).catch((error: unknown) => {
    if (error instanceof AppError) invalid('gguf', 'shorter than its 4-byte magic');
    throw error; // an I/O error of `read` is not the file's fault
  });
  if (magic.toString('latin1') !== 'GGUF') invalid('gguf', `bad magic ${JSON.stringify(magic.toString('latin1'))}`);
  const version = await cursor.u32();
  if (version === 1) invalid('gguf', 'GGUF version 1 is not supported (v2 and v3 are)');
  if (version !== 2 && version !== 3) {
    const swapped = Buffer.alloc(4);
    swapped.writeUInt32BE(version);
    const bigEndian = swapped.readUInt32LE(0);
    invalid(
      'gguf',
      bigEndian === 2 || bigEndian === 3 ? 'big-endian GGUF is not supported' : `unknown version ${version}`,
    );
  }
  const tensorCount = await cursor.u64('tensor count');
  if (tensorCount > GGUF_MAX_TENSORS) invalid('gguf', `tensor count ${tensorCount} exceeds ${GGUF_MAX_TENSORS}`);
  const kvCount = await cursor.u64('metadata key count');
  if (kvCount > GGUF_MAX_KV) invalid('gguf', `metadata key count ${kvCount} exceeds ${GGUF_MAX_KV}`);

  const kv = new Map<string, MetadataValue>();
  const arrayLengths = new Map<string, number>();
  for (let i = 0; i < kvCount; i++) {
    const key = await cursor.string(GGUF_MAX_KEY_BYTES, 'metadata key');
    if (kv.has(key)) invalid('gguf', `duplicate metadata key '${key}'`);
    const { value, arrayLength } = await readGgufValue(cursor, await cursor.u32(), 0);
    kv.set(key, value);
    if (arrayLength !== undefined) arrayLengths.set(key, arrayLength);
  }

  const alignment = kv.get('general.alignment') ?? GGUF_DEFAULT_ALIGNMENT;
  if (
    typeof alignment !== 'number' ||
    alignment < 1 ||
    !Number.isInteger(alignment) ||
    (alignment & (alignment - 1)) !== 0
  ) {
    invalid('gguf', `general.alignment ${String(alignment)} is not a power of two`);
  }

  const tensors: GgufTensorInfo[] = [];
  const tensorTypes = new Map<string, number>();
  let parameterCount = 0;
  for (let i = 0; i < tensorCount; i++) {
    const name = await cursor.string(GGUF_MAX_TENSOR_NAME_BYTES, 'tensor name');
    const nDims = await cursor.u32();
    if (nDims > GGUF_MAX_DIMS) invalid('gguf', `tensor '${name}' has ${nDims} dimensions (at most ${GGUF_MAX_DIMS})`);
    const dims: number[] = [];
    let elements = 1;
    for (let d = 0; d < nDims; d++) {
      const dim = await cursor.u64(`tensor '${name}' dimension`);
      elements *= dim;
      dims.push(dim);
    }
    if (elements > Number.MAX_SAFE_INTEGER) invalid('gguf', `tensor '${name}' has too many elements`);
    const type = await cursor.u32();
    const offset = await cursor.u64(`tensor '${name}' offset`);
    if (offset % alignment !== 0) invalid('gguf', `tensor '${name}' offset ${offset} is not ${alignment}-aligned`);
    const typeName = named(GGML_TYPES, type) ?? `GGML_TYPE_${type}`;
    tensorTypes.set(typeName, (tensorTypes.get(typeName) ?? 0) + 1);
    parameterCount += elements;
    tensors.push({ name, dims, type, offset });
  }
  await cursor.reached();
  const dataOffset = Math.ceil(cursor.pos / alignment) * alignment;

  return ggufSignature(kv, arrayLengths, tensors, {
    gguf_version: version,
    tensor_count: tensorCount,
    parameter_count: parameterCount,
    tensor_types: [...tensorTypes]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, count]) => `${type}:${count}`)
      .join(','),
    alignment,
    tensor_data_offset: dataOffset,
  });
}

function ggufSignature(
  kv: Map<string, MetadataValue>,
  arrayLengths: Map<string, number>,
  tensors: GgufTensorInfo[],
  facts: Record<string, MetadataValue>,
): ModelSignature {
  const text = (key: string): string | null => {
    const value = kv.get(key);
    return typeof value === 'string' ? value : null;
  };
  const count = (key: string): number | null => {
    const value = kv.get(key);
    return typeof value === 'number' && Number.isInteger(value) ? value : null;
  };
  const architecture = text('general.architecture');
  const arch = architecture ?? '';
  const fileType = count('general.file_type');
  const poolingCode = count(`${arch}.pooling_type`);
  const pooling = poolingCode === null ? null : (GGUF_POOLING[poolingCode] ?? `pooling_${poolingCode}`);
  const tokenEmbedding = tensors.find((t) => t.name === 'token_embd.weight');
  const vocabSize =
    arrayLengths.get('tokenizer.ggml.tokens') ?? count(`${arch}.vocab_size`) ?? tokenEmbedding?.dims[1] ?? null;
  const contextLength = count(`${arch}.context_length`);
  const embeddingLength = count(`${arch}.embedding_length`) ?? tokenEmbedding?.dims[0] ?? null;

  const task =
    pooling === 'rank'
      ? 'rerank'
      : EMBEDDING_ARCHITECTURES.has(arch) ||
          (pooling !== null && pooling !== 'none' && pooling !== 'unspecified') ||
          kv.get(`${arch}.attention.causal`) === false
        ? 'embedding'
        : 'text-generation';

  const inputs: TensorSpec[] = [{ name: 'input_ids', dtype: 'int32', shape: ['batch', contextLength ?? 'n_ctx'] }];
  let outputs: TensorSpec[];
  if (task === 'rerank') outputs = [{ name: 'score', dtype: 'float32', shape: [1] }];
  else if (task === 'embedding') {
    const width = embeddingLength ?? 'n_embd';
    outputs = [{ name: 'embeddings', dtype: 'float32', shape: pooling === 'none' ? ['n_tokens', width] : [width] }];
  } else outputs = [{ name: 'logits', dtype: 'float32', shape: [vocabSize ?? 'n_vocab'] }];

  const metadata: Record<string, MetadataValue> = Object.fromEntries(kv);
  Object.assign(metadata, {
    architecture,
    name: text('general.name'),
    context_length: contextLength,
    embedding_length: embeddingLength,
    block_count: count(`${arch}.block_count`),
    file_type: fileType === null ? null : (named(GGUF_FILE_TYPES, fileType) ?? `file_type_${fileType}`),
    tokenizer_model: text('tokenizer.ggml.model'),
    vocab_size: vocabSize,
    pooling_type: pooling,
    task,
    ...facts,
  });
  return { format: 'gguf', inputs, outputs, metadata };
}

// ---------------------------------------------------------------------------------------------------------------
// safetensors
// ---------------------------------------------------------------------------------------------------------------

/** Bytes per element of the safetensors dtypes; an unknown dtype is accepted without a size check. */
const SAFETENSORS_DTYPE_BYTES = new Map(
  Object.entries({
    1: 'BOOL U8 I8 F8_E5M2 F8_E4M3',
    2: 'U16 I16 F16 BF16',
    4: 'U32 I32 F32',
    8: 'U64 I64 F64',
  }).flatMap(([size, dtypes]) => dtypes.split(' ').map((dtype) => [dtype, Number(size)] as const)),
);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Reads a safetensors header from `head` (the first `8 + header length` bytes of the file, or more). A
 * safetensors file holds weights, not a graph: inputs and outputs are empty. Metadata: `header_size`,
 * `tensor_count`, `parameter_count`, `dtypes` (e.g. `F16:10,F32:2`) and `meta.<key>` for `__metadata__`.
 */
export function readSafetensorsSignature(head: Buffer): ModelSignature {
  if (head.length < 8) invalid('safetensors', 'shorter than its 8-byte header length');
  const declared = head.readBigUInt64LE(0);
  if (declared > BigInt(SAFETENSORS_MAX_HEADER)) invalid('safetensors', `header length ${declared} exceeds 100 MB`);
  const headerLength = Number(declared);
  if (head.length < 8 + headerLength) {
    invalid(
      'safetensors',
      `header of ${headerLength} bytes, but only ${head.length - 8} given (read more of the file)`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(head.toString('utf8', 8, 8 + headerLength));
  } catch {
    return invalid('safetensors', 'header is not JSON');
  }
  if (!isRecord(header)) return invalid('safetensors', 'header is not a JSON object');

  const metadata: Record<string, MetadataValue> = { header_size: headerLength };
  const dtypes = new Map<string, number>();
  let tensorCount = 0;
  let parameterCount = 0;
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isRecord(entry)) invalid('safetensors', '__metadata__ is not an object');
      for (const [key, value] of Object.entries(entry)) {
        if (typeof value !== 'string') invalid('safetensors', `__metadata__.${key} is not a string`);
        metadata[`meta.${key}`] = value;
      }
      continue;
    }
    if (!isRecord(entry)) return invalid('safetensors', `tensor '${name}' is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string') invalid('safetensors', `tensor '${name}' has no dtype`);
    if (!Array.isArray(shape) || !shape.every(isCount)) invalid('safetensors', `tensor '${name}' has a bad shape`);
    const [begin, end] = Array.isArray(offsets) ? (offsets as unknown[]) : [];
    if (!Array.isArray(offsets) || offsets.length !== 2 || !isCount(begin) || !isCount(end) || end < begin) {
      return invalid('safetensors', `tensor '${name}' has bad data_offsets`);
    }
    const elements = (shape as number[]).reduce((product, dim) => product * dim, 1);
    const size = SAFETENSORS_DTYPE_BYTES.get(dtype);
    if (size !== undefined && elements * size !== end - begin) {
      invalid('safetensors', `tensor '${name}' is ${end - begin} bytes, its shape needs ${elements * size}`);
    }
    dtypes.set(dtype, (dtypes.get(dtype) ?? 0) + 1);
    tensorCount++;
    parameterCount += elements;
  }
  metadata.tensor_count = tensorCount;
  metadata.parameter_count = parameterCount;
  metadata.dtypes = [...dtypes]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([dtype, n]) => `${dtype}:${n}`)
    .join(',');
  return { format: 'safetensors', inputs: [], outputs: [], metadata };
}
