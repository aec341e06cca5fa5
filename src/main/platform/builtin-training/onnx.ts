/**
 * A small ONNX writer: the protobuf encoding of ModelProto and the messages it holds (onnx/onnx.proto, IR version
 * 7, opset 13), enough for the built-in trainers' graphs. Repeated scalars are written unpacked, which every
 * protobuf reader accepts (onnx.proto is proto2, where that is the default).
 */

/** onnx.proto's TensorProto.DataType values that the graphs use. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
type DataTypeCode = (typeof DataType)[keyof typeof DataType];

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

/** Appends protobuf fields to a growing buffer. */
class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(value: bigint): void {
    // Negative int64 values take ten bytes: their two's complement as an unsigned 64-bit number.
    let v = BigInt.asUintN(64, value);
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.push(Uint8Array.from(bytes));
  }

  private tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.varint(BigInt(value));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_BYTES);
    this.varint(BigInt(value.length));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

/** A constant of the graph (weights, shapes). Float data is written as little-endian raw_data. */
export interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export type AttributeValue = number | number[] | string | { float: number };

export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integers (`axis: 1`, `kernel_shape: [3, 3]`), floats as `{ float: x }`, strings. */
  attributes?: Record<string, AttributeValue>;
}

export interface ValueInfo {
  name: string;
  elemType: DataTypeCode;
  /** A number is a fixed size, a string a named dynamic dimension. */
  shape: (number | string)[];
}

export interface Graph {
  name: string;
  nodes: Node[];
  initializers: Initializer[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

function writeAttribute(w: ProtoWriter, name: string, value: AttributeValue): void {
  w.string(1, name);
  if (typeof value === 'number') w.int(3, value).int(20, ATTRIBUTE_TYPE.INT);
  else if (typeof value === 'string') w.string(4, value).int(20, ATTRIBUTE_TYPE.STRING);
  else if (Array.isArray(value)) {
    for (const v of value) w.int(8, v);
    w.int(20, ATTRIBUTE_TYPE.INTS);
  } else w.float(2, value.float).int(20, ATTRIBUTE_TYPE.FLOAT);
}

function writeTensor(w: ProtoWriter, tensor: Initializer): void {
  for (const d of tensor.dims) w.int(1, d);
  w.int(2, tensor.data instanceof Float32Array ? DataType.FLOAT : DataType.INT64);
  w.string(8, tensor.name);
  const raw = new Uint8Array(tensor.data.byteLength);
  const view = new DataView(raw.buffer);
  if (tensor.data instanceof Float32Array) tensor.data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else tensor.data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  w.bytes(9, raw);
}

function writeValueInfo(w: ProtoWriter, info: ValueInfo): void {
  w.string(1, info.name);
  // TypeProto.tensor_type → elem_type, shape.dim[] (dim_value | dim_param).
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, info.elemType);
      tensor.message(2, (shape) => {
        for (const d of info.shape)
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

export interface ModelInfo {
  producerVersion: string;
  docString: string;
  /** Written as metadata_props (key/value strings). */
  metadata: Record<string, string>;
}

export const OPSET = 13;
const IR_VERSION = 7;

/** Serialises a graph as an ONNX ModelProto (IR 7, default domain opset 13). */
export function encodeModel(graph: Graph, info: ModelInfo): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, IR_VERSION);
  w.string(2, 'aidos-builtin-trainer');
  w.string(3, info.producerVersion);
  w.string(6, info.docString);
  w.message(7, (g) => {
    graph.nodes.forEach((node, i) =>
      g.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input);
        for (const output of node.outputs) n.string(2, output);
        n.string(3, `${node.op.toLowerCase()}_${i}`);
        n.string(4, node.op);
        for (const [name, value] of Object.entries(node.attributes ?? {}))
          n.message(5, (a) => writeAttribute(a, name, value));
      }),
    );
    g.string(2, graph.name);
    for (const init of graph.initializers) g.message(5, (t) => writeTensor(t, init));
    for (const input of graph.inputs) g.message(11, (v) => writeValueInfo(v, input));
    for (const output of graph.outputs) g.message(12, (v) => writeValueInfo(v, output));
  });
  w.message(8, (opset) => opset.string(1, '').int(2, OPSET));
  for (const [key, value] of Object.entries(info.metadata)) w.message(14, (kv) => kv.string(1, key).string(2, value));
  return w.finish();
}

/** Builds a graph node by node, naming intermediate values. */
export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Initializer[] = [];
  private counter = 0;

  constant(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    this.initializers.push({ name, dims, data });
    return name;
  }

  /** Adds a node with one output and returns the output's name (`output` when given, else a fresh one). */
  op(op: string, inputs: string[], attributes?: Record<string, AttributeValue>, output?: string): string {
    const name = output ?? `${op.toLowerCase()}_out_${this.counter++}`;
    this.nodes.push({ op, inputs, outputs: [name], ...(attributes ? { attributes } : {}) });
    return name;
  }
}
