import type { AttributeValue, Graph, Initializer, Node, ValueInfo } from '#platform/builtin-training/onnx';
import { AppError } from '#shared/errors';

/**
 * Reads back what the built-in trainers' ONNX writer (#platform/builtin-training/onnx) writes: the graph's nodes,
 * initializers (raw little-endian FLOAT or INT64 data), inputs and outputs. Not a general ONNX reader: fields the
 * writer never writes are skipped.
 */
export function decodeBuiltinGraph(bytes: Uint8Array): Graph {
  let graph: Graph | null = null;
  for (const f of fields(bytes)) if (f.field === 7) graph = readGraph(f.bytes());
  if (!graph) throw new AppError('INVALID_ARGUMENT', 'the ONNX model has no graph');
  return graph;
}

interface Field {
  field: number;
  /** The varint value (wire type 0). */
  int: bigint;
  /** The float value (wire type 5). */
  float: number;
  /** The length-delimited payload (wire type 2). */
  bytes(): Uint8Array;
  text(): string;
}

function* fields(buf: Uint8Array): Generator<Field> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[at++];
      if (byte === undefined) throw new AppError('INVALID_ARGUMENT', 'the ONNX model is truncated');
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
      shift += 7n;
    }
  };
  while (at < buf.length) {
    const tag = Number(varint());
    const wire = tag & 7;
    const field = tag >> 3;
    let int = 0n;
    let float = 0;
    let payload: Uint8Array = new Uint8Array(0);
    if (wire === 0) int = varint();
    else if (wire === 5) {
      float = view.getFloat32(at, true);
      at += 4;
    } else if (wire === 1) at += 8;
    else if (wire === 2) {
      const length = Number(varint());
      payload = buf.subarray(at, at + length);
      at += length;
    } else throw new AppError('INVALID_ARGUMENT', `the ONNX model has a field of wire type ${wire}`);
    const bytes = payload;
    yield { field, int, float, bytes: () => bytes, text: () => new TextDecoder().decode(bytes) };
  }
}

function readGraph(buf: Uint8Array): Graph {
  const graph: Graph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [] };
  for (const f of fields(buf)) {
    if (f.field === 1) graph.nodes.push(readNode(f.bytes()));
    else if (f.field === 2) graph.name = f.text();
    else if (f.field === 5) graph.initializers.push(readTensor(f.bytes()));
    else if (f.field === 11) graph.inputs.push(readValueInfo(f.bytes()));
    else if (f.field === 12) graph.outputs.push(readValueInfo(f.bytes()));
  }
  return graph;
}

function readNode(buf: Uint8Array): Node {
  const node: Node = { op: '', inputs: [], outputs: [], attributes: {} };
  for (const f of fields(buf)) {
    if (f.field === 1) node.inputs.push(f.text());
    else if (f.field === 2) node.outputs.push(f.text());
    else if (f.field === 4) node.op = f.text();
    else if (f.field === 5) {
      const [name, value] = readAttribute(f.bytes());
      (node.attributes as Record<string, AttributeValue>)[name] = value;
    }
  }
  return node;
}

function readAttribute(buf: Uint8Array): [string, AttributeValue] {
  let name = '';
  let type = 0;
  let float = 0;
  let int = 0;
  let text = '';
  const ints: number[] = [];
  for (const f of fields(buf)) {
    if (f.field === 1) name = f.text();
    else if (f.field === 2) float = f.float;
    else if (f.field === 3) int = Number(BigInt.asIntN(64, f.int));
    else if (f.field === 4) text = f.text();
    else if (f.field === 8) ints.push(Number(BigInt.asIntN(64, f.int)));
    else if (f.field === 20) type = Number(f.int);
  }
  // AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, INTS 7 (the ones the writer writes).
  const value: AttributeValue = type === 1 ? { float } : type === 3 ? text : type === 7 ? ints : int;
  return [name, value];
}

function readTensor(buf: Uint8Array): Initializer {
  const dims: number[] = [];
  let dataType = 0;
  let name = '';
  let raw: Uint8Array = new Uint8Array(0);
  for (const f of fields(buf)) {
    if (f.field === 1) dims.push(Number(f.int));
    else if (f.field === 2) dataType = Number(f.int);
    else if (f.field === 8) name = f.text();
    else if (f.field === 9) raw = f.bytes();
  }
  // Copied: the raw bytes need not be aligned for a typed array over them.
  const copy = raw.slice().buffer;
  if (dataType === 1) return { name, dims, data: new Float32Array(copy) };
  if (dataType === 7) return { name, dims, data: new BigInt64Array(copy) };
  throw new AppError('INVALID_ARGUMENT', `initializer '${name}' has ONNX data type ${dataType}`);
}

function readValueInfo(buf: Uint8Array): ValueInfo {
  let name = '';
  let elemType = 1;
  const shape: (number | string)[] = [];
  for (const f of fields(buf)) {
    if (f.field === 1) name = f.text();
    else if (f.field === 2)
      for (const type of fields(f.bytes()))
        if (type.field === 1)
          for (const tensor of fields(type.bytes())) {
            if (tensor.field === 1) elemType = Number(tensor.int);
            else if (tensor.field === 2)
              for (const dim of fields(tensor.bytes()))
                if (dim.field === 1)
                  for (const d of fields(dim.bytes())) shape.push(d.field === 1 ? Number(d.int) : d.text());
          }
  }
  return { name, elemType: elemType === 7 ? 7 : 1, shape };
}
